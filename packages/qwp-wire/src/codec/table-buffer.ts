import { QwpInvalidValueError } from '../errors.js';
import { ColumnBuffer } from './column-buffer.js';
import {
  type AppendColumnsOptions,
  COLUMNAR_TYPES,
  type ColumnarColumn,
  countNulls,
  type DictionaryValues,
  isInt64Type,
  type StringValues,
  scaleBig,
  type TimestampUnit,
  UNIT_NANOS,
  valuesLength,
  valuesProblem,
  writeFixed,
  writeInt64,
  writeSymbolDictionary,
  writeSymbolStrings,
  writeVarchar,
} from './columnar.js';
import {
  ColumnType,
  type ColumnTypeCode,
  columnTypeName,
  isTimestampType,
  Limits,
  maxDecimalScale,
} from './constants.js';
import type { GlobalSymbolDictionary } from './global-symbol-dictionary.js';
import { columnNameProblem, encodeUtf8, isWellFormed } from './validation.js';
import { ipv4FromString, uuidToWire, wordsToWire } from './values.js';

export type { TimestampUnit };

/** A nested JS array of numbers (or bigints for LONG_ARRAY), or an explicit shape + flat values. */
export type ArrayInput =
  | readonly unknown[]
  | { shape: readonly number[]; values: ArrayLike<number> | ArrayLike<bigint> };

const TWO32 = 4294967296;
const TWO63 = 2 ** 63;

/**
 * Column buffers of one table, filled one row at a time:
 *
 *   table.symbol('sym', 'ETH-USD').intColumn('qty', 3).floatColumn('px', 2615.5).at(ts, 'ns')
 *
 * Method names follow @questdb/nodejs-client where the meaning is the same
 * (symbol, stringColumn, booleanColumn, intColumn = LONG, floatColumn = DOUBLE,
 * timestampColumn, at, atNow); QWP's other types have explicit methods. A
 * column a row leaves out is null in that row; a column first seen after some
 * rows is null in those rows; `null`/`undefined` as a value means null.
 *
 * A bad name, value or type throws a QwpInvalidValueError naming table,
 * column and value; the half-written row is discarded and the rows already
 * buffered stay intact.
 */
export class TableBuffer {
  /** The table's name. */
  readonly name: string;
  /** @internal The name as UTF-8, for the encoder. */
  readonly nameUtf8: Uint8Array;
  /** @internal Columns in first-use order, for the encoder. */
  readonly columns: ColumnBuffer[] = [];
  private rows = 0;
  private readonly byName = new Map<string, ColumnBuffer>();
  private readonly pool = new Map<string, ColumnBuffer>();
  private readonly symbols: GlobalSymbolDictionary;
  /** Index of the column the next call most likely names (rows repeat their order). */
  private cursor = 0;
  /** Columns that existed when the current row began. */
  private rowStartColumns = 0;
  private rowOpen = false;
  /** Reused while measuring a nested array's shape. */
  private readonly shapeScratch: number[] = [];
  /**
   * Symbols the open row uses that the dictionary does not hold yet: the
   * column, the value slot (holding -1 until then) and the string. They get
   * their ids when the row ends, so a discarded row leaves no id behind,
   * whatever other tables' rows did meanwhile.
   */
  private readonly pendingColumns: ColumnBuffer[] = [];
  private readonly pendingSlots: number[] = [];
  private readonly pendingValues: string[] = [];
  private pendingCount = 0;
  /** appendColumns scratch: names seen in the call, and dictionary index -> global id. */
  private readonly callNames = new Set<string>();
  private localIds = new Int32Array(0);
  private readonly target = { table: '', row0: 0, n: 0 };

  /**
   * `name` must already be validated (see tableNameProblem).
   * @param maxNameLength the longest column name accepted, in UTF-8 bytes
   */
  constructor(
    name: string,
    symbols: GlobalSymbolDictionary,
    private readonly maxNameLength: number = Limits.MAX_COLUMN_NAME_LENGTH,
  ) {
    this.name = name;
    this.nameUtf8 = encodeUtf8(name);
    this.symbols = symbols;
  }

  /** Completed rows. */
  get rowCount(): number {
    return this.rows;
  }

  /** SYMBOL: a dictionary-encoded string (a global id on the wire). */
  symbol(name: string, value: string | null | undefined): this {
    const c = this.column(name, ColumnType.SYMBOL, value);
    if (value == null) return this.putNull(c);
    if (typeof value !== 'string') this.fail(c.name, value, 'expected a string');
    const id = this.symbols.peek(value);
    c.reserve();
    if (id === undefined) {
      // Checked once per distinct symbol, until it enters the dictionary.
      if (!isWellFormed(value)) this.fail(c.name, value, 'string has a lone UTF-16 surrogate');
      if (this.newSymbols(value) > 0) this.failFull(c.name, value);
      const n = this.pendingCount;
      this.pendingColumns[n] = c;
      this.pendingSlots[n] = c.valueCount;
      this.pendingValues[n] = value;
      this.pendingCount = n + 1;
      c.i32[c.valueCount++] = -1;
    } else {
      c.i32[c.valueCount++] = id;
    }
    c.lastRow = this.rows;
    return this;
  }

