import { QwpDecodeError } from '../errors.js';
import { ByteReader } from './byte-reader.js';
import {
  ColumnType,
  type ColumnTypeCode,
  columnTypeName,
  ENCODING_GORILLA,
  ENCODING_UNCOMPRESSED,
  FLAG_DELTA_SYMBOL_DICT,
  FLAG_GORILLA,
  FLAGS_KNOWN,
  fixedWidth,
  HEADER_SIZE,
  isColumnType,
  isTimestampType,
  Limits,
  MAGIC,
  maxDecimalScale,
  Status,
  VERSION,
} from './constants.js';
import type {
  DecodedArray,
  DecodedColumn,
  DecodedMessage,
  DecodedTable,
  DecodedValue,
  MessageHeader,
  SymbolDelta,
} from './decoded.js';
import { decodeGorilla } from './gorilla.js';
import type { SymbolDictionary } from './symbol-dictionary.js';
import { ipv4ToString, unsignedFromWire, uuidFromWire } from './values.js';

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

const lossyUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

const MIN_I64 = -(2n ** 63n);

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

interface BlockContext {
  gorilla: boolean;
  /** FLAG_DELTA_SYMBOL_DICT: SYMBOL columns hold global ids, else per-column dictionaries. */
  deltaMode: boolean;
  delta: SymbolDelta | null;
  dictionary: SymbolDictionary | null;
  dictSize: number;
  maxRows: number;
  maxColumns: number;
  maxDictionary: number;
  checkTimestampType: boolean;
  allowDuplicates: boolean;
  strictUtf8: boolean;
}

interface ColumnDef {
  name: string;
  type: ColumnTypeCode;
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

function decodeColumn(
  r: ByteReader,
  ctx: BlockContext,
  def: ColumnDef,
  rowCount: number,
): DecodedColumn {
  const what = `column '${def.name}'`;
  const nullFlag = r.u8(`${what} null flag`);
  let bitmap: Uint8Array | null = null;
  let nullCount = 0;
  if (nullFlag !== 0) {
    bitmap = r.take((rowCount + 7) >>> 3, `${what} null bitmap`);
    for (let row = 0; row < rowCount; row++) {
      nullCount += (bitmap[row >>> 3]! >>> (row & 7)) & 1;
    }
  }
  const valueCount = rowCount - nullCount;
  const dense: (DecodedValue | null)[] = [];
  const col: DecodedColumn = { name: def.name, type: def.type, nullFlag, values: [] };
  readValues(r, ctx, col, what, valueCount, dense, bitmap === null);
  // Spread dense values over the rows the bitmap leaves non-null.
  if (bitmap === null) {
    col.values = dense;
  } else {
    const values: (DecodedValue | null)[] = new Array(rowCount);
    let v = 0;
    for (let row = 0; row < rowCount; row++) {
      values[row] = ((bitmap[row >>> 3]! >>> (row & 7)) & 1) === 1 ? null : dense[v++]!;
    }
    col.values = values;
  }
  return col;
}

/**
 * Reads the `n` non-null values of `col` (named `what` in errors) into `out`;
 * `sentinel` when the column has no bitmap, so the types with a null
 * sentinel value decode it as null.
 */
function readValues(
  r: ByteReader,
  ctx: BlockContext,
  col: DecodedColumn,
  what: string,
  n: number,
  out: (DecodedValue | null)[],
  sentinel: boolean,
): void {
  const type = col.type;
  switch (type) {
    case ColumnType.BOOLEAN: {
      const bits = r.take((n + 7) >>> 3, `${what} values`);
      for (let i = 0; i < n; i++) out.push(((bits[i >>> 3]! >>> (i & 7)) & 1) === 1);
      return;
    }
    case ColumnType.TIMESTAMP:
    case ColumnType.TIMESTAMP_NANOS: {
      if (ctx.gorilla) {
        const at = r.pos;
        const encoding = r.u8(`${what} timestamp encoding`);
        col.encoding = encoding;
        if (encoding === ENCODING_GORILLA) {
          // Each value past the first two takes at least one bit.
          if (n > 2 && 16 + Math.ceil((n - 2) / 8) > r.remaining) {
            r.fail(`truncated ${what}: ${n} Gorilla timestamps cannot fit`, r.pos);
          }
          decodeGorilla(r, n, out as bigint[]);
          return;
        }
        if (encoding !== ENCODING_UNCOMPRESSED) {
          r.fail(`${what} has unknown timestamp encoding ${encoding}`, at);
        }
      }
      readFixed(r, what, type, n, out, false);
      return;
    }
    case ColumnType.GEOHASH: {
      const at = r.pos;
      const bits = r.varint(`${what} geohash precision`);
      if (bits < Limits.GEOHASH_MIN_BITS || bits > Limits.GEOHASH_MAX_BITS) {
        r.fail(`${what} geohash precision ${bits} is outside 1-60`, at);
      }
      col.geohashBits = bits;
      const size = (bits + 7) >>> 3;
      const raw = r.take(size * n, `${what} values`);
      const allOnes = (1n << BigInt(size * 8)) - 1n;
      for (let i = 0; i < n; i++) {
        let v = 0n;
        for (let b = size - 1; b >= 0; b--) v = (v << 8n) | BigInt(raw[i * size + b]!);
        out.push(sentinel && v === allOnes ? null : v);
      }
      return;
    }
    case ColumnType.VARCHAR:
    case ColumnType.BINARY: {
      const offsetsAt = r.pos;
      r.need((n + 1) * 4, `${what} offsets`);
      r.pos += (n + 1) * 4;
      if (r.u32At(offsetsAt) !== 0) r.fail(`${what} offset[0] is not 0`, offsetsAt);
      const dataLen = r.u32At(offsetsAt + n * 4);
      const dataAt = r.pos;
      r.need(dataLen, `${what} data`);
      let prev = 0;
      for (let i = 1; i <= n; i++) {
        const off = r.u32At(offsetsAt + i * 4);
        if (off < prev || off > dataLen) {
          r.fail(
            `${what} offset[${i}] = ${off} is out of order or past the data`,
            offsetsAt + i * 4,
          );
        }
        if (type === ColumnType.BINARY) {
          out.push(r.bytes.slice(dataAt + prev, dataAt + off));
        } else {
          r.pos = dataAt + prev;
          out.push(valueText(r, ctx, off - prev, `${what} value ${i - 1}`));
        }
        prev = off;
      }
      r.pos = dataAt + dataLen;
      return;
    }
    case ColumnType.SYMBOL: {
      if (!ctx.deltaMode) {
        readPerColumnSymbols(r, ctx, what, n, out);
        return;
      }
      if (n > r.remaining) r.fail(`truncated ${what}: ${n} symbol ids cannot fit`);
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const id = r.varint(`${what} symbol id`);
        out.push(resolveSymbol(r, ctx, id, at, what));
      }
      return;
    }
    case ColumnType.DOUBLE_ARRAY:
    case ColumnType.LONG_ARRAY: {
      if (n > r.remaining) r.fail(`truncated ${what}: ${n} arrays cannot fit`);
      for (let i = 0; i < n; i++) out.push(readArray(r, what, type));
      return;
    }
    case ColumnType.DECIMAL64:
    case ColumnType.DECIMAL128:
    case ColumnType.DECIMAL256: {
      const at = r.pos;
      const scale = r.u8(`${what} decimal scale`);
      if (scale > maxDecimalScale(type)) {
        r.fail(`${what} scale ${scale} exceeds ${maxDecimalScale(type)}`, at);
      }
      col.scale = scale;
      readFixed(r, what, type, n, out, false);
      return;
    }
    default:
      readFixed(r, what, type, n, out, sentinel);
  }
}

