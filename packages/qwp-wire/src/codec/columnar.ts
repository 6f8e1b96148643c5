import { QwpInvalidValueError } from '../errors.js';
import type { ColumnBuffer } from './column-buffer.js';
import { ColumnType, type ColumnTypeCode, columnTypeName, Limits } from './constants.js';
import type { GlobalSymbolDictionary } from './global-symbol-dictionary.js';
import { isWellFormed } from './validation.js';

/**
 * Input forms of {@link TableBuffer.appendColumns}: data already in columns
 * (typed arrays, string arrays, dictionary-encoded strings), written with a
 * block copy where the type and the null mask allow.
 */

/** Units of timestamps (as `at()` and `timestampColumn()` take them). */
export type TimestampUnit = 'ns' | 'us' | 'ms' | 's';

/** Strings of a VARCHAR or SYMBOL column; `null` / `undefined` is a null row. */
export type StringValues = readonly (string | null | undefined)[];

/** Integer typed arrays accepted as dictionary indices. */
export type DictionaryIndices =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/**
 * Dictionary-encoded strings, as Arrow dictionary arrays and pandas
 * categoricals hold them: row `i` is `dictionary[indices[i]]`. A negative
 * index or a null dictionary entry is a null row. Each entry is looked up
 * in the global symbol dictionary once, when a row first uses it; entries
 * no row uses are ignored.
 */
export interface DictionaryValues {
  readonly dictionary: readonly (string | null | undefined)[];
  readonly indices: DictionaryIndices;
}

/** What every `appendColumns` column has, whatever its type. */
export interface ColumnBase {
  /** Column name (not `""`: the designated timestamp is `options.timestamps`). */
  readonly name: string;
  /** One byte per row, non-zero = null (a row's value is then ignored). */
  readonly nulls?: Uint8Array;
}

/** One column of an `appendColumns` call; the `type` fixes the form of `values`. */
export type ColumnarColumn = ColumnBase &
  (
    | { readonly type: 'BOOLEAN'; readonly values: Uint8Array }
    | { readonly type: 'BYTE'; readonly values: Int8Array }
    | { readonly type: 'SHORT'; readonly values: Int16Array }
    | { readonly type: 'CHAR'; readonly values: Uint16Array }
    | { readonly type: 'INT'; readonly values: Int32Array }
    | { readonly type: 'IPv4' | 'IPV4'; readonly values: Uint32Array }
    | { readonly type: 'FLOAT'; readonly values: Float32Array }
    | { readonly type: 'DOUBLE'; readonly values: Float64Array }
    | { readonly type: 'LONG' | 'DATE'; readonly values: BigInt64Array | Float64Array }
    | {
        readonly type: 'TIMESTAMP' | 'TIMESTAMP_NANOS';
        readonly values: BigInt64Array | Float64Array;
        /** Unit of `values`; default the column's own (`us` for TIMESTAMP, `ns` for TIMESTAMP_NANOS). */
        readonly unit?: TimestampUnit;
      }
    | { readonly type: 'VARCHAR'; readonly values: StringValues }
    | { readonly type: 'SYMBOL'; readonly values: StringValues | DictionaryValues }
  );

/** Options of an `appendColumns` call. */
export interface AppendColumnsOptions {
  /** Designated timestamps, one per row (the column named `""`); left out, the server assigns them. */
  readonly timestamps?: BigInt64Array | Float64Array;
  /** Unit of `timestamps`, required with them: `ns` makes a new column TIMESTAMP_NANOS, the others TIMESTAMP. */
  readonly unit?: TimestampUnit;
  /** Rows to append; by default the length every column (and `timestamps`) must share. */
  readonly rowCount?: number;
}

/** Type names `appendColumns` takes, by code. */
export const COLUMNAR_TYPES: ReadonlyMap<string, ColumnTypeCode> = new Map<string, ColumnTypeCode>([
  ['BOOLEAN', ColumnType.BOOLEAN],
  ['BYTE', ColumnType.BYTE],
  ['SHORT', ColumnType.SHORT],
  ['CHAR', ColumnType.CHAR],
  ['INT', ColumnType.INT],
  ['IPv4', ColumnType.IPV4],
  ['IPV4', ColumnType.IPV4],
  ['FLOAT', ColumnType.FLOAT],
  ['DOUBLE', ColumnType.DOUBLE],
  ['LONG', ColumnType.LONG],
  ['DATE', ColumnType.DATE],
  ['TIMESTAMP', ColumnType.TIMESTAMP],
  ['TIMESTAMP_NANOS', ColumnType.TIMESTAMP_NANOS],
  ['VARCHAR', ColumnType.VARCHAR],
  ['SYMBOL', ColumnType.SYMBOL],
]);