  /** VARCHAR (as @questdb/nodejs-client's stringColumn). */
  stringColumn(name: string, value: string | null | undefined): this {
    return this.varcharColumn(name, value);
  }

  /** VARCHAR: UTF-8 text. */
  varcharColumn(name: string, value: string | null | undefined): this {
    const c = this.column(name, ColumnType.VARCHAR, value);
    if (value == null) return this.putNull(c);
    if (typeof value !== 'string') this.fail(c.name, value, 'expected a string');
    if (!isWellFormed(value)) this.fail(c.name, value, 'string has a lone UTF-16 surrogate');
    c.reserveVar(value.length * 3);
    c.endVar(c.dataLen + c.data.write(value, c.dataLen, 'utf8'));
    c.lastRow = this.rows;
    return this;
  }

  /** BINARY: opaque bytes (copied). */
  binaryColumn(name: string, value: Uint8Array | null | undefined): this {
    const c = this.column(name, ColumnType.BINARY, value);
    if (value == null) return this.putNull(c);
    if (!(value instanceof Uint8Array)) this.fail(c.name, value, 'expected a Uint8Array');
    c.reserveVar(value.length);
    c.data.set(value, c.dataLen);
    c.endVar(c.dataLen + value.length);
    c.lastRow = this.rows;
    return this;
  }

  /** BOOLEAN. A null is sent as false (the type has no null). */
  booleanColumn(name: string, value: boolean | null | undefined): this {
    const c = this.column(name, ColumnType.BOOLEAN, value);
    if (value == null) return this.putNull(c);
    if (typeof value !== 'boolean') this.fail(c.name, value, 'expected a boolean');
    c.reserve();
    c.u8[c.valueCount++] = value ? 1 : 0;
    c.lastRow = this.rows;
    return this;
  }

  /** LONG (64-bit), as @questdb/nodejs-client's intColumn. */
  intColumn(name: string, value: number | bigint | null | undefined): this {
    return this.longColumn(name, value);
  }

  /** DOUBLE, as @questdb/nodejs-client's floatColumn. */
  floatColumn(name: string, value: number | null | undefined): this {
    return this.doubleColumn(name, value);
  }

  /** BYTE: integer in [-128, 127]. A null is sent as 0 (the type has no null). */
  byteColumn(name: string, value: number | null | undefined): this {
    const c = this.column(name, ColumnType.BYTE, value);
    if (value == null) return this.putNull(c);
    this.checkInt(c, value, -128, 127, 'BYTE');
    c.reserve();
    c.u8[c.valueCount++] = value & 0xff;
    c.lastRow = this.rows;
    return this;
  }

  /** SHORT: integer in [-32768, 32767]. A null is sent as 0 (the type has no null). */
  shortColumn(name: string, value: number | null | undefined): this {
    const c = this.column(name, ColumnType.SHORT, value);
    if (value == null) return this.putNull(c);
    this.checkInt(c, value, -32768, 32767, 'SHORT');
    c.reserve();
    c.view.setInt16(c.valueCount++ * 2, value, true);
    c.lastRow = this.rows;
    return this;
  }

  /** INT: 32-bit integer. */
  int32Column(name: string, value: number | null | undefined): this {
    const c = this.column(name, ColumnType.INT, value);
    if (value == null) return this.putNull(c);
    this.checkInt(c, value, -2147483648, 2147483647, 'INT');
    c.reserve();
    c.i32[c.valueCount++] = value;
    c.lastRow = this.rows;
    return this;
  }

  /** LONG: 64-bit integer, a safe or integral number, or a bigint. */
  longColumn(name: string, value: number | bigint | null | undefined): this {
    const c = this.column(name, ColumnType.LONG, value);
    if (value == null) return this.putNull(c);
    this.putI64(c, value);
    return this;
  }

  /** FLOAT: 32-bit IEEE 754 (the number is rounded to single precision). */
  float32Column(name: string, value: number | null | undefined): this {
    const c = this.column(name, ColumnType.FLOAT, value);
    if (value == null) return this.putNull(c);
    if (typeof value !== 'number') this.fail(c.name, value, 'expected a number');
    c.reserve();
    c.view.setFloat32(c.valueCount++ * 4, value, true);
    c.lastRow = this.rows;
    return this;
  }

  /** DOUBLE: 64-bit IEEE 754. */
  doubleColumn(name: string, value: number | null | undefined): this {
    const c = this.column(name, ColumnType.DOUBLE, value);
    if (value == null) return this.putNull(c);
    if (typeof value !== 'number') this.fail(c.name, value, 'expected a number');
    c.reserve();
    c.f64[c.valueCount++] = value;
    c.lastRow = this.rows;
    return this;
  }

  /** CHAR: one UTF-16 code unit. A null is sent as 0 (the type has no null). */
  charColumn(name: string, value: string | null | undefined): this {
    const c = this.column(name, ColumnType.CHAR, value);
    if (value == null) return this.putNull(c);
    if (typeof value !== 'string' || value.length !== 1) {
      this.fail(c.name, value, 'expected a string of exactly one UTF-16 code unit');
    }
    c.reserve();
    c.view.setUint16(c.valueCount++ * 2, value.charCodeAt(0), true);
    c.lastRow = this.rows;
    return this;
  }

