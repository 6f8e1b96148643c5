import {
  type AppendColumnsOptions,
  type ArrayInput,
  type ColumnarColumn,
  QwpInvalidValueError,
  type TableBuffer,
  type TimestampUnit,
} from '@qwp/qwp-wire';
import { SenderStateError } from './errors.js';

export type { AppendColumnsOptions, ArrayInput, ColumnarColumn, TimestampUnit };

/**
 * The row API, shared by the sender and a transaction: `table()` starts a
 * row, column methods add values, `at()` / `atNow()` end it. Names follow
 * `@questdb/nodejs-client` where the meaning is the same; every other QWP
 * type has its own method. A bad name or value throws QwpInvalidValueError
 * (table, column, value named) and discards only that row.
 */
export abstract class RowWriter {
  private current: TableBuffer | null = null;
  /**
   * Bytes no single value may exceed: more can never fit a frame, so the
   * value is refused with its row at once, instead of failing the whole
   * batch at the next flush. Set by the sender from its frame budget.
   */
  protected valueLimit = Number.POSITIVE_INFINITY;
  /**
   * A lower bound of the current row's VARCHAR and BINARY bytes: past
   * valueLimit the whole row can never fit a frame, and at() refuses it
   * alone rather than let it fail every row buffered with it at the flush.
   */
  private rowBytes = 0;

  /** Checks the writer can take a row and returns the table's buffer. */
  protected abstract beginRow(table: string): TableBuffer;
  /** `count` rows were completed. */
  protected abstract endRows(count: number): void;

  /** Starts a row in `table`. */
  table(name: string): this {
    const c = this.current;
    if (c?.hasOpenRow) {
      throw new SenderStateError(
        `table('${name}') while a row of '${c.name}' is unfinished: end it with at() or atNow() first`,
      );
    }
    this.current = this.beginRow(name);
    this.rowBytes = 0;
    return this;
  }

  /** True while a row has values but no at()/atNow() yet. */
  get rowInProgress(): boolean {
    return this.current?.hasOpenRow === true;
  }

  /** SYMBOL: a dictionary-encoded string. */
  symbol(name: string, value: string | null | undefined): this {
    this.row().symbol(name, value);
    return this;
  }

  /** VARCHAR. */
  stringColumn(name: string, value: string | null | undefined): this {
    return this.varcharColumn(name, value);
  }

  /** VARCHAR (same as stringColumn). */
  varcharColumn(name: string, value: string | null | undefined): this {
    const t = this.row();
    if (typeof value === 'string') {
      // At least one UTF-8 byte per UTF-16 unit, at most three: only long strings are measured.
      this.rowBytes += value.length;
      if (value.length * 3 > this.valueLimit) {
        this.checkSize(t, name, value, Buffer.byteLength(value, 'utf8'));
      }
    }
    t.varcharColumn(name, value);
    return this;
  }

  /** BOOLEAN. */
  booleanColumn(name: string, value: boolean | null | undefined): this {
    this.row().booleanColumn(name, value);
    return this;
  }

  /** LONG (64-bit integer; a number must be a safe integer, or pass a bigint). */
  intColumn(name: string, value: number | bigint | null | undefined): this {
    this.row().longColumn(name, value);
    return this;
  }

  /** LONG (same as intColumn). */
  longColumn(name: string, value: number | bigint | null | undefined): this {
    this.row().longColumn(name, value);
    return this;
  }

  /** INT (32-bit). */
  int32Column(name: string, value: number | null | undefined): this {
    this.row().int32Column(name, value);
    return this;
  }

  /** SHORT (16-bit). */
  shortColumn(name: string, value: number | null | undefined): this {
    this.row().shortColumn(name, value);
    return this;
  }

  /** BYTE (8-bit). */
  byteColumn(name: string, value: number | null | undefined): this {
    this.row().byteColumn(name, value);
    return this;
  }

  /** DOUBLE. */
  floatColumn(name: string, value: number | null | undefined): this {
    this.row().doubleColumn(name, value);
    return this;
  }

  /** DOUBLE (same as floatColumn). */
  doubleColumn(name: string, value: number | null | undefined): this {
    this.row().doubleColumn(name, value);
    return this;
  }

  /** FLOAT (32-bit). */
  float32Column(name: string, value: number | null | undefined): this {
    this.row().float32Column(name, value);
    return this;
  }

  /** CHAR (one UTF-16 code unit). */
  charColumn(name: string, value: string | null | undefined): this {
    this.row().charColumn(name, value);
    return this;
  }

  /** TIMESTAMP (µs), or TIMESTAMP_NANOS with unit 'ns'. */
  timestampColumn(
    name: string,
    value: number | bigint | Date | null | undefined,
    unit: TimestampUnit = 'us',
  ): this {
    this.row().timestampColumn(name, value, unit);
    return this;
  }

  /** DATE (milliseconds since the epoch). */
  dateColumn(name: string, value: number | bigint | Date | null | undefined): this {
    this.row().dateColumn(name, value);
    return this;
  }

  /** UUID (text form). */
  uuidColumn(name: string, value: string | null | undefined): this {
    this.row().uuidColumn(name, value);
    return this;
  }

  /** LONG256. */
  long256Column(name: string, value: bigint | string | null | undefined): this {
    this.row().long256Column(name, value);
    return this;
  }

  /** GEOHASH of `bits` (1-60) precision. */
  geohashColumn(name: string, value: number | bigint | null | undefined, bits: number): this {
    this.row().geohashColumn(name, value, bits);
    return this;
  }

  /** IPv4 (dotted quad or uint32). */
  ipv4Column(name: string, value: string | number | null | undefined): this {
    this.row().ipv4Column(name, value);
    return this;
  }

