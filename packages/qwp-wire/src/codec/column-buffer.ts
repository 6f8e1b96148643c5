import { QwpError } from '../errors.js';
import { ColumnType, type ColumnTypeCode, fixedWidth } from './constants.js';
import { encodeUtf8 } from './validation.js';

// Column storage is written through native-endian typed arrays and copied to
// the little-endian wire as is.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new QwpError('ERR_QWP_BIG_ENDIAN', 'the QWP encoder needs a little-endian host');
}

/** Types whose null is written as a zero value instead of a bitmap bit (as the reference client). */
function usesSentinel(type: number): boolean {
  return (
    type === ColumnType.BOOLEAN ||
    type === ColumnType.BYTE ||
    type === ColumnType.SHORT ||
    type === ColumnType.CHAR
  );
}

/** Types stored as variable-length wire bytes plus an offset per value. */
function isVarWidth(type: number): boolean {
  return (
    type === ColumnType.VARCHAR ||
    type === ColumnType.BINARY ||
    type === ColumnType.DOUBLE_ARRAY ||
    type === ColumnType.LONG_ARRAY
  );
}

const INITIAL_VALUES = 64;

/**
 * One column of a table buffer. Non-null values are stored densely in wire
 * form (little-endian fixed-width slots, or bytes + uint32 end offsets for
 * VARCHAR / BINARY / arrays), so encoding is mostly a block copy; nulls are a
 * bitmap over rows, except for the sentinel types, which store a zero value
 * per null row. Storage grows geometrically and is kept across batches.
 */
export class ColumnBuffer {
  readonly name: string;
  readonly nameUtf8: Uint8Array;
  readonly type: ColumnTypeCode;
  readonly sentinel: boolean;
  readonly varWidth: boolean;
  /** Bytes per value in fixed storage (BOOLEAN 1, SYMBOL 4, GEOHASH 8). */
  readonly width: number;
  /** Position in the table's column order. */
  index = 0;
  /** Row this column was last written in (null or value). */
  lastRow = -1;
  /** Values stored (sentinel types: one per row; others: non-null rows only). */
  valueCount = 0;
  nullCount = 0;
  /** Null bitmap over rows, LSB-first (bitmap types only). */
  nulls: Uint8Array = new Uint8Array(8);

  // Fixed storage: one ArrayBuffer seen through several views.
  u8: Uint8Array;
  u16: Uint16Array;
  i32: Int32Array;
  f64: Float64Array;
  i64: BigInt64Array;
  view: DataView;
  capacity: number;

  // Variable storage: data bytes, offsets[i + 1] = end of value i. A Buffer,
  // so VARCHAR text is written in place with Buffer#write (no view per row).
  data: Buffer;
  dataView: DataView;
  dataLen = 0;
  offsets: Uint32Array;

  /** GEOHASH precision, fixed by the first value (0 until then). */
  geohashBits = 0;
  /** DECIMAL* scale, fixed by the first value (-1 until then). */
  scale = -1;
  /** Row whose value fixed `scale`: discarding that row unfixes it. */
  scaleRow = -1;
  /** valuesBefore() memo: `memoNulls` null rows lie in rows `[0, memoRow)`. */
  private memoRow = 0;
  private memoNulls = 0;
  /** What mark() saw. */
  private markValues = 0;
  private markData = 0;
  private markNulls = 0;
  private markLastRow = -1;

  constructor(name: string, type: ColumnTypeCode) {
    this.name = name;
    this.nameUtf8 = encodeUtf8(name);
    this.type = type;
    this.sentinel = usesSentinel(type);
    this.varWidth = isVarWidth(type);
    // SYMBOL stores int32 ids; GEOHASH an int64 cut to its precision at encode time.
    this.width =
      type === ColumnType.BOOLEAN
        ? 1
        : type === ColumnType.SYMBOL
          ? 4
          : type === ColumnType.GEOHASH
            ? 8
            : fixedWidth(type);
    const cap = this.varWidth ? 0 : INITIAL_VALUES;
    this.capacity = cap;
    this.u8 = new Uint8Array(0);
    this.u16 = new Uint16Array(0);
    this.i32 = new Int32Array(0);
    this.f64 = new Float64Array(0);
    this.i64 = new BigInt64Array(0);
    this.view = new DataView(this.u8.buffer);
    if (!this.varWidth) this.allocate(cap);
    this.data = Buffer.alloc(this.varWidth ? 1024 : 0);
    this.dataView = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.offsets = new Uint32Array(this.varWidth ? INITIAL_VALUES + 1 : 0);
  }

