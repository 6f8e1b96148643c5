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

/** How a suite is asked to run. */
export interface SuiteOptions {
  /** A short run for smoke tests and the README's main job. */
  quick: boolean;
}

/** One benchmark, registered in suites/index.ts and chosen by `name` on the command line. */
export interface Suite {
  /** The command-line name, also the JSON file's name in bench-results/. */
  name: string;
  /** One line on what is measured against what. */
  description: string;
  run(options: SuiteOptions): Promise<SuiteResult>;
}