  /** DATE: milliseconds since the epoch (number, bigint or Date). */
  dateColumn(name: string, value: number | bigint | Date | null | undefined): this {
    const c = this.column(name, ColumnType.DATE, value);
    if (value == null) return this.putNull(c);
    this.putI64(c, value instanceof Date ? value.getTime() : value);
    return this;
  }

  /**
   * A non-designated timestamp: unit 'ns' makes a TIMESTAMP_NANOS column,
   * the others TIMESTAMP (µs). A column keeps the type of its first value in
   * the batch; later values are converted to it (ns -> µs rounds down).
   */
  timestampColumn(
    name: string,
    value: number | bigint | Date | null | undefined,
    unit: TimestampUnit = 'us',
  ): this {
    const c = this.column(name, this.timestampType(name, unit), value);
    if (value == null) return this.putNull(c);
    if (value instanceof Date) this.putTimestamp(c, value.getTime(), 'ms');
    else this.putTimestamp(c, value, unit);
    return this;
  }

  /** UUID: canonical 8-4-4-4-12 hex text. */
  uuidColumn(name: string, value: string | null | undefined): this {
    const c = this.column(name, ColumnType.UUID, value);
    if (value == null) return this.putNull(c);
    c.reserve();
    if (typeof value !== 'string' || !uuidToWire(value, c.u8, c.valueCount * 16)) {
      this.fail(c.name, value, 'expected a UUID string like 123e4567-e89b-12d3-a456-426614174000');
    }
    c.valueCount++;
    c.lastRow = this.rows;
    return this;
  }

  /** LONG256: unsigned 256-bit integer, as a bigint or '0x' hex text. */
  long256Column(name: string, value: bigint | string | null | undefined): this {
    const c = this.column(name, ColumnType.LONG256, value);
    if (value == null) return this.putNull(c);
    let v: bigint | null = null;
    if (typeof value === 'bigint') v = value;
    else if (typeof value === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(value)) v = BigInt(value);
    if (v === null || v < 0n || v >= 1n << 256n) {
      this.fail(c.name, value, 'expected an unsigned 256-bit bigint or 0x hex of up to 64 digits');
    }
    c.reserve();
    wordsToWire(v, c.view, c.valueCount++ * 32, 4);
    c.lastRow = this.rows;
    return this;
  }

  /** GEOHASH of `bits` (1-60) precision; all values of a column share it. */
  geohashColumn(name: string, value: number | bigint | null | undefined, bits: number): this {
    const c = this.column(name, ColumnType.GEOHASH, value);
    if (
      !Number.isInteger(bits) ||
      bits < Limits.GEOHASH_MIN_BITS ||
      bits > Limits.GEOHASH_MAX_BITS
    ) {
      this.fail(c.name, bits, 'GeoHash precision must be an integer number of bits in 1-60');
    }
    if (c.geohashBits !== 0 && c.geohashBits !== bits) {
      this.fail(c.name, bits, `GeoHash precision differs from the column's ${c.geohashBits} bits`);
    }
    if (value == null) {
      c.geohashBits = bits;
      return this.putNull(c);
    }
    const v = typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value;
    if (typeof v !== 'bigint' || v < 0n || v >= 1n << BigInt(bits)) {
      this.fail(c.name, value, `GeoHash value must be an integer in [0, 2^${bits})`);
    }
    c.geohashBits = bits;
    c.reserve();
    c.i64[c.valueCount++] = v;
    c.lastRow = this.rows;
    return this;
  }

  /** IPv4: a dotted quad or a uint32. */
  ipv4Column(name: string, value: string | number | null | undefined): this {
    const c = this.column(name, ColumnType.IPV4, value);
    if (value == null) return this.putNull(c);
    const v =
      typeof value === 'string'
        ? ipv4FromString(value)
        : Number.isInteger(value) && value >= 0 && value <= 0xffffffff
          ? value
          : -1;
    if (v < 0) this.fail(c.name, value, 'expected a dotted-quad IPv4 address or a uint32');
    c.reserve();
    c.view.setUint32(c.valueCount++ * 4, v, true);
    c.lastRow = this.rows;
    return this;
  }

  /** DOUBLE_ARRAY: N-dimensional (1-32) array; [] is an empty array, distinct from null. */
  doubleArrayColumn(name: string, value: ArrayInput | null | undefined): this {
    return this.arrayColumn(name, ColumnType.DOUBLE_ARRAY, value);
  }

  /** LONG_ARRAY: N-dimensional (1-32) array of 64-bit integers. */
  longArrayColumn(name: string, value: ArrayInput | null | undefined): this {
    return this.arrayColumn(name, ColumnType.LONG_ARRAY, value);
  }

  /** DECIMAL64: unscaled bigint with `scale`, or decimal text like '-12.345'. */
  decimal64Column(name: string, value: bigint | string | null | undefined, scale = 0): this {
    return this.decimalColumn(name, ColumnType.DECIMAL64, value, scale);
  }

  /** DECIMAL128: unscaled bigint with `scale`, or decimal text. */
  decimal128Column(name: string, value: bigint | string | null | undefined, scale = 0): this {
    return this.decimalColumn(name, ColumnType.DECIMAL128, value, scale);
  }

