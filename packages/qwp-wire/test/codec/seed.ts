/** Seed for fuzz and property tests: QWP_TEST_SEED overrides the fixed default. */
export const SEED = Number(process.env.QWP_TEST_SEED ?? 20261123);
/** QWP_TEST_LONG=1 runs the long versions. */
export const LONG = process.env.QWP_TEST_LONG === '1';
