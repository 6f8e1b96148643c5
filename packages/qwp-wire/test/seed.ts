/** Seed for fuzz and property tests: QWP_TEST_SEED overrides the fixed default. */
export const SEED = Number(process.env.QWP_TEST_SEED ?? 20261123);
/** QWP_TEST_LONG=1 runs the long versions. */
export const LONG = process.env.QWP_TEST_LONG === '1';

/** A small, fast seeded uniform [0, 1) source (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