  /** DECIMAL256: unscaled bigint with `scale`, or decimal text. */
  decimal256Column(name: string, value: bigint | string | null | undefined, scale = 0): this {
    return this.decimalColumn(name, ColumnType.DECIMAL256, value, scale);
  }

  /**
   * Ends the row with its designated timestamp (the column named ""):
   * unit 'ns' makes it TIMESTAMP_NANOS, the others TIMESTAMP (µs); the first
   * row of a batch fixes the type and later rows are converted to it.
   */
  at(timestamp: number | bigint | Date, unit: TimestampUnit = 'us'): void {
    const d = this.columns[this.cursor];
    const c =
      d !== undefined && d.name === '' && d.lastRow !== this.rows
        ? d
        : this.columnSlow('', this.timestampType('', unit), timestamp, true);
    this.cursor = c.index + 1;
    this.rowOpen = true;
    if (timestamp instanceof Date) this.putTimestamp(c, timestamp.getTime(), 'ms');
    else this.putTimestamp(c, timestamp, unit);
    this.endRow();
  }

  /**
   * Ends the row without a designated timestamp, so the server assigns its
   * own time (the row is null in the "" column if other rows have one).
   */
  atNow(): void {
    if (!this.rowOpen) this.fail(undefined, undefined, 'row has no columns');
    this.endRow();
  }

  /**
   * Appends rows given column by column, after the rows already buffered:
   *
   *   table.appendColumns(
   *     [
   *       { name: 'sym', type: 'SYMBOL', values: ['ETH-USD', 'BTC-USD'] },
   *       { name: 'px', type: 'DOUBLE', values: new Float64Array([2615.5, 64210.25]) },
   *     ],
   *     { timestamps: new BigInt64Array([t0, t1]), unit: 'ns' },
   *   );
   *
   * Each column is `{ name, type, values, nulls? }` (see ColumnarColumn for
   * the array each type takes); `nulls` is one byte per row, non-zero =
   * null. A table column left out is null in these rows. Fixed-width
   * values without nulls are copied with one `set` per column; SYMBOL
   * strings cost a dictionary lookup per row, dictionary-encoded ones an
   * array lookup. Without `options.rowCount` every array has the same
   * length, the row count; with it, each holds at least that many rows and
   * the rest is ignored.
   *
   * A bad call (a row is half-written, a length, array or unit that does
   * not fit, an unsupported or conflicting type, a bad name, a string with
   * a lone surrogate, an index outside the dictionary, an integer outside
   * int64, a full symbol dictionary) throws QwpInvalidValueError naming
   * table, column and the row index within the call where there is one,
   * and leaves the table and the symbol dictionary as they were.
   */
  appendColumns(columns: readonly ColumnarColumn[], options: AppendColumnsOptions = {}): this {
    let n: number;
    try {
      n = this.checkColumnar(columns, options);
    } finally {
      this.callNames.clear();
    }
    if (n > 0) this.writeColumnar(columns, options, n);
    return this;
  }

  /** Upper bound of this table's encoded block in bytes (for byte-based auto-flush). */
  maxEncodedBytes(): number {
    // Name length, row count and column count: at most 5 varint bytes each.
    let n = this.nameUtf8.length + 15;
    for (const c of this.columns) n += c.maxEncodedBytes(this.rows);
    return n;
  }

  /** True while a row has values but no at()/atNow() yet. */
  get hasOpenRow(): boolean {
    return this.rowOpen;
  }

  /** Discards the half-written row, if any (its new symbols never get an id). */
  discardRow(): void {
    const row = this.rows;
    this.pendingCount = 0;
    for (const c of this.columns) c.undo(row);
    while (this.columns.length > this.rowStartColumns) {
      const c = this.columns.pop()!;
      this.byName.delete(c.name);
      c.clear();
      this.pool.set(c.name, c);
    }
    this.cursor = 0;
    this.rowOpen = false;
  }

  /** Empties the table for the next batch (memory is kept for reuse). */
  clear(): void {
    for (const c of this.columns) {
      c.clear();
      this.pool.set(c.name, c);
    }
    this.columns.length = 0;
    this.byName.clear();
    this.rows = 0;
    this.cursor = 0;
    this.rowStartColumns = 0;
    this.rowOpen = false;
    this.pendingCount = 0;
  }

  // ---- internals ----

  /** Throws a QwpInvalidValueError without touching the buffered rows. */
  private refuse(column: string | undefined, value: unknown, problem: string): never {
    throw new QwpInvalidValueError(this.name, column, value, problem);
  }

