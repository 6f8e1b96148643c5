import type { ByteReader } from './byte-reader.js';
import {
  ColumnType,
  type ColumnTypeCode,
  ENCODING_GORILLA,
  ENCODING_UNCOMPRESSED,
  fixedWidth,
  Limits,
  maxDecimalScale,
} from './constants.js';
import type { DecodedArray, DecodedColumn, DecodedValue, SymbolDelta } from './decoded.js';
import { decodeGorilla } from './gorilla.js';
import type { SymbolDictionary } from './symbol-dictionary.js';
import { ipv4ToString, unsignedFromWire, uuidFromWire } from './values.js';

/**
 * The column data section of a table block: the null section and the values
 * of each type, read strictly. decoder.ts reads the message structure around it.
 */

const lossyUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

const MIN_I64 = -(2n ** 63n);

/** What every column of one message is decoded under: its flags, dictionaries and options. */
export interface BlockContext {
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

/** A column definition from a table block's schema section. */
export interface ColumnDef {
  name: string;
  type: ColumnTypeCode;
}

/**
 * Decodes one column's null section and values for `rowCount` rows; the
 * result has one value (or null) per row.
 */
export function decodeColumn(
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