  private allocate(cap: number): void {
    const bytes = Math.ceil((cap * this.width) / 8) * 8;
    const buf = new ArrayBuffer(bytes);
    const u8 = new Uint8Array(buf);
    u8.set(this.u8.subarray(0, this.valueCount * this.width));
    this.u8 = u8;
    this.u16 = new Uint16Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    this.i64 = new BigInt64Array(buf);
    this.view = new DataView(buf);
    this.capacity = cap;
  }

  /** Makes room for one more fixed-width value. */
  reserve(): void {
    if (this.valueCount === this.capacity) this.allocate(this.capacity * 2);
  }

  /** Makes room for `n` more fixed-width values. */
  reserveMany(n: number): void {
    const need = this.valueCount + n;
    if (need <= this.capacity) return;
    let cap = Math.max(this.capacity * 2, INITIAL_VALUES);
    while (cap < need) cap *= 2;
    this.allocate(cap);
  }

  /** Makes room for one more variable value of up to `n` bytes. */
  reserveVar(n: number): void {
    if (this.dataLen + n > this.data.length) {
      let cap = this.data.length * 2;
      while (cap < this.dataLen + n) cap *= 2;
      const next = Buffer.alloc(cap);
      next.set(this.data.subarray(0, this.dataLen));
      this.data = next;
      this.dataView = new DataView(next.buffer, next.byteOffset, next.byteLength);
    }
    if (this.valueCount + 2 > this.offsets.length) {
      const next = new Uint32Array(this.offsets.length * 2);
      next.set(this.offsets);
      this.offsets = next;
    }
  }

  /** Closes a variable value whose bytes were written at `data[dataLen..end)`. */
  endVar(end: number): void {
    this.dataLen = end;
    this.offsets[++this.valueCount] = end;
  }

  /** Records `row` as null. */
  appendNull(row: number): void {
    this.lastRow = row;
    if (this.sentinel) {
      this.reserve();
      this.u8.fill(0, this.valueCount * this.width, (this.valueCount + 1) * this.width);
      this.valueCount++;
      return;
    }
    const byte = row >>> 3;
    if (byte >= this.nulls.length) this.growNulls(byte + 1);
    this.nulls[byte]! |= 1 << (row & 7);
    this.nullCount++;
  }

  /** Marks rows `0..rows-1` null: a column that first appears after `rows` rows. */
  backfill(rows: number): void {
    if (rows > 0) this.appendNulls(0, rows);
  }

  /** Records rows `[from, to)` null (a run of rows this column has no value in). */
  appendNulls(from: number, to: number): void {
    this.lastRow = to - 1;
    if (this.sentinel) {
      const n = to - from;
      this.reserveMany(n);
      this.u8.fill(0, this.valueCount * this.width, (this.valueCount + n) * this.width);
      this.valueCount += n;
      return;
    }
    this.reserveNullRows(to);
    const bits = this.nulls;
    let r = from;
    for (; r < to && (r & 7) !== 0; r++) bits[r >>> 3]! |= 1 << (r & 7);
    if (r + 8 <= to) {
      bits.fill(0xff, r >>> 3, to >>> 3);
      r = to & ~7;
    }
    for (; r < to; r++) bits[r >>> 3]! |= 1 << (r & 7);
    this.nullCount += to - from;
  }

  /** Makes the null bitmap cover rows `[0, rows)`. */
  reserveNullRows(rows: number): void {
    const bytes = (rows + 7) >>> 3;
    if (bytes > this.nulls.length) this.growNulls(bytes);
  }

