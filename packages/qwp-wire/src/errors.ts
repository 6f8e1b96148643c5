/**
 * Every error @qwp/qwp-wire throws on purpose is a QwpError with a stable
 * `code`, a message that names the input at fault, and the cause attached.
 */
export class QwpError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Stable codes of {@link ConnectStringError}. */
export type ConnectStringErrorCode =
  | 'ERR_QWP_CONFIG_SYNTAX'
  | 'ERR_QWP_CONFIG_SCHEMA'
  | 'ERR_QWP_CONFIG_UNKNOWN_KEY'
  | 'ERR_QWP_CONFIG_BAD_VALUE'
  | 'ERR_QWP_CONFIG_MISSING_KEY'
  | 'ERR_QWP_CONFIG_CONFLICT';

/**
 * A connect string was rejected. `key` names the key at fault (undefined for
 * grammar errors before any key), `position` the character offset where the
 * grammar broke (undefined for value errors). Never carries a secret value.
 */
export class ConnectStringError extends QwpError {
  declare readonly code: ConnectStringErrorCode;
  readonly key: string | undefined;
  readonly position: number | undefined;

  constructor(
    code: ConnectStringErrorCode,
    message: string,
    details: { key?: string; position?: number; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.key = details.key;
    this.position = details.position;
  }

  /** ERR_QWP_CONFIG_BAD_VALUE for `key`, the message led by the key's name. */
  static badValue(key: string, message: string): ConnectStringError {
    return new ConnectStringError('ERR_QWP_CONFIG_BAD_VALUE', `${key}: ${message}`, { key });
  }
}

/** Stable codes of {@link ServerInfoError}. */
export type ServerInfoErrorCode =
  | 'ERR_QWP_SERVER_INFO_TRUNCATED'
  | 'ERR_QWP_SERVER_INFO_MAGIC'
  | 'ERR_QWP_SERVER_INFO_KIND'
  | 'ERR_QWP_SERVER_INFO_UTF8'
  | 'ERR_QWP_SERVER_INFO_FIELD_TOO_LONG';

/**
 * A SERVER_INFO frame could not be decoded. `field` names the field being
 * read when the frame ran out or went wrong; `offset` is its byte offset in
 * the frame.
 */
export class ServerInfoError extends QwpError {
  declare readonly code: ServerInfoErrorCode;
  readonly field: string;
  readonly offset: number;

  constructor(
    code: ServerInfoErrorCode,
    message: string,
    field: string,
    offset: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.field = field;
    this.offset = offset;
  }
}

/** A host-tracker call named a host index outside the configured address list. */
export class HostIndexError extends QwpError {
  declare readonly code: 'ERR_QWP_HOST_INDEX';
  readonly index: number;

  constructor(index: number, hostCount: number) {
    super(
      'ERR_QWP_HOST_INDEX',
      `host index ${index} is outside the address list (0..${hostCount - 1})`,
    );
    this.index = index;
  }
}

/**
 * A QWP message or response frame was rejected by the strict decoder.
 * `status` is the response status a server answers with (PARSE_ERROR, or
 * DICTIONARY_GAP when the symbol delta starts past the connection dictionary),
 * `offset` the byte offset in the frame where decoding stopped, `reason` the
 * bare explanation (the message also carries the offset).
 */
export class QwpDecodeError extends QwpError {
  declare readonly code: 'ERR_QWP_DECODE';
  readonly status: number;
  readonly offset: number;
  readonly reason: string;

  constructor(status: number, offset: number, reason: string, options?: { cause?: unknown }) {
    super('ERR_QWP_DECODE', `${reason} (at byte ${offset})`, options);
    this.status = status;
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * The row API or `appendColumns` refused a value, name or type. Names the
 * table, the column (undefined for table-level problems), the value and,
 * for `appendColumns`, the row index within the call where there is one;
 * the rows already buffered are intact, the half-written row (or the whole
 * call) has been discarded.
 */
export class QwpInvalidValueError extends QwpError {
  declare readonly code: 'ERR_QWP_INVALID_VALUE';
  readonly table: string;
  readonly column: string | undefined;
  readonly value: unknown;
  /** Index of the refused row within an `appendColumns` call; undefined otherwise. */
  readonly row: number | undefined;

  constructor(
    table: string,
    column: string | undefined,
    value: unknown,
    problem: string,
    options?: { cause?: unknown; row?: number },
  ) {
    let where = column === undefined ? `table '${table}'` : `table '${table}', column '${column}'`;
    if (options?.row !== undefined) where += `, row ${options.row}`;
    super(
      'ERR_QWP_INVALID_VALUE',
      `${where}: ${problem} (value: ${describeValue(value)})`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.table = table;
    this.column = column;
    this.value = value;
    this.row = options?.row;
  }
}

/** The encoder could not fit something into the negotiated max batch size. */
export class QwpBatchSizeError extends QwpError {
  declare readonly code: 'ERR_QWP_BATCH_SIZE';
  readonly needed: number;
  readonly limit: number;

  constructor(what: string, needed: number, limit: number) {
    super(
      'ERR_QWP_BATCH_SIZE',
      `${what} needs ${needed} bytes in one frame, over the max batch size of ${limit} bytes`,
    );
    this.needed = needed;
    this.limit = limit;
  }
}

function describeValue(value: unknown): string {
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name}(${(value as Uint8Array).length ?? value.byteLength})`;
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return String(value);
}