  /** BINARY (the bytes are copied). */
  binaryColumn(name: string, value: Uint8Array | null | undefined): this {
    const t = this.row();
    if (value instanceof Uint8Array) {
      this.checkSize(t, name, value, value.length);
      this.rowBytes += value.length;
    }
    t.binaryColumn(name, value);
    return this;
  }

  /** DOUBLE array (nested arrays, or `{ shape, values }`). */
  arrayColumn(name: string, value: ArrayInput | null | undefined): this {
    this.row().doubleArrayColumn(name, value);
    return this;
  }

  /** DOUBLE array (same as arrayColumn). */
  doubleArrayColumn(name: string, value: ArrayInput | null | undefined): this {
    this.row().doubleArrayColumn(name, value);
    return this;
  }

  /** LONG array. */
  longArrayColumn(name: string, value: ArrayInput | null | undefined): this {
    this.row().longArrayColumn(name, value);
    return this;
  }

  /**
   * DECIMAL (sent as DECIMAL256, so any value of QuestDB's decimal range
   * fits): an unscaled bigint with its scale, as @questdb/nodejs-client's
   * decimalColumn, or text such as '-12.345' with scale 0 meaning "as written".
   */
  decimalColumn(name: string, value: bigint | string | null | undefined, scale = 0): this {
    this.row().decimal256Column(name, value, scale);
    return this;
  }

  /** DECIMAL from text, e.g. '123.45' (as @questdb/nodejs-client's decimalColumnText). */
  decimalColumnText(name: string, value: string | number | null | undefined): this {
    this.row().decimal256Column(name, value == null ? value : String(value));
    return this;
  }

  /** DECIMAL64 (up to 18 digits). */
  decimal64Column(name: string, value: bigint | string | null | undefined, scale = 0): this {
    this.row().decimal64Column(name, value, scale);
    return this;
  }

  /** DECIMAL128 (up to 38 digits). */
  decimal128Column(name: string, value: bigint | string | null | undefined, scale = 0): this {
    this.row().decimal128Column(name, value, scale);
    return this;
  }

  /** DECIMAL256 (up to 76 digits). */
  decimal256Column(name: string, value: bigint | string | null | undefined, scale = 0): this {
    this.row().decimal256Column(name, value, scale);
    return this;
  }

  /**
   * Ends the row with its designated timestamp (`unit` ns, us (default), ms
   * or s; 'ns' makes the column TIMESTAMP_NANOS). Synchronous: it may flush
   * (auto-flush), but never waits.
   */
  at(timestamp: number | bigint | Date, unit: TimestampUnit = 'us'): void {
    const t = this.row();
    if (this.rowBytes > this.valueLimit) this.refuseRow(t);
    t.at(timestamp, unit);
    this.current = null;
    this.endRows(1);
  }

  /** Ends the row without a designated timestamp: the server assigns its clock. */
  atNow(): void {
    const t = this.row();
    if (this.rowBytes > this.valueLimit) this.refuseRow(t);
    t.atNow();
    this.current = null;
    this.endRows(1);
  }

  /**
   * Appends rows given as columns (typed arrays, string arrays, dictionary
   * encoded symbols, optional null masks) without per-row calls: fixed-width
   * columns are copied in one block. `options.timestamps` (with its `unit`)
   * are the designated timestamps; left out, the server assigns them. A bad
   * input throws QwpInvalidValueError (table, column, row) and adds nothing.
   *
   * ```ts
   * sender.columns('trades', [
   *   { name: 'sym', type: 'SYMBOL', values: { dictionary: ['BTC-USD', 'ETH-USD'], indices } },
   *   { name: 'px', type: 'DOUBLE', values: prices },          // Float64Array
   *   { name: 'qty', type: 'LONG', values: quantities },       // BigInt64Array
   * ], { timestamps, unit: 'us' });                            // BigInt64Array
   * ```
   */
  columns(table: string, columns: readonly ColumnarColumn[], options?: AppendColumnsOptions): this {
    this.table(table);
    const t = this.current!;
    this.current = null;
    const before = t.rowCount;
    t.appendColumns(columns, options);
    this.endRows(t.rowCount - before);
    return this;
  }

  /** Drops the unfinished row (its values, and any symbol only it used); a no-op between rows. */
  discardRow(): this {
    this.current?.discardRow();
    this.current = null;
    return this;
  }

  /** Forgets the table of an unfinished row (its values are discarded by the caller). */
  protected forgetRow(): void {
    this.current = null;
  }

  /** Refuses (discarding it) a row whose values alone can never fit a frame. */
  private refuseRow(t: TableBuffer): never {
    const bytes = this.rowBytes;
    this.discardRow();
    throw new QwpInvalidValueError(
      t.name,
      undefined,
      undefined,
      `the row's VARCHAR and BINARY values take at least ${bytes} bytes and can never fit a frame of at most ${this.valueLimit} bytes (the frame budget); the row is discarded`,
    );
  }

  /** Refuses (discarding the row) a value of `bytes` bytes over {@link valueLimit}. */
  private checkSize(t: TableBuffer, column: string, value: unknown, bytes: number): void {
    if (bytes <= this.valueLimit) return;
    this.discardRow();
    throw new QwpInvalidValueError(
      t.name,
      column,
      value,
      `a ${bytes}-byte value can never fit a frame of at most ${this.valueLimit} bytes (the frame budget); the row is discarded`,
    );
  }

  private row(): TableBuffer {
    const c = this.current;
    if (c === null)
      throw new SenderStateError('no table: call table(name) before a column or at()');
    return c;
  }
}
