import { QwpDecodeError } from '../errors.js';
import { ByteReader } from './byte-reader.js';
import { type BlockContext, type ColumnDef, decodeColumn } from './column-decoder.js';
import {
  columnTypeName,
  FLAG_DELTA_SYMBOL_DICT,
  FLAG_GORILLA,
  FLAGS_KNOWN,
  HEADER_SIZE,
  isColumnType,
  isTimestampType,
  Limits,
  MAGIC,
  Status,
  VERSION,
} from './constants.js';
import type {
  DecodedColumn,
  DecodedMessage,
  DecodedTable,
  MessageHeader,
  SymbolDelta,
} from './decoded.js';
import type { SymbolDictionary } from './symbol-dictionary.js';

/** Limits the decoder enforces; each defaults to the server's default. */
export interface DecodeOptions {
  /** The negotiated version every message must carry (default 1). */
  version?: number;
  /** Max payload bytes (default 16 MiB; a server passes its X-QWP-Max-Batch-Size). */
  maxBatchSize?: number;
  maxRowsPerTable?: number;
  maxColumnsPerTable?: number;
  maxSymbolDictionarySize?: number;
  /**
   * Accept bytes after the last table block and after `12 + payload_length`
   * (default false). QuestDB's server ignores both.
   */
  allowTrailingBytes?: boolean;
  /** Reject reserved header flag bits (default true). QuestDB does not check them. */
  checkReservedFlags?: boolean;
  /**
   * Reject an empty column name whose type is not TIMESTAMP / TIMESTAMP_NANOS
   * (default true). QuestDB parses it and refuses it at write time instead
   * (WRITE_ERROR "invalid column name"), and only for blocks with rows.
   */
  checkDesignatedTimestampType?: boolean;
  /**
   * Accept the same column name twice in one table block (default false).
   * Neither QuestDB's parser nor its appender checks; both definitions write
   * the same column, the last one winning.
   */
  allowDuplicateColumns?: boolean;
  /**
   * Require VARCHAR values and per-column SYMBOL dictionary entries to be
   * valid UTF-8 (default true). QuestDB checks only their offsets; with
   * false, invalid sequences decode to U+FFFD. Table names, column names and
   * delta dictionary entries are always checked, as the server does.
   */
  validateValueUtf8?: boolean;
}

/**
 * Options under which {@link decodeMessage} accepts exactly what QuestDB's
 * server parses (review of QwpMessageCursor / QwpWalAppender, 2026): trailing
 * bytes and reserved flags ignored, the designated-timestamp type and column
 * name checks left to write time, duplicate columns and non-UTF-8 values
 * allowed. Merge with the connection's own limits:
 * `{ ...SERVER_COMPATIBLE_DECODE_OPTIONS, version, maxBatchSize }`.
 */
export const SERVER_COMPATIBLE_DECODE_OPTIONS: Readonly<DecodeOptions> = Object.freeze({
  allowTrailingBytes: true,
  checkReservedFlags: false,
  checkDesignatedTimestampType: false,
  allowDuplicateColumns: true,
  validateValueUtf8: false,
});

/**
 * Decodes one complete ingress message (header + payload) strictly.
 *
 * `dictionary` is the connection's symbol dictionary: a delta section that
 * starts past its end is rejected with status DICTIONARY_GAP; one that starts
 * inside it overwrites the overlapping ids (a sender re-registering from 0,
 * as the server does). SYMBOL ids resolve against the dictionary plus this
 * message's delta. The delta is applied to `dictionary` only if the whole
 * message decodes. Pass `null` to decode without connection state (then a
 * delta must start at 0).
 *
 * Every rejection is a {@link QwpDecodeError} with `status`, `offset` and
 * `reason`.
 */
export function decodeMessage(
  bytes: Uint8Array,
  dictionary: SymbolDictionary | null,
  options: DecodeOptions = {},
): DecodedMessage {
  const r = new ByteReader(bytes);
  const header = decodeHeader(r, options);
  r.end = HEADER_SIZE + header.payloadLength;

  let symbolDelta: SymbolDelta | null = null;
  const dictSize = dictionary?.size ?? 0;
  if ((header.flags & FLAG_DELTA_SYMBOL_DICT) !== 0) {
    symbolDelta = decodeSymbolDelta(r, dictSize, options);
  }
  const ctx: BlockContext = {
    gorilla: (header.flags & FLAG_GORILLA) !== 0,
    deltaMode: symbolDelta !== null,
    delta: symbolDelta,
    dictionary,
    dictSize,
    maxRows: options.maxRowsPerTable ?? Limits.MAX_ROWS_PER_TABLE,
    maxColumns: options.maxColumnsPerTable ?? Limits.MAX_COLUMNS_PER_TABLE,
    maxDictionary: options.maxSymbolDictionarySize ?? Limits.MAX_SYMBOL_DICTIONARY_SIZE,
    checkTimestampType: options.checkDesignatedTimestampType !== false,
    allowDuplicates: options.allowDuplicateColumns === true,
    strictUtf8: options.validateValueUtf8 !== false,
  };
  const tables: DecodedTable[] = [];
  for (let t = 0; t < header.tableCount; t++) tables.push(decodeTableBlock(r, ctx));
  if (r.pos !== r.end && options.allowTrailingBytes !== true) {
    r.fail(`${r.end - r.pos} trailing bytes after the last table block`);
  }

  if (symbolDelta !== null && dictionary !== null) {
    dictionary.apply(symbolDelta.start, symbolDelta.entries);
  }
  return { header, symbolDelta, tables };
}