function readFixed(
  r: ByteReader,
  what: string,
  type: ColumnTypeCode,
  n: number,
  out: (DecodedValue | null)[],
  sentinel: boolean,
): void {
  const size = fixedWidth(type);
  const at = r.pos;
  r.need(size * n, `${what} values`);
  r.pos += size * n;
  const view = r.view;
  const stop = at + size * n;
  // One loop per type keeps each loop monomorphic.
  switch (type) {
    case ColumnType.BYTE:
      for (let p = at; p < stop; p++) out.push(view.getInt8(p));
      return;
    case ColumnType.SHORT:
      for (let p = at; p < stop; p += 2) out.push(view.getInt16(p, true));
      return;
    case ColumnType.CHAR:
      for (let p = at; p < stop; p += 2) out.push(String.fromCharCode(view.getUint16(p, true)));
      return;
    case ColumnType.INT:
      for (let p = at; p < stop; p += 4) out.push(view.getInt32(p, true));
      return;
    case ColumnType.FLOAT:
      for (let p = at; p < stop; p += 4) out.push(view.getFloat32(p, true));
      return;
    case ColumnType.DOUBLE:
      for (let p = at; p < stop; p += 8) out.push(view.getFloat64(p, true));
      return;
    case ColumnType.IPV4:
      for (let p = at; p < stop; p += 4) {
        const v = view.getUint32(p, true);
        out.push(sentinel && v === 0 ? null : ipv4ToString(v));
      }
      return;
    case ColumnType.UUID:
      for (let p = at; p < stop; p += 16) {
        const isNull = sentinel && r.i64At(p) === MIN_I64 && r.i64At(p + 8) === MIN_I64;
        out.push(isNull ? null : uuidFromWire(r.bytes, p));
      }
      return;
    case ColumnType.LONG256:
      for (let p = at; p < stop; p += 32) {
        let isNull = sentinel;
        for (let w = 0; w < 4 && isNull; w++) isNull = r.i64At(p + w * 8) === MIN_I64;
        out.push(isNull ? null : unsignedFromWire(view, p, 4));
      }
      return;
    case ColumnType.DECIMAL128:
      for (let p = at; p < stop; p += 16)
        out.push(BigInt.asIntN(128, unsignedFromWire(view, p, 2)));
      return;
    case ColumnType.DECIMAL256:
      for (let p = at; p < stop; p += 32)
        out.push(BigInt.asIntN(256, unsignedFromWire(view, p, 4)));
      return;
    default:
      // LONG, DATE, TIMESTAMP, TIMESTAMP_NANOS, DECIMAL64
      for (let p = at; p < stop; p += 8) out.push(view.getBigInt64(p, true));
  }
}