  /** Validates an appendColumns call without changing anything; returns its row count. */
  private checkColumnar(columns: readonly ColumnarColumn[], options: AppendColumnsOptions): number {
    if (this.rowOpen) {
      this.refuse(
        undefined,
        undefined,
        'a row is half-written: end it (at/atNow) or discardRow() first',
      );
    }
    if (!Array.isArray(columns)) this.refuse(undefined, columns, 'columns must be an array');
    if (typeof options !== 'object' || options === null) {
      this.refuse(undefined, options, 'options must be an object');
    }
    const explicit = options.rowCount;
    if (explicit !== undefined && (!Number.isSafeInteger(explicit) || explicit < 0)) {
      this.refuse(undefined, explicit, 'rowCount must be a non-negative integer');
    }
    let n = explicit ?? -1;
    const fits = (len: number): boolean => (explicit === undefined ? len === n : len >= n);
    const ts = options.timestamps;
    if (ts !== undefined) {
      if (!(ts instanceof BigInt64Array || ts instanceof Float64Array)) {
        this.refuse('', ts, 'timestamps must be a BigInt64Array or Float64Array');
      }
      if (!UNIT_NANOS.has(options.unit as string)) {
        this.refuse('', options.unit, 'timestamps need a unit: ns, us, ms or s');
      }
    } else if (options.unit !== undefined) {
      this.refuse('', options.unit, 'unit is given without timestamps');
    }
    if (columns.length === 0 && ts === undefined) {
      this.refuse(undefined, undefined, 'nothing to append: no columns and no timestamps');
    }
    const names = this.callNames;
    let added = 0;
    for (const spec of columns) {
      if (typeof spec !== 'object' || spec === null) {
        this.refuse(undefined, spec, 'a column must be an object { name, type, values, nulls? }');
      }
      const name = spec.name;
      if (name === '') {
        this.refuse('', spec, 'the designated timestamp goes in options.timestamps');
      }
      if (names.has(name)) this.refuse(name, spec, 'column given twice in one call');
      names.add(name);
      const type = COLUMNAR_TYPES.get(spec.type);
      if (type === undefined) {
        const other = typeof spec.type === 'string' && Object.hasOwn(ColumnType, spec.type);
        this.refuse(
          name,
          spec.type,
          other
            ? `appendColumns does not take ${spec.type} columns (use the row API)`
            : 'unknown column type (expected a name like DOUBLE, LONG, SYMBOL)',
        );
      }
      const existing = this.byName.get(name);
      if (existing === undefined) {
        const problem = columnNameProblem(name, this.maxNameLength);
        if (problem !== null) this.refuse(String(name), spec, problem);
        added++;
      } else if (existing.type !== type) {
        this.refuse(
          name,
          spec.type,
          `column is ${columnTypeName(existing.type)}, not ${columnTypeName(type)}`,
        );
      }
      const problem = valuesProblem(type, spec.values);
      if (problem !== null) this.refuse(name, spec.values, problem);
      const len = valuesLength(spec.values);
      if (n < 0) n = len;
      if (!fits(len)) this.refuse(name, spec.values, `has ${len} rows, not ${n}`);
      const nulls = spec.nulls;
      if (nulls !== undefined && !(nulls instanceof Uint8Array && fits(nulls.length))) {
        this.refuse(
          name,
          nulls,
          `nulls must be a Uint8Array of ${n} bytes (one per row, non-zero = null)`,
        );
      }
      if (isTimestampType(type)) {
        const unit = (spec as { unit?: unknown }).unit;
        if (unit !== undefined && !UNIT_NANOS.has(unit as string)) {
          this.refuse(name, unit, 'unit must be ns, us, ms or s');
        }
      } else if ((spec as { unit?: unknown }).unit !== undefined) {
        this.refuse(
          name,
          (spec as { unit?: unknown }).unit,
          `a ${columnTypeName(type)} column takes no unit`,
        );
      }
    }
    if (ts !== undefined) {
      if (n < 0) n = ts.length;
      if (!fits(ts.length)) this.refuse('', ts, `has ${ts.length} rows, not ${n}`);
      if (!this.byName.has('')) added++;
    }
    if (this.columns.length + added > Limits.MAX_COLUMNS_PER_TABLE) {
      this.refuse(
        undefined,
        added,
        `table would have more than ${Limits.MAX_COLUMNS_PER_TABLE} columns`,
      );
    }
    return n;
  }

