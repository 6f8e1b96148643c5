/** What one benchmark suite reports: a table for people and raw data for machines. */
export interface SuiteResult {
  suite: string;
  /** How it was measured: sizes, iterations, which peer versions, server mode... */
  notes: string[];
  columns: string[];
  rows: (string | number)[][];
  /** Raw figures, written to bench-results/<suite>.json. */
  data: unknown;
}

export interface SuiteOptions {
  /** A short run for smoke tests and the README's main job. */
  quick: boolean;
}

export interface Suite {
  name: string;
  description: string;
  run(options: SuiteOptions): Promise<SuiteResult>;
}