// A Map, not an object literal: a unit such as 'toString' must not find an inherited member.
export const UNIT_NANOS: ReadonlyMap<string, number> = new Map([
  ['ns', 1],
  ['us', 1e3],
  ['ms', 1e6],
  ['s', 1e9],
]);

type ArrayClass = abstract new (...args: never[]) => ArrayBufferView;

/** The typed array each fixed-width type takes (the int64 types take two). */
const ARRAY_FOR: ReadonlyMap<number, readonly ArrayClass[]> = new Map<number, ArrayClass[]>([
  [ColumnType.BOOLEAN, [Uint8Array]],
  [ColumnType.BYTE, [Int8Array]],
  [ColumnType.SHORT, [Int16Array]],
  [ColumnType.CHAR, [Uint16Array]],
  [ColumnType.INT, [Int32Array]],
  [ColumnType.IPV4, [Uint32Array]],
  [ColumnType.FLOAT, [Float32Array]],
  [ColumnType.DOUBLE, [Float64Array]],
  [ColumnType.LONG, [BigInt64Array, Float64Array]],
  [ColumnType.DATE, [BigInt64Array, Float64Array]],
  [ColumnType.TIMESTAMP, [BigInt64Array, Float64Array]],
  [ColumnType.TIMESTAMP_NANOS, [BigInt64Array, Float64Array]],
]);

/** True for the int64 types (stored as int64, fed from BigInt64Array or Float64Array). */
export function isInt64Type(type: number): boolean {
  return (
    type === ColumnType.LONG ||
    type === ColumnType.DATE ||
    type === ColumnType.TIMESTAMP ||
    type === ColumnType.TIMESTAMP_NANOS
  );
}

/** Why `values` is not the right form for `type` (a COLUMNAR_TYPES code), or null. */
export function valuesProblem(type: number, values: unknown): string | null {
  if (type === ColumnType.VARCHAR) {
    return Array.isArray(values) ? null : 'VARCHAR takes an array of strings';
  }
  if (type === ColumnType.SYMBOL) {
    return Array.isArray(values) || isDictionaryValues(values)
      ? null
      : 'SYMBOL takes an array of strings or { dictionary, indices } with integer typed-array indices';
  }
  const classes = ARRAY_FOR.get(type)!;
  for (const cls of classes) if (values instanceof cls) return null;
  const got = ArrayBuffer.isView(values) ? values.constructor.name : typeof values;
  return `${columnTypeName(type)} takes a ${classes.map((c) => c.name).join(' or ')}, not ${got}`;
}

function isDictionaryValues(v: unknown): v is DictionaryValues {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as { dictionary?: unknown; indices?: unknown };
  const idx = d.indices;
  return (
    Array.isArray(d.dictionary) &&
    (idx instanceof Int8Array ||
      idx instanceof Uint8Array ||
      idx instanceof Int16Array ||
      idx instanceof Uint16Array ||
      idx instanceof Int32Array ||
      idx instanceof Uint32Array)
  );
}

/** Number of rows of a column's `values` (dictionary form: of its indices). */
export function valuesLength(values: unknown): number {
  return isDictionaryValues(values) ? values.indices.length : (values as ArrayLike<unknown>).length;
}

/** Number of null rows a mask marks among the first `n`. */
export function countNulls(mask: Uint8Array | undefined, n: number): number {
  if (mask === undefined) return 0;
  let k = 0;
  for (let i = 0; i < n; i++) if (mask[i] !== 0) k++;
  return k;
}

/** Where one column's rows go: the table and row of the call's first row. */
export interface Target {
  readonly table: string;
  /** Table row of the call's row 0. */
  readonly row0: number;
  readonly n: number;
}

function refuse(t: Target, c: ColumnBuffer, row: number, value: unknown, problem: string): never {
  throw new QwpInvalidValueError(t.table, c.name, value, problem, { row });
}

/**
 * Fixed-width values whose source element is the stored element (any type
 * but int64 from Float64Array or another unit). Without nulls one `set`;
 * with nulls the non-null values are packed (bitmap types) or the null rows
 * zeroed (sentinel types).
 */
