/** Small statistics for benchmark runs: medians and spreads over repetitions, tails, trends. */

/** The value at quantile `q` (0..1) of ascending `sorted`, interpolated between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Median, minimum and maximum of repeated measurements of one figure. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every value, in the order measured. */
  values: number[];
}

/** The {@link Spread} of `values` (NaN figures when there are none). */
export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    values: [...values],
  };
}

/**
 * The {@link Spread} of `a[i] / b[i]` over the pairs both hold: a ratio
 * measured round by round, so that load shared by both runs of a round
 * cancels out.
 */
export function pairedRatios(a: readonly number[], b: readonly number[]): Spread {
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(a[i]! / b[i]!);
  return spread(out);
}

/** Latency percentiles of one run, in the unit of the samples. */
export interface Tail {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

/** p50 / p99 / p99.9 / max of `samples` (sorted in place). */
export function tail(samples: number[] | Float64Array): Tail {
  samples.sort((a, b) => a - b);
  const sorted = samples as ArrayLike<number> as readonly number[];
  return {
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    count: samples.length,
  };
}

/** Least-squares slope of `ys` against `xs` (NaN with fewer than two distinct x). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}