  private growNulls(minBytes: number): void {
    let cap = this.nulls.length * 2;
    while (cap < minBytes) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.nulls);
    this.nulls = next;
  }

  /** True if `row` is null (bitmap types). */
  isNull(row: number): boolean {
    return !this.sentinel && ((this.nulls[row >>> 3] ?? 0) & (1 << (row & 7))) !== 0;
  }

  /** Undoes what was written for `row` (the half-written row being discarded). */
  undo(row: number): void {
    if (this.lastRow !== row) return;
    this.lastRow = row - 1;
    if (this.scaleRow === row) {
      this.scale = -1;
      this.scaleRow = -1;
    }
    if (this.isNull(row)) {
      this.nulls[row >>> 3]! &= ~(1 << (row & 7));
      this.nullCount--;
      return;
    }
    this.valueCount--;
    if (this.varWidth) this.dataLen = this.offsets[this.valueCount]!;
  }

  /** Saves the counts that {@link rollback} restores. */
  mark(): void {
    this.markValues = this.valueCount;
    this.markData = this.dataLen;
    this.markNulls = this.nullCount;
    this.markLastRow = this.lastRow;
  }

  /**
   * Back to the state {@link mark} saw, when the table had `rows` rows: the
   * values stored since are forgotten and null bits of rows `rows` and
   * later cleared.
   */
  rollback(rows: number): void {
    if (this.nullCount !== this.markNulls) {
      const bits = this.nulls;
      const at = rows >>> 3;
      if (at < bits.length) {
        bits[at]! &= (1 << (rows & 7)) - 1;
        bits.fill(0, at + 1);
      }
    }
    this.valueCount = this.markValues;
    this.dataLen = this.markData;
    this.nullCount = this.markNulls;
    this.lastRow = this.markLastRow;
  }

  /** Empties the column for the next batch, keeping its memory. */
  clear(): void {
    this.lastRow = -1;
    this.valueCount = 0;
    this.dataLen = 0;
    if (this.nullCount > 0) this.nulls.fill(0);
    this.nullCount = 0;
    this.geohashBits = 0;
    this.scale = -1;
    this.scaleRow = -1;
    this.memoRow = 0;
    this.memoNulls = 0;
  }

  /**
   * Upper bound of this column's encoded bytes for `rows` rows (definition,
   * null section and values; Gorilla and varint ids only make it smaller).
   */
  maxEncodedBytes(rows: number): number {
    const header = 1 + this.nameUtf8.length + 6 + ((rows + 7) >>> 3) + 16;
    if (this.varWidth) return header + this.dataLen + (this.valueCount + 1) * 4;
    if (this.type === ColumnType.SYMBOL) return header + this.valueCount * 5;
    return header + this.valueCount * this.width;
  }

  /** Number of values stored for rows `[0, row)`. */
  valuesBefore(row: number): number {
    if (this.sentinel || this.nullCount === 0) return row;
    // A split asks for the rows at each frame boundary in turn: counting only
    // the rows between this row and the last one asked keeps a split linear
    // in the rows instead of quadratic. Nulls are only ever added or undone
    // at the open row, past every row asked, so the memo stays exact until
    // clear().
    let nulls = this.memoNulls;
    if (row >= this.memoRow) nulls += this.nullsIn(this.memoRow, row);
    else nulls -= this.nullsIn(row, this.memoRow);
    this.memoRow = row;
    this.memoNulls = nulls;
    return row - nulls;
  }

  /** Null rows in `[from, to)`: bit by bit to a byte boundary, then a byte at a time. */
  private nullsIn(from: number, to: number): number {
    const bits = this.nulls;
    let n = 0;
    let r = from;
    for (; r < to && (r & 7) !== 0; r++) n += ((bits[r >>> 3] ?? 0) >>> (r & 7)) & 1;
    for (; r + 8 <= to; r += 8) n += BITS_SET[bits[r >>> 3] ?? 0]!;
    for (; r < to; r++) n += ((bits[r >>> 3] ?? 0) >>> (r & 7)) & 1;
    return n;
  }
}

/** Number of set bits of each byte value. */
const BITS_SET = new Uint8Array(256);
for (let b = 1; b < 256; b++) BITS_SET[b] = (b & 1) + BITS_SET[b >>> 1]!;
