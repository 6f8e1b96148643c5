import type { Suite } from '../suite.js';

/** Every suite, in the order `bench` runs them. Each issue adds its own. */
export const suites: Suite[] = [];
