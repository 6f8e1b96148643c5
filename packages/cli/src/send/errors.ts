/** Errors of `qwp send`: each has a `code` and names the input at fault. */
export class SendError extends Error {
  override name = 'SendError';
  constructor(
    readonly code: 'ERR_QWP_CLI_INPUT' | 'ERR_QWP_CLI_BAD_ROW' | 'ERR_QWP_CLI_CHECKPOINT',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The input cannot be opened or has no usable header / schema. Nothing was sent. */
export class InputError extends SendError {
  override name = 'InputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_CLI_INPUT', message, options);
  }
}

/**
 * A row that cannot be read or encoded: `where` is its place in the input
 * (`line 12` for CSV and NDJSON, `row 5` for Parquet, 0-based) and `index`
 * its 0-based position among the data rows.
 */
export class BadRowError extends SendError {
  override name = 'BadRowError';
  constructor(
    readonly where: string,
    readonly index: number,
    readonly column: string | undefined,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ERR_QWP_CLI_BAD_ROW',
      `${where}${column === undefined ? '' : `, column '${column}'`}: ${reason}`,
      options,
    );
  }
}

/** The checkpoint of an interrupted import does not fit this run, or cannot be written. */
export class CheckpointError extends SendError {
  override name = 'CheckpointError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_CLI_CHECKPOINT', message, options);
  }
}