/**
 * Decodes and validates the 12-byte header of `bytes` (magic, version,
 * reserved flags, payload length against the limit and the frame length).
 */
export function decodeMessageHeader(bytes: Uint8Array, options: DecodeOptions = {}): MessageHeader {
  return decodeHeader(new ByteReader(bytes), options);
}

function decodeHeader(r: ByteReader, options: DecodeOptions): MessageHeader {
  if (r.bytes.length < HEADER_SIZE) {
    r.fail(`message of ${r.bytes.length} bytes is shorter than the 12-byte header`, 0);
  }
  const magic = r.u32('magic');
  if (magic !== MAGIC) r.fail(`bad magic 0x${magic.toString(16).padStart(8, '0')}`, 0);
  const version = r.u8('version');
  const expected = options.version ?? VERSION;
  if (version !== expected) r.fail(`version ${version} is not the negotiated ${expected}`, 4);
  const flags = r.u8('flags');
  if ((flags & ~FLAGS_KNOWN) !== 0 && options.checkReservedFlags !== false) {
    r.fail(`reserved flag bits set in 0x${flags.toString(16).padStart(2, '0')}`, 5);
  }
  const tableCount = r.u16('table count');
  const payloadLength = r.u32('payload length');
  const max = options.maxBatchSize ?? Limits.MAX_BATCH_SIZE;
  if (payloadLength > max) r.fail(`payload length ${payloadLength} exceeds ${max}`, 8);
  const actual = r.bytes.length - HEADER_SIZE;
  if (payloadLength > actual) {
    r.fail(`payload length ${payloadLength} but only ${actual} bytes follow the header`, 8);
  }
  if (payloadLength < actual && options.allowTrailingBytes !== true) {
    r.fail(`${actual - payloadLength} bytes follow the declared payload of ${payloadLength}`, 8);
  }
  return { version, flags, tableCount, payloadLength };
}

function decodeSymbolDelta(r: ByteReader, dictSize: number, options: DecodeOptions): SymbolDelta {
  const at = r.pos;
  const start = r.varint('delta_start');
  const count = r.varint('delta_count');
  // The server checks the size limit before the gap: a frame with both faults is PARSE_ERROR.
  const max = options.maxSymbolDictionarySize ?? Limits.MAX_SYMBOL_DICTIONARY_SIZE;
  if (start + count > max) r.fail(`symbol dictionary would grow to ${start + count} > ${max}`, at);
  if (start > dictSize) {
    r.fail(
      `symbol delta starts at id ${start} but the connection dictionary has ${dictSize} entries`,
      at,
      Status.DICTIONARY_GAP,
    );
  }
  // Each entry takes at least its length byte: bounds the array before it is built.
  if (count > r.remaining) r.fail(`symbol delta count ${count} exceeds the remaining bytes`, at);
  const entries: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.varint('symbol length');
    entries.push(r.utf8(len, `symbol ${start + i}`));
  }
  return { start, entries };
}

function decodeTableBlock(r: ByteReader, ctx: BlockContext): DecodedTable {
  const nameAt = r.pos;
  const nameLen = r.varint('table name length');
  if (nameLen === 0) r.fail('empty table name', nameAt);
  if (nameLen > Limits.MAX_TABLE_NAME_LENGTH) {
    r.fail(`table name of ${nameLen} bytes exceeds ${Limits.MAX_TABLE_NAME_LENGTH}`, nameAt);
  }
  const name = r.utf8(nameLen, 'table name');
  const rowsAt = r.pos;
  const rowCount = r.varint('row count');
  if (rowCount > ctx.maxRows) {
    r.fail(`table '${name}' has ${rowCount} rows, over the limit of ${ctx.maxRows}`, rowsAt);
  }
  const colsAt = r.pos;
  const columnCount = r.varint('column count');
  if (columnCount > ctx.maxColumns) {
    r.fail(`table '${name}' has ${columnCount} columns, over ${ctx.maxColumns}`, colsAt);
  }
  // Every column definition takes at least 2 bytes and its data at least 1.
  if (columnCount * 3 > r.remaining) {
    r.fail(`table '${name}' declares ${columnCount} columns, more than the bytes left`, colsAt);
  }
  const defs: ColumnDef[] = [];
  const seen = new Set<string>();
  for (let c = 0; c < columnCount; c++) {
    const at = r.pos;
    const len = r.varint('column name length');
    if (len > Limits.MAX_COLUMN_NAME_LENGTH) {
      r.fail(`column name of ${len} bytes exceeds ${Limits.MAX_COLUMN_NAME_LENGTH}`, at);
    }
    const colName = r.utf8(len, 'column name');
    const typeAt = r.pos;
    const type = r.u8('column type');
    if (!isColumnType(type)) {
      r.fail(`column '${colName}' has unknown type code 0x${type.toString(16)}`, typeAt);
    }
    if (ctx.checkTimestampType && colName === '' && !isTimestampType(type)) {
      r.fail(`designated timestamp column has type ${columnTypeName(type)}`, typeAt);
    }
    if (!ctx.allowDuplicates && seen.has(colName)) {
      r.fail(`duplicate column '${colName}' in table '${name}'`, at);
    }
    seen.add(colName);
    defs.push({ name: colName, type });
  }
  const columns: DecodedColumn[] = [];
  for (const def of defs) columns.push(decodeColumn(r, ctx, def, rowCount));
  return { name, rowCount, columns };
}

/** True if `err` is a decoder rejection (for callers mapping errors to responses). */
export function isDecodeError(err: unknown): err is QwpDecodeError {
  return err instanceof QwpDecodeError;
}