export function writeFixed(
  t: Target,
  c: ColumnBuffer,
  src: ArrayBufferView,
  mask: Uint8Array | undefined,
  nulls: number,
): void {
  const n = t.n;
  const w = c.width;
  const sentinel = c.sentinel;
  const stored = sentinel ? n : n - nulls;
  c.reserveMany(stored);
  const base = c.valueCount;
  if (nulls === 0) {
    c.u8.set(new Uint8Array(src.buffer, src.byteOffset, n * w), base * w);
  } else if (sentinel) {
    c.u8.set(new Uint8Array(src.buffer, src.byteOffset, n * w), base * w);
    for (let i = 0; i < n; i++)
      if (mask![i] !== 0) c.u8.fill(0, (base + i) * w, (base + i + 1) * w);
  } else {
    c.reserveNullRows(t.row0 + n);
    const bits = c.nulls;
    let v = base;
    {
      // Types with a null bitmap are 4 or 8 bytes wide (the narrower ones
      // use sentinels). Values move as int32 words: NaN payloads and int64
      // halves stay exact, and no number is boxed.
      const words = w >>> 2;
      const s32 = new Int32Array(src.buffer, src.byteOffset, n * words);
      const d32 = c.i32;
      for (let i = 0; i < n; i++) {
        if (mask![i] !== 0) {
          const r = t.row0 + i;
          bits[r >>> 3]! |= 1 << (r & 7);
          continue;
        }
        const s = i * words;
        const d = v * words;
        d32[d] = s32[s]!;
        if (words === 2) d32[d + 1] = s32[s + 1]!;
        v++;
      }
    }
    c.nullCount += nulls;
  }
  c.valueCount = base + stored;
  c.lastRow = t.row0 + n - 1;
}

const TWO32 = 4294967296;

/**
 * int64 values (LONG, DATE, TIMESTAMP*) given in `fromNanos` units (1 for
 * plain integers) into a column whose unit is `toNanos`: a copy when the
 * units match and the source is a BigInt64Array, else converted row by row
 * (floor division when narrowing, as the row API). Numbers must be
 * integral; a result outside int64 is refused.
 */
export function writeInt64(
  t: Target,
  c: ColumnBuffer,
  src: BigInt64Array | Float64Array,
  fromNanos: number,
  toNanos: number,
  mask: Uint8Array | undefined,
  nulls: number,
): void {
  if (src instanceof BigInt64Array && fromNanos === toNanos) {
    writeFixed(t, c, src, mask, nulls);
    return;
  }
  const n = t.n;
  c.reserveMany(n - nulls);
  if (nulls > 0) c.reserveNullRows(t.row0 + n);
  const bits = c.nulls;
  const d32 = c.i32;
  let v = c.valueCount;
  const up = fromNanos >= toNanos;
  const factor = up ? fromNanos / toNanos : toNanos / fromNanos;
  for (let i = 0; i < n; i++) {
    if (nulls > 0 && mask![i] !== 0) {
      const r = t.row0 + i;
      bits[r >>> 3]! |= 1 << (r & 7);
      continue;
    }
    if (src instanceof Float64Array) {
      const x = src[i]!;
      if (!Number.isInteger(x)) refuse(t, c, i, x, 'expected an integer');
      // Exact in doubles while the result is a safe integer; BigInt otherwise.
      let y: number;
      if (up) {
        y = x * factor;
      } else {
        const rem = x % factor;
        y = (x - rem) / factor - (rem < 0 ? 1 : 0);
      }
      if (Number.isSafeInteger(y) && Number.isSafeInteger(x)) {
        const hi = Math.floor(y / TWO32);
        d32[2 * v] = (y - hi * TWO32) | 0;
        d32[2 * v + 1] = hi;
      } else {
        putBig(t, c, i, x, scaleBig(BigInt(x), fromNanos, toNanos), v);
      }
    } else {
      putBig(t, c, i, src[i]!, scaleBig(src[i]!, fromNanos, toNanos), v);
    }
    v++;
  }
  c.nullCount += nulls;
  c.valueCount = v;
  c.lastRow = t.row0 + n - 1;
}

function putBig(
  t: Target,
  c: ColumnBuffer,
  row: number,
  input: unknown,
  y: bigint,
  v: number,
): void {
  if (BigInt.asIntN(64, y) !== y) {
    refuse(t, c, row, input, 'outside the signed 64-bit range (in the column unit)');
  }
  c.i64[v] = y;
}

/** v * from / to with floor division (exact BigInt). */
export function scaleBig(v: bigint, fromNanos: number, toNanos: number): bigint {
  if (fromNanos === toNanos) return v;
  if (fromNanos > toNanos) return v * BigInt(fromNanos / toNanos);
  const d = BigInt(toNanos / fromNanos);
  const q = v / d;
  return v % d !== 0n && v < 0n ? q - 1n : q;
}