  /** Writes a checked appendColumns call; on a refused value restores everything and rethrows. */
  private writeColumnar(
    columns: readonly ColumnarColumn[],
    options: AppendColumnsOptions,
    n: number,
  ): void {
    const row0 = this.rows;
    const dictMark = this.symbols.size;
    const colMark = this.columns.length;
    for (let i = 0; i < colMark; i++) this.columns[i]!.mark();
    const t = this.target;
    t.table = this.name;
    t.row0 = row0;
    t.n = n;
    try {
      for (const spec of columns) {
        const type = COLUMNAR_TYPES.get(spec.type)!;
        const c = this.byName.get(spec.name) ?? this.addColumn(spec.name, type, undefined);
        const mask = spec.nulls;
        const nulls = countNulls(mask, n);
        if (type === ColumnType.VARCHAR) {
          writeVarchar(t, c, spec.values as StringValues, mask);
        } else if (type === ColumnType.SYMBOL) {
          if (Array.isArray(spec.values)) {
            writeSymbolStrings(t, c, spec.values as StringValues, mask, this.symbols);
          } else {
            const dict = spec.values as DictionaryValues;
            writeSymbolDictionary(
              t,
              c,
              dict,
              mask,
              this.symbols,
              this.localScratch(dict.dictionary.length),
            );
          }
        } else if (isInt64Type(type)) {
          const own =
            type === ColumnType.TIMESTAMP_NANOS ? 1 : type === ColumnType.TIMESTAMP ? 1e3 : 1;
          const unit = (spec as { unit?: TimestampUnit }).unit;
          const from = unit === undefined ? own : UNIT_NANOS.get(unit)!;
          writeInt64(t, c, spec.values as BigInt64Array | Float64Array, from, own, mask, nulls);
        } else {
          writeFixed(t, c, spec.values as ArrayBufferView, mask, nulls);
        }
      }
      const ts = options.timestamps;
      if (ts !== undefined) {
        const unit = options.unit!;
        let c = this.byName.get('');
        if (c === undefined) {
          c = this.addColumn(
            '',
            unit === 'ns' ? ColumnType.TIMESTAMP_NANOS : ColumnType.TIMESTAMP,
            undefined,
          );
        }
        const own = c.type === ColumnType.TIMESTAMP_NANOS ? 1 : 1e3;
        writeInt64(t, c, ts, UNIT_NANOS.get(unit)!, own, undefined, 0);
      }
      const last = row0 + n - 1;
      for (const c of this.columns) if (c.lastRow !== last) c.appendNulls(row0, row0 + n);
    } catch (err) {
      for (let i = 0; i < colMark; i++) this.columns[i]!.rollback(row0);
      while (this.columns.length > colMark) {
        const c = this.columns.pop()!;
        this.byName.delete(c.name);
        c.clear();
        this.pool.set(c.name, c);
      }
      this.symbols.truncate(dictMark);
      throw err;
    }
    this.rows = row0 + n;
    this.rowStartColumns = this.columns.length;
    this.cursor = 0;
  }

  /** Scratch for `size` dictionary entries, kept between calls. */
  private localScratch(size: number): Int32Array {
    if (this.localIds.length < size) {
      let cap = Math.max(64, this.localIds.length * 2);
      while (cap < size) cap *= 2;
      this.localIds = new Int32Array(cap);
    }
    return this.localIds;
  }

