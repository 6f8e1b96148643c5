import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { QwpError } from '../../src/errors.js';
import { EGRESS_BACKOFF } from '../../src/failover/backoff.js';
import {
  backoffBaseMs,
  equalJitterMs,
  fullJitterMs,
  INGRESS_BACKOFF,
  ReconnectBackoff,
  reconnectDelayMs,
} from '../../src/failover/index.js';
import { LONG, SEED, mulberry32 as seeded } from '../seed.js';

const RUNS = LONG ? 20_000 : 300;

describe('backoff', () => {
  test('ingress base doubles from 100 ms and caps at 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffBaseMs(INGRESS_BACKOFF, n))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000,
    ]);
  });

  test('egress defaults are 50 ms → 1 s', () => {
    expect([0, 4, 5].map((n) => backoffBaseMs(EGRESS_BACKOFF, n))).toEqual([50, 800, 1000]);
  });

  test('a negative or fractional attempt is rejected', () => {
    expect(() => backoffBaseMs(INGRESS_BACKOFF, -1)).toThrow(QwpError);
    expect(() => backoffBaseMs(INGRESS_BACKOFF, 1.5)).toThrow(QwpError);
  });

  test('equal jitter lands in [base, 2·base) and full jitter in [0, base) (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (base, r) => {
          const equal = equalJitterMs(base, () => r);
          expect(equal).toBeGreaterThanOrEqual(base);
          expect(equal).toBeLessThan(2 * base);
          const full = fullJitterMs(base, () => r);
          expect(full).toBeGreaterThanOrEqual(0);
          expect(full).toBeLessThan(base);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('jitter endpoints follow the random source', () => {
    expect(equalJitterMs(100, () => 0)).toBe(100);
    expect(equalJitterMs(100, () => 0.999999)).toBe(199);
    expect(fullJitterMs(100, () => 0.5)).toBe(50);
  });

  test('the delay is clamped to the remaining outage budget', () => {
    expect(reconnectDelayMs(INGRESS_BACKOFF, 10, () => 0.5, 1234)).toBe(1234);
    expect(reconnectDelayMs(INGRESS_BACKOFF, 0, () => 0.5, 10_000)).toBe(150);
    expect(reconnectDelayMs(INGRESS_BACKOFF, 0, () => 0.5, -5)).toBe(0);
    expect(reconnectDelayMs(INGRESS_BACKOFF, 0, () => 0.5)).toBe(150);
  });

  test('ReconnectBackoff grows after transport rounds and restarts after role-only rounds', () => {
    const b = new ReconnectBackoff(INGRESS_BACKOFF, () => 0);
    expect([1, 2, 3].map(() => b.nextDelayMs('exponential'))).toEqual([100, 200, 400]);
    expect(b.nextDelayMs('initial')).toBe(100);
    expect(b.nextDelayMs('exponential')).toBe(100);
    expect(b.nextDelayMs('exponential')).toBe(200);
    b.reset();
    expect(b.nextDelayMs('exponential')).toBe(100);
  });

  test('a seeded source gives a reproducible schedule within bounds', () => {
    const run = () => {
      const b = new ReconnectBackoff({ initialMs: 100, maxMs: 5000 }, seeded(SEED));
      return Array.from({ length: 12 }, () => b.nextDelayMs('exponential'));
    };
    const first = run();
    expect(run()).toEqual(first);
    first.forEach((delay, i) => {
      const base = Math.min(100 * 2 ** i, 5000);
      expect(delay).toBeGreaterThanOrEqual(base);
      expect(delay).toBeLessThan(2 * base);
    });
  });

  test.each([
    { initialMs: 0, maxMs: 10 },
    { initialMs: 100, maxMs: 50 },
    { initialMs: Number.NaN, maxMs: 50 },
  ])('policy %o is rejected', (policy) => {
    expect(() => new ReconnectBackoff(policy)).toThrow(QwpError);
  });
});