/** VARCHAR from strings: UTF-8 written in place, one `Buffer#write` per row. */
export function writeVarchar(
  t: Target,
  c: ColumnBuffer,
  src: StringValues,
  mask: Uint8Array | undefined,
): void {
  const n = t.n;
  c.reserveNullRows(t.row0 + n);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const s = src[i];
    if (s == null || (mask !== undefined && mask[i] !== 0)) {
      const r = t.row0 + i;
      c.nulls[r >>> 3]! |= 1 << (r & 7);
      nulls++;
      continue;
    }
    if (typeof s !== 'string') refuse(t, c, i, s, 'expected a string');
    if (!isWellFormed(s)) refuse(t, c, i, s, 'string has a lone UTF-16 surrogate');
    c.reserveVar(s.length * 3);
    c.endVar(c.dataLen + c.data.write(s, c.dataLen, 'utf8'));
  }
  c.nullCount += nulls;
  c.lastRow = t.row0 + n - 1;
}

/** The global id of a symbol not yet known to the dictionary, after checking it may enter. */
function newSymbolId(
  t: Target,
  c: ColumnBuffer,
  row: number,
  s: string,
  dict: GlobalSymbolDictionary,
): number {
  if (!isWellFormed(s)) refuse(t, c, row, s, 'string has a lone UTF-16 surrogate');
  if (dict.size >= Limits.MAX_SYMBOL_DICTIONARY_SIZE) {
    refuse(
      t,
      c,
      row,
      s,
      `symbol dictionary is full (${Limits.MAX_SYMBOL_DICTIONARY_SIZE} distinct symbols, the server's limit)`,
    );
  }
  return dict.idOf(s);
}

/** SYMBOL from strings: one dictionary lookup per row (new strings enter it in row order). */
export function writeSymbolStrings(
  t: Target,
  c: ColumnBuffer,
  src: StringValues,
  mask: Uint8Array | undefined,
  dict: GlobalSymbolDictionary,
): void {
  const n = t.n;
  c.reserveMany(n);
  c.reserveNullRows(t.row0 + n);
  const ids = c.i32;
  let v = c.valueCount;
  let nulls = 0;
  // Runs of one string (sorted or grouped input) skip the lookup.
  let last: string | undefined;
  let lastId = -1;
  for (let i = 0; i < n; i++) {
    const s = src[i];
    if (s == null || (mask !== undefined && mask[i] !== 0)) {
      const r = t.row0 + i;
      c.nulls[r >>> 3]! |= 1 << (r & 7);
      nulls++;
      continue;
    }
    if (s !== last) {
      if (typeof s !== 'string') refuse(t, c, i, s, 'expected a string');
      lastId = dict.peek(s) ?? newSymbolId(t, c, i, s, dict);
      last = s;
    }
    ids[v++] = lastId;
  }
  c.valueCount = v;
  c.nullCount += nulls;
  c.lastRow = t.row0 + n - 1;
}

/** Local dictionary index -> global id: UNRESOLVED until a row uses it, NULL_ENTRY for a null entry. */
const UNRESOLVED = -2;
const NULL_ENTRY = -1;

/**
 * SYMBOL from dictionary-encoded strings: each entry is resolved to a
 * global id the first time a row uses it; per row one array lookup.
 * `local` is scratch of at least `dictionary.length` entries.
 */
export function writeSymbolDictionary(
  t: Target,
  c: ColumnBuffer,
  src: DictionaryValues,
  mask: Uint8Array | undefined,
  dict: GlobalSymbolDictionary,
  local: Int32Array,
): void {
  const n = t.n;
  const entries = src.dictionary;
  const indices = src.indices;
  const size = entries.length;
  local.fill(UNRESOLVED, 0, size);
  c.reserveMany(n);
  c.reserveNullRows(t.row0 + n);
  const ids = c.i32;
  let v = c.valueCount;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const k = indices[i]!;
    // The common row: an index inside the dictionary to an entry already
    // resolved, not masked. A negative index fails the unsigned compare.
    if (k >>> 0 < size && (mask === undefined || mask[i] === 0)) {
      const id = local[k]!;
      if (id >= 0) {
        ids[v++] = id;
        continue;
      }
    }
    let id = NULL_ENTRY;
    if (k >= 0 && (mask === undefined || mask[i] === 0)) {
      if (k >= size) refuse(t, c, i, k, `dictionary index outside the ${size}-entry dictionary`);
      id = local[k]!;
      if (id === UNRESOLVED) {
        const s = entries[k];
        if (s == null) {
          id = NULL_ENTRY;
        } else {
          if (typeof s !== 'string') refuse(t, c, i, s, `dictionary entry ${k} is not a string`);
          id = dict.peek(s) ?? newSymbolId(t, c, i, s, dict);
        }
        local[k] = id;
      }
    }
    if (id === NULL_ENTRY) {
      const r = t.row0 + i;
      c.nulls[r >>> 3]! |= 1 << (r & 7);
      nulls++;
    } else {
      ids[v++] = id;
    }
  }
  c.valueCount = v;
  c.nullCount += nulls;
  c.lastRow = t.row0 + n - 1;
}