  private endRow(): void {
    if (this.pendingCount !== 0) this.assignPendingSymbols();
    const row = this.rows;
    const cols = this.columns;
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]!;
      if (c.lastRow !== row) c.appendNull(row);
    }
    this.rows = row + 1;
    this.rowStartColumns = cols.length;
    this.cursor = 0;
    this.rowOpen = false;
  }

  private column(name: string, type: ColumnTypeCode, value: unknown): ColumnBuffer {
    // Fast path: rows name their columns in the same order as the row before.
    const guess = this.columns[this.cursor];
    if (
      guess !== undefined &&
      guess.name === name &&
      guess.type === type &&
      guess.lastRow !== this.rows &&
      name !== ''
    ) {
      this.cursor = guess.index + 1;
      this.rowOpen = true;
      return guess;
    }
    return this.columnSlow(name, type, value, false);
  }

  private columnSlow(
    name: string,
    type: ColumnTypeCode,
    value: unknown,
    designated: boolean,
  ): ColumnBuffer {
    if (name === '' && !designated) {
      this.fail(name, value, 'column name is empty (reserved for the designated timestamp)');
    }
    let c = this.columns[this.cursor];
    if (c === undefined || c.name !== name) {
      c = this.byName.get(name);
      if (c === undefined) c = this.addColumn(name, type, value);
    }
    if (c.type !== type) {
      this.fail(name, value, `column is ${columnTypeName(c.type)}, not ${columnTypeName(type)}`);
    }
    if (c.lastRow === this.rows) this.fail(name, value, 'column written twice in one row');
    this.cursor = c.index + 1;
    this.rowOpen = true;
    return c;
  }

  private addColumn(name: string, type: ColumnTypeCode, value: unknown): ColumnBuffer {
    if (name !== '') {
      const problem = columnNameProblem(name, this.maxNameLength);
      if (problem !== null) this.fail(String(name), value, problem);
    }
    if (this.columns.length >= Limits.MAX_COLUMNS_PER_TABLE) {
      this.fail(name, value, `table already has ${Limits.MAX_COLUMNS_PER_TABLE} columns`);
    }
    let c = this.pool.get(name);
    if (c === undefined || c.type !== type) c = new ColumnBuffer(name, type);
    this.pool.delete(name);
    c.index = this.columns.length;
    c.backfill(this.rows);
    this.columns.push(c);
    this.byName.set(name, c);
    return c;
  }

  /**
   * The type a timestamp column `name` is written as: the type it already
   * has in this batch (the cursor's column checked before the map), else the
   * one `unit` picks.
   */
  private timestampType(name: string, unit: TimestampUnit): ColumnTypeCode {
    let c = this.columns[this.cursor];
    if (c === undefined || c.name !== name) c = this.byName.get(name);
    if (c !== undefined && isTimestampType(c.type)) return c.type;
    return unit === 'ns' ? ColumnType.TIMESTAMP_NANOS : ColumnType.TIMESTAMP;
  }

  /**
   * How many symbols would take the dictionary past the server's limit if
   * the open row's new ones (and `extra`, if given) were added now; 0 when
   * they fit. Exact only when close to the limit: it is checked per new
   * symbol, and the open row's duplicates are counted once there.
   */
  private newSymbols(extra?: string): number {
    const dict = this.symbols;
    const limit = Limits.MAX_SYMBOL_DICTIONARY_SIZE;
    const n = this.pendingCount;
    if (dict.size + n + (extra === undefined ? 0 : 1) <= limit) return 0;
    const values = this.pendingValues;
    let fresh = 0;
    for (let i = 0; i <= n; i++) {
      const v = i < n ? values[i]! : extra;
      if (v === undefined || dict.peek(v) !== undefined) continue;
      let seen = false;
      for (let j = 0; j < i && !seen; j++) seen = values[j] === v;
      if (!seen) fresh++;
    }
    return Math.max(0, dict.size + fresh - limit);
  }

  /** Gives the open row's new symbols their ids, in the order the row used them. */
  private assignPendingSymbols(): void {
    const n = this.pendingCount;
    // Another table's row may have filled the dictionary since symbol() checked.
    if (this.newSymbols() > 0) this.failFull(this.pendingColumns[0]!.name, this.pendingValues[0]);
    const dict = this.symbols;
    for (let i = 0; i < n; i++) {
      this.pendingColumns[i]!.i32[this.pendingSlots[i]!] = dict.idOf(this.pendingValues[i]!);
    }
    this.pendingCount = 0;
  }

  private failFull(column: string, value: unknown): never {
    // The server refuses a delta past this size on a connection, and a
    // reconnect's catch-up resends the whole dictionary.
    return this.fail(
      column,
      value,
      `symbol dictionary is full (${Limits.MAX_SYMBOL_DICTIONARY_SIZE} distinct symbols, the server's limit)`,
    );
  }

  private putNull(c: ColumnBuffer): this {
    c.appendNull(this.rows);
    return this;
  }

  private fail(column: string | undefined, value: unknown, problem: string): never {
    this.discardRow();
    throw new QwpInvalidValueError(this.name, column, value, problem);
  }

  private checkInt(c: ColumnBuffer, v: unknown, min: number, max: number, type: string): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(c.name, v, `${type} needs an integer in [${min}, ${max}]`);
    }
  }

  /** Stores an int64 from a bigint or an integral number. */
  private putI64(c: ColumnBuffer, v: unknown): void {
    c.reserve();
    const k = c.valueCount;
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < -TWO63 || v >= TWO63) {
        this.fail(c.name, v, 'expected an integer within the signed 64-bit range');
      }
      const hi = Math.floor(v / TWO32);
      c.i32[2 * k] = (v - hi * TWO32) | 0;
      c.i32[2 * k + 1] = hi;
    } else if (typeof v === 'bigint') {
      if (BigInt.asIntN(64, v) !== v) {
        this.fail(c.name, v, 'bigint outside the signed 64-bit range');
      }
      c.i64[k] = v;
    } else {
      this.fail(c.name, v, 'expected a number or bigint');
    }
    c.valueCount = k + 1;
    c.lastRow = this.rows;
  }

  /** Stores a timestamp converted from `unit` to the column's unit. */
  private putTimestamp(c: ColumnBuffer, v: unknown, unit: TimestampUnit): void {
    // The value is already in the column's unit (the common case): stored as is.
    if (unit === (c.type === ColumnType.TIMESTAMP_NANOS ? 'ns' : 'us')) {
      this.putI64(c, v);
      return;
    }
    const unitNanos = UNIT_NANOS.get(unit);
    if (unitNanos === undefined) this.fail(c.name, unit, 'unit must be ns, us, ms or s');
    const colNanos = c.type === ColumnType.TIMESTAMP_NANOS ? 1 : 1000;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) this.fail(c.name, v, 'timestamp must be an integer');
      if (unitNanos > colNanos) {
        const scaled = v * (unitNanos / colNanos);
        if (Number.isSafeInteger(scaled)) {
          this.putI64(c, scaled);
          return;
        }
      }
      this.putI64(c, scaleBig(BigInt(v), unitNanos, colNanos));
    } else if (typeof v === 'bigint') {
      this.putI64(c, scaleBig(v, unitNanos, colNanos));
    } else {
      this.fail(c.name, v, 'expected a number, bigint or Date');
    }
  }

  private arrayColumn(
    name: string,
    type: ColumnTypeCode,
    value: ArrayInput | null | undefined,
  ): this {
    const c = this.column(name, type, value);
    if (value == null) return this.putNull(c);
    const isLong = type === ColumnType.LONG_ARRAY;
    const nested = Array.isArray(value);
    let shape: readonly number[];
    let flat: ArrayLike<unknown> | null = null;
    if (nested) {
      const probeShape = this.shapeScratch;
      probeShape.length = 0;
      let probe: unknown = value;
      while (Array.isArray(probe) && probeShape.length <= Limits.MAX_ARRAY_DIMENSIONS) {
        probeShape.push(probe.length);
        probe = probe[0];
      }
      shape = probeShape;
    } else if (
      typeof value === 'object' &&
      Array.isArray((value as { shape?: unknown }).shape) &&
      typeof (value as { values?: unknown }).values === 'object'
    ) {
      shape = (value as { shape: readonly number[] }).shape;
      flat = (value as { values: ArrayLike<unknown> }).values;
    } else {
      return this.fail(c.name, value, 'expected a nested array or { shape, values }');
    }
    if (shape.length === 0 || shape.length > Limits.MAX_ARRAY_DIMENSIONS) {
      this.fail(c.name, value, `array must have 1-${Limits.MAX_ARRAY_DIMENSIONS} dimensions`);
    }
    let count = 1;
    for (let d = 0; d < shape.length; d++) {
      const len = shape[d]!;
      if (!Number.isInteger(len) || len < 0 || len > 0x7fffffff) {
        this.fail(c.name, value, `array dimension ${len} is not a non-negative int32`);
      }
      count *= len;
    }
    if (flat !== null && flat.length !== count) {
      this.fail(c.name, value, `array shape [${shape}] needs ${count} values`);
    }
    const bytes = 1 + shape.length * 4 + count * 8;
    c.reserveVar(bytes);
    const view = c.dataView;
    let p = c.dataLen;
    view.setUint8(p, shape.length);
    for (let d = 0; d < shape.length; d++) view.setInt32(p + 1 + d * 4, shape[d]!, true);
    p += 1 + shape.length * 4;
    if (flat !== null) {
      for (let i = 0; i < flat.length; i++, p += 8) {
        if (!writeElement(view, p, flat[i], isLong))
          this.fail(c.name, flat[i], elementProblem(isLong));
      }
    } else {
      p = this.writeNested(c, value as readonly unknown[], shape, 0, p, isLong);
    }
    c.endVar(p);
    c.lastRow = this.rows;
    return this;
  }

  /** Writes a nested array's leaves row-major at `p`, checking it is not ragged. */
  private writeNested(
    c: ColumnBuffer,
    node: readonly unknown[],
    shape: readonly number[],
    depth: number,
    p: number,
    isLong: boolean,
  ): number {
    if (node.length !== shape[depth]) {
      this.fail(c.name, node, `ragged array: expected length ${shape[depth]} at depth ${depth}`);
    }
    const leaf = depth === shape.length - 1;
    for (let i = 0; i < node.length; i++) {
      const child = node[i];
      if (leaf) {
        if (Array.isArray(child)) {
          this.fail(c.name, child, `array is deeper than ${shape.length} dimensions`);
        }
        if (!writeElement(c.dataView, p, child, isLong))
          this.fail(c.name, child, elementProblem(isLong));
        p += 8;
      } else {
        if (!Array.isArray(child)) {
          this.fail(c.name, child, `ragged array: expected an array at depth ${depth + 1}`);
        }
        p = this.writeNested(c, child, shape, depth + 1, p, isLong);
      }
    }
    return p;
  }

  private decimalColumn(
    name: string,
    type: ColumnTypeCode,
    value: bigint | string | null | undefined,
    scale: number,
  ): this {
    const c = this.column(name, type, value);
    if (value == null) return this.putNull(c);
    let unscaled: bigint;
    let s = scale;
    if (typeof value === 'string') {
      const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(value);
      if (m === null) return this.fail(c.name, value, 'expected decimal text like -12.345');
      s = m[3]?.length ?? 0;
      unscaled = BigInt(`${m[1]}${m[2]}${m[3] ?? ''}`);
    } else if (typeof value === 'bigint') {
      unscaled = value;
    } else {
      return this.fail(c.name, value, 'expected a bigint (unscaled) or decimal text');
    }
    const max = maxDecimalScale(type);
    if (!Number.isInteger(s) || s < 0 || s > max) {
      this.fail(c.name, value, `decimal scale ${s} is outside 0-${max}`);
    }
    // The first value fixes the column's scale, but only once it is known to
    // fit: a refused value must not constrain the rows that follow it.
    const columnScale = c.scale === -1 ? s : c.scale;
    if (s > columnScale) {
      this.fail(c.name, value, `decimal scale ${s} exceeds the column's scale ${columnScale}`);
    } else if (s < columnScale) {
      unscaled *= 10n ** BigInt(columnScale - s);
    }
    const bits = c.width * 8;
    if (unscaled !== BigInt.asIntN(bits, unscaled)) {
      this.fail(c.name, value, `decimal overflows ${columnTypeName(type)}`);
    }
    if (c.scale === -1) {
      c.scale = s;
      c.scaleRow = this.rows;
    }
    c.reserve();
    wordsToWire(unscaled, c.view, c.valueCount++ * c.width, c.width / 8);
    c.lastRow = this.rows;
    return this;
  }
}

/** Writes one array element as float64 or int64; false if it is the wrong kind. */
function writeElement(view: DataView, p: number, e: unknown, isLong: boolean): boolean {
  if (!isLong) {
    if (typeof e !== 'number') return false;
    view.setFloat64(p, e, true);
    return true;
  }
  if (typeof e === 'bigint') {
    if (BigInt.asIntN(64, e) !== e) return false;
    view.setBigInt64(p, e, true);
    return true;
  }
  if (typeof e === 'number' && Number.isSafeInteger(e)) {
    const hi = Math.floor(e / TWO32);
    view.setUint32(p, e - hi * TWO32, true);
    view.setInt32(p + 4, hi, true);
    return true;
  }
  return false;
}

function elementProblem(isLong: boolean): string {
  return isLong
    ? 'LONG_ARRAY element is not a 64-bit integer'
    : 'DOUBLE_ARRAY element is not a number';
}
