import { describe, expect, it } from 'vitest';
import { pairedRatios, quantile, slope, spread, tail } from '../src/stats.js';

describe('quantile', () => {
  it('interpolates between neighbours and clamps q', () => {
    const s = [10, 20, 30, 40];
    expect(quantile(s, 0)).toBe(10);
    expect(quantile(s, 1)).toBe(40);
    expect(quantile(s, 0.5)).toBe(25);
    expect(quantile(s, 1 / 3)).toBeCloseTo(20);
    expect(quantile(s, 2)).toBe(40);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('spread', () => {
  it('gives median, min and max without reordering the values', () => {
    const r = spread([5, 1, 3]);
    expect(r).toEqual({ median: 3, min: 1, max: 5, values: [5, 1, 3] });
    expect(spread([4, 2]).median).toBe(3);
  });
});

describe('tail', () => {
  it('reads the percentiles of 1..1000', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    const t = tail(samples);
    expect(t.count).toBe(1000);
    expect(t.p50).toBeCloseTo(500.5);
    expect(t.p99).toBeCloseTo(990.01);
    expect(t.p999).toBeCloseTo(999.001);
    expect(t.max).toBe(1000);
  });

  it('sorts typed arrays numerically', () => {
    const t = tail(new Float64Array([100, 9, 20]));
    expect(t.p50).toBe(20);
    expect(t.max).toBe(100);
  });
});

describe('slope', () => {
  it('fits a line through noisy points', () => {
    const xs = [0, 1, 2, 3, 4];
    expect(slope(xs, [1, 3, 5, 7, 9])).toBeCloseTo(2);
    expect(slope(xs, [5, 5, 5, 5, 5])).toBe(0);
    expect(slope(xs, [0, 1.1, 1.9, 3.05, 3.95])).toBeCloseTo(0.985, 3);
  });

  it('is NaN when x does not vary', () => {
    expect(slope([2, 2], [1, 5])).toBeNaN();
    expect(slope([1], [1])).toBeNaN();
  });
});

describe('pairedRatios', () => {
  it('divides run by run over the pairs both hold', () => {
    const r = pairedRatios([10, 40, 90, 7], [2, 4, 10]);
    expect(r.values).toEqual([5, 10, 9]);
    expect(r.median).toBe(9);
    expect(r.min).toBe(5);
    expect(pairedRatios([], [1]).values).toEqual([]);
  });
});