function readArray(r: ByteReader, what: string, type: ColumnTypeCode): DecodedArray {
  const at = r.pos;
  const dims = r.u8(`${what} array dimensions`);
  if (dims === 0) r.fail(`${what} array has 0 dimensions (NULL must use the bitmap)`, at);
  if (dims > Limits.MAX_ARRAY_DIMENSIONS) {
    r.fail(`${what} array has ${dims} dimensions, over ${Limits.MAX_ARRAY_DIMENSIONS}`, at);
  }
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < dims; d++) {
    const dimAt = r.pos;
    const len = r.i32(`${what} array dimension length`);
    if (len < 0) r.fail(`${what} array dimension ${d} has negative length ${len}`, dimAt);
    shape.push(len);
    count *= len;
    // The server multiplies with int32 overflow checks, so an intermediate
    // product past 2^31-1 fails even when a later dimension is 0.
    if (count > 0x7fffffff) r.fail(`${what} array element count overflows int32`, dimAt);
  }
  // count may exceed 2^53 in theory only with > 2^31 elements each; the byte check catches it.
  if (count * 8 > r.remaining) {
    r.fail(`truncated ${what}: array of ${count} elements does not fit`, at);
  }
  const start = r.pos;
  r.pos += count * 8;
  if (type === ColumnType.DOUBLE_ARRAY) {
    const values = new Float64Array(count);
    for (let i = 0; i < count; i++) values[i] = r.f64At(start + i * 8);
    return { shape, values };
  }
  const values = new BigInt64Array(count);
  for (let i = 0; i < count; i++) values[i] = r.i64At(start + i * 8);
  return { shape, values };
}

function resolveSymbol(
  r: ByteReader,
  ctx: BlockContext,
  id: number,
  at: number,
  what: string,
): string {
  const delta = ctx.delta;
  if (delta !== null && id >= delta.start && id < delta.start + delta.entries.length) {
    return delta.entries[id - delta.start]!;
  }
  if (id < ctx.dictSize && ctx.dictionary !== null) return ctx.dictionary.entries[id]!;
  return r.fail(`${what} references symbol id ${id}, which is not in the dictionary`, at);
}

/** Per-column dictionary mode (no FLAG_DELTA_SYMBOL_DICT): used by UDP, accepted here. */
function readPerColumnSymbols(
  r: ByteReader,
  ctx: BlockContext,
  what: string,
  n: number,
  out: (DecodedValue | null)[],
): void {
  const at = r.pos;
  const size = r.varint(`${what} dictionary size`);
  if (size > ctx.maxDictionary) r.fail(`${what} dictionary of ${size} entries is too large`, at);
  if (size > r.remaining) r.fail(`truncated ${what}: dictionary of ${size} entries`, at);
  const local: string[] = [];
  for (let i = 0; i < size; i++) {
    const len = r.varint(`${what} dictionary entry length`);
    local.push(valueText(r, ctx, len, `${what} dictionary entry ${i}`));
  }
  if (n > r.remaining) r.fail(`truncated ${what}: ${n} symbol indexes cannot fit`);
  for (let i = 0; i < n; i++) {
    const idAt = r.pos;
    const idx = r.varint(`${what} symbol index`);
    if (idx >= size) r.fail(`${what} symbol index ${idx} is past its dictionary of ${size}`, idAt);
    out.push(local[idx]!);
  }
}

/** Text of the next `n` bytes: strict UTF-8, or with U+FFFD replacement when the context allows. */
function valueText(r: ByteReader, ctx: BlockContext, n: number, what: string): string {
  if (ctx.strictUtf8) return r.utf8(n, what);
  return lossyUtf8.decode(r.take(n, what));
}

/** True if `err` is a decoder rejection (for callers mapping errors to responses). */
export function isDecodeError(err: unknown): err is QwpDecodeError {
  return err instanceof QwpDecodeError;
}
