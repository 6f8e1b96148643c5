/**
 * QWP v1 ingress wire constants: header layout, flags, column type codes,
 * response status codes and the server's protocol limits
 * (qwp-ingress-websocket.md; QwpConstants.java in the server).
 */

/** "QWP1" read as a little-endian uint32. */
export const MAGIC = 0x31505751;
/** The only protocol version. */
export const VERSION = 1;
/** Size of the fixed message header. */
export const HEADER_SIZE = 12;

/** Append rows without committing; a later frame with the flag clear commits them. */
export const FLAG_DEFER_COMMIT = 0x01;
/** TIMESTAMP / TIMESTAMP_NANOS columns carry an encoding byte (0 plain, 1 Gorilla). */
export const FLAG_GORILLA = 0x04;
/** The payload starts with a delta of the connection-wide symbol dictionary. */
export const FLAG_DELTA_SYMBOL_DICT = 0x08;
/** Every flag bit an ingress message may set; the rest are reserved and must be 0. */
export const FLAGS_KNOWN = FLAG_DEFER_COMMIT | FLAG_GORILLA | FLAG_DELTA_SYMBOL_DICT;

/** Timestamp column encoding byte (present only with FLAG_GORILLA): plain int64 values. */
export const ENCODING_UNCOMPRESSED = 0x00;
/** Timestamp column encoding byte: Gorilla delta-of-delta bit stream (see gorilla.ts). */
export const ENCODING_GORILLA = 0x01;

/** Column type codes. 0x08 (formerly STRING) is unassigned and rejected. */
export const ColumnType = {
  BOOLEAN: 0x01,
  BYTE: 0x02,
  SHORT: 0x03,
  INT: 0x04,
  LONG: 0x05,
  FLOAT: 0x06,
  DOUBLE: 0x07,
  SYMBOL: 0x09,
  TIMESTAMP: 0x0a,
  DATE: 0x0b,
  UUID: 0x0c,
  LONG256: 0x0d,
  GEOHASH: 0x0e,
  VARCHAR: 0x0f,
  TIMESTAMP_NANOS: 0x10,
  DOUBLE_ARRAY: 0x11,
  LONG_ARRAY: 0x12,
  DECIMAL64: 0x13,
  DECIMAL128: 0x14,
  DECIMAL256: 0x15,
  CHAR: 0x16,
  BINARY: 0x17,
  IPV4: 0x18,
} as const;

/** One of the values of {@link ColumnType}. */
export type ColumnTypeCode = (typeof ColumnType)[keyof typeof ColumnType];

/** Name of a column type as the spec writes it (IPv4 keeps its casing). */
export type ColumnTypeName = keyof typeof ColumnType | 'IPv4';

const TYPE_NAMES: (ColumnTypeName | undefined)[] = [];
for (const [name, code] of Object.entries(ColumnType)) {
  TYPE_NAMES[code] = name === 'IPV4' ? 'IPv4' : (name as ColumnTypeName);
}

/** True when `code` is an assigned ingress column type. */
export function isColumnType(code: number): code is ColumnTypeCode {
  return TYPE_NAMES[code] !== undefined;
}

/** The spec's name of a type code, or `UNKNOWN(0x..)`. */
export function columnTypeName(code: number): string {
  return TYPE_NAMES[code] ?? `UNKNOWN(0x${code.toString(16).padStart(2, '0')})`;
}

/** True for the two timestamp types (the designated timestamp must be one). */
export function isTimestampType(code: number): boolean {
  return code === ColumnType.TIMESTAMP || code === ColumnType.TIMESTAMP_NANOS;
}

/** Bytes per value of the fixed-width types; 0 for the others. */
export function fixedWidth(code: number): number {
  switch (code) {
    case ColumnType.BYTE:
      return 1;
    case ColumnType.SHORT:
    case ColumnType.CHAR:
      return 2;
    case ColumnType.INT:
    case ColumnType.FLOAT:
    case ColumnType.IPV4:
      return 4;
    case ColumnType.LONG:
    case ColumnType.DOUBLE:
    case ColumnType.DATE:
    case ColumnType.TIMESTAMP:
    case ColumnType.TIMESTAMP_NANOS:
    case ColumnType.DECIMAL64:
      return 8;
    case ColumnType.UUID:
    case ColumnType.DECIMAL128:
      return 16;
    case ColumnType.LONG256:
    case ColumnType.DECIMAL256:
      return 32;
    default:
      return 0;
  }
}

/** Largest decimal scale (= precision) of each decimal type. */
export function maxDecimalScale(code: number): number {
  return code === ColumnType.DECIMAL64 ? 18 : code === ColumnType.DECIMAL128 ? 38 : 76;
}

/** Response status codes (shared with egress, hence CANCELLED / LIMIT_EXCEEDED). */
export const Status = {
  OK: 0x00,
  DURABLE_ACK: 0x02,
  SCHEMA_MISMATCH: 0x03,
  PARSE_ERROR: 0x05,
  INTERNAL_ERROR: 0x06,
  SECURITY_ERROR: 0x08,
  WRITE_ERROR: 0x09,
  CANCELLED: 0x0a,
  LIMIT_EXCEEDED: 0x0b,
  NOT_WRITABLE: 0x0c,
  DICTIONARY_GAP: 0x0d,
  /**
   * Not on the spec page: the server's QwpConstants defines it as a
   * local-disk durability ack with the DURABLE_ACK layout, sent only to
   * clients that asked for that tier. Decoded so it is never misread.
   */
  LOCAL_DURABLE_ACK: 0x0e,
} as const;

/** One of the values of {@link Status}, or another byte a newer server may send. */
export type StatusCode = (typeof Status)[keyof typeof Status];

const STATUS_NAMES: string[] = [];
for (const [name, code] of Object.entries(Status)) STATUS_NAMES[code] = name;

/** The spec's name of a status byte, or `UNKNOWN(0x..)`. */
export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? `UNKNOWN(0x${code.toString(16).padStart(2, '0')})`;
}

/** The server's default protocol limits (spec "Protocol limits"). */
export const Limits = {
  /** Max payload of one message (16 MiB); the effective cap is X-QWP-Max-Batch-Size. */
  MAX_BATCH_SIZE: 16 * 1024 * 1024,
  MAX_ROWS_PER_TABLE: 1_000_000,
  MAX_COLUMNS_PER_TABLE: 2048,
  MAX_TABLE_NAME_LENGTH: 127,
  MAX_COLUMN_NAME_LENGTH: 127,
  MAX_SYMBOL_DICTIONARY_SIZE: 2_000_000,
  MAX_TABLES_PER_MESSAGE: 0xffff,
  MAX_IN_FLIGHT_BATCHES: 128,
  /** QuestDB arrays have at most 32 dimensions. */
  MAX_ARRAY_DIMENSIONS: 32,
  GEOHASH_MIN_BITS: 1,
  GEOHASH_MAX_BITS: 60,
} as const;
