/**
 * Inputs of `qwp send`: CSV (csv-parse), NDJSON (one JSON.parse per line)
 * and Parquet (hyparquet, one row group in memory at a time), each read as
 * a stream of rows with values in column order and the place of each row
 * in the input, for messages and for resuming.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { type CsvError, parse as parseCsv } from 'csv-parse';
import {
  type AsyncBuffer,
  asyncBufferFromFile,
  type FileMetaData,
  type ParquetParsers,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
  type SchemaElement,
  type SchemaTree,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { BadRowError, InputError } from './errors.js';
import { Instant, type SendType } from './types.js';

export type Format = 'csv' | 'ndjson' | 'parquet';

/** One data row: values in the order of `Source.columns` (shorter: the rest are null). */
export interface InputRow {
  values: unknown[];
  /** 0-based position among the data rows. */
  index: number;
  /** Where it is, for messages: `line 12` (CSV, NDJSON: 1-based lines) or `row 5` (Parquet, 0-based). */
  where: string;
}

export interface Source {
  readonly format: Format;
  /** The file's path, or `stdin`. */
  readonly name: string;
  /** Column names; NDJSON adds keys as they first appear. */
  readonly columns: string[];
  /** Types the input itself declares (Parquet), by column; undefined entries are inferred. */
  readonly declared: (SendType | undefined)[];
  /** Size in bytes, when known (a file). */
  readonly totalBytes: number | undefined;
  /** Row count, when known (Parquet). */
  readonly totalRows: number | undefined;
  /** Bytes read so far. */
  bytesRead(): number;
  /**
   * The rows from data row `skip` on (the rows before are read past, not
   * returned). Throws BadRowError at a row that cannot be parsed, after
   * returning every row before it.
   */
  rows(skip: number): AsyncIterator<InputRow>;
  close(): void;
}

export interface OpenOptions {
  format: Format;
  /** A path, or `-` for `stdin`. */
  path: string;
  stdin: Readable;
  /** CSV field delimiter. */
  delimiter: string;
}

/** Opens `options.path` (or stdin) and reads what is needed to know its columns. */
export async function openSource(options: OpenOptions): Promise<Source> {
  if (options.format === 'parquet') return ParquetSource.open(options.path);
  const fromStdin = options.path === '-';
  let totalBytes: number | undefined;
  if (!fromStdin) {
    try {
      const st = statSync(options.path);
      if (!st.isFile()) throw new InputError(`${options.path} is not a file`);
      totalBytes = st.size;
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`cannot read ${options.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  const stream = fromStdin ? options.stdin : createReadStream(options.path);
  const name = fromStdin ? 'stdin' : options.path;
  const source =
    options.format === 'csv'
      ? new CsvSource(name, stream, totalBytes, options.delimiter)
      : new NdjsonSource(name, stream, totalBytes);
  await source.readHeader();
  return source;
}

/** Passes a byte stream through, counting it. */
class ByteCounter extends Transform {
  count = 0;
  constructor(from: Readable) {
    super();
    from.on('error', (err) => this.destroy(err));
    from.pipe(this);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count += chunk.length;
    done(null, chunk);
  }
}

// ---- CSV ----

/** Line breaks inside a record's fields (quoted values), so line numbers stay right. */
function breaksIn(record: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < record.length; i++) {
    const f = record[i]!;
    for (let at = f.indexOf('\n'); at >= 0; at = f.indexOf('\n', at + 1)) n++;
  }
  return n;
}

class CsvSource implements Source {
  readonly format = 'csv' as const;
  readonly columns: string[] = [];
  readonly declared: (SendType | undefined)[] = [];
  readonly totalRows = undefined;
  private readonly counter: ByteCounter;
  private readonly parser: ReturnType<typeof parseCsv>;
  private readonly records: AsyncIterator<string[]>;
  private firstError: CsvError | null = null;
  /** Records the parser returned (the header and empty lines included), and the last line they reach. */
  private seen = 0;
  private line = 0;

  constructor(
    readonly name: string,
    private readonly stream: Readable,
    readonly totalBytes: number | undefined,
    delimiter: string,
  ) {
    this.counter = new ByteCounter(stream);
    // Line numbers are counted here rather than with csv-parse's `info`,
    // which copies an object per record and halves the parser's speed; so
    // empty lines come through (as ['']) and field counts are checked here.
    this.parser = parseCsv({
      bom: true,
      delimiter,
      relax_column_count: true,
      // A record that cannot be parsed is reported through 'skip' in its
      // place; thrown, it would discard the records parsed before it.
      skip_records_with_error: true,
    });
    this.parser.on('skip', (err: CsvError) => {
      this.firstError ??= err;
    });
    this.counter.on('error', (err) => this.parser.destroy(err));
    this.counter.pipe(this.parser);
    this.records = this.parser[Symbol.asyncIterator]() as AsyncIterator<string[]>;
  }

  bytesRead(): number {
    return this.counter.count;
  }

  /** The next record that is not an empty line, with the line it starts on; null at the end or at a parse error. */
  private async next(index: number): Promise<{ record: string[]; line: number } | null> {
    for (;;) {
      let next: IteratorResult<string[]>;
      try {
        next = await this.records.next();
      } catch (err) {
        throw new BadRowError(`line ${this.line + 1}`, index, undefined, (err as Error).message, {
          cause: err,
        });
      }
      if (next.done === true) return null;
      // A record parsed after a bad one: stop at the bad one.
      this.seen++;
      if (this.firstError !== null && this.seen > (this.firstError.records as number)) return null;
      const record = next.value;
      const line = this.line + 1;
      this.line = line + breaksIn(record);
      if (record.length === 1 && record[0] === '') continue;
      return { record, line };
    }
  }

  async readHeader(): Promise<void> {
    let first: { record: string[]; line: number } | null;
    try {
      first = await this.next(0);
    } catch (err) {
      throw new InputError(`cannot read ${this.name}: ${(err as Error).message}`, { cause: err });
    }
    if (first === null) {
      const why = this.firstError === null ? 'it is empty' : this.firstError.message;
      throw new InputError(`${this.name} has no CSV header: ${why}`);
    }
    const seen = new Set<string>();
    first.record.forEach((raw, i) => {
      const name = raw.trim();
      if (name === '') throw new InputError(`${this.name}: CSV header column ${i + 1} has no name`);
      if (seen.has(name)) throw new InputError(`${this.name}: CSV header names '${name}' twice`);
      seen.add(name);
      this.columns.push(name);
    });
  }

  async *rows(skip: number): AsyncGenerator<InputRow> {
    const width = this.columns.length;
    let index = 0;
    for (;;) {
      const next = await this.next(index);
      if (next === null) break;
      const { record, line } = next;
      if (record.length !== width) {
        throw new BadRowError(
          `line ${line}`,
          index,
          undefined,
          `${record.length} field${record.length === 1 ? '' : 's'}, but the header has ${width}`,
        );
      }
      if (index >= skip) yield { values: record, index, where: `line ${line}` };
      index++;
    }
    const err = this.firstError;
    if (err !== null) {
      throw new BadRowError(`line ${err.lines as number}`, index, undefined, err.message, {
        cause: err,
      });
    }
  }

  close(): void {
    this.counter.unpipe(this.parser);
    this.parser.destroy();
    this.stream.unpipe(this.counter);
    if (this.stream !== process.stdin) this.stream.destroy();
  }
}

// ---- NDJSON ----

class NdjsonSource implements Source {
  readonly format = 'ndjson' as const;
  readonly columns: string[] = [];
  readonly declared: (SendType | undefined)[] = [];
  readonly totalRows = undefined;
  private readonly byName = new Map<string, number>();
  private readonly counter: ByteCounter;
  private readonly lines: AsyncIterator<string>;
  private lineNo = 0;
  /** Rows read for the header (NDJSON has none: its columns come from the first rows). */
  private readonly ahead: { values: unknown[]; line: number }[] = [];

  constructor(
    readonly name: string,
    private readonly stream: Readable,
    readonly totalBytes: number | undefined,
  ) {
    this.counter = new ByteCounter(stream);
    this.lines = createInterface({ input: this.counter, crlfDelay: Infinity })[
      Symbol.asyncIterator
    ]();
  }

  bytesRead(): number {
    return this.counter.count;
  }

  async readHeader(): Promise<void> {
    // The first object gives the first columns; later keys join as they appear.
    const first = await this.readObject(0);
    if (first !== null) this.ahead.push(first);
  }

  /** The next object as values in column order (adding new keys as columns), or null at the end. */
  private async readObject(index: number): Promise<{ values: unknown[]; line: number } | null> {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await this.lines.next();
      } catch (err) {
        throw new InputError(`cannot read ${this.name}: ${(err as Error).message}`, { cause: err });
      }
      if (next.done === true) return null;
      const line = ++this.lineNo;
      const text = next.value.trim();
      if (text === '') continue;
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (err) {
        throw new BadRowError(
          `line ${line}`,
          index,
          undefined,
          `not JSON: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        throw new BadRowError(`line ${line}`, index, undefined, 'not a JSON object');
      }
      const values: unknown[] = new Array(this.columns.length);
      for (const key in obj) {
        let i = this.byName.get(key);
        if (i === undefined) {
          i = this.columns.length;
          this.columns.push(key);
          this.byName.set(key, i);
        }
        values[i] = (obj as Record<string, unknown>)[key];
      }
      return { values, line };
    }
  }

  async *rows(skip: number): AsyncGenerator<InputRow> {
    let index = 0;
    for (;;) {
      const next = this.ahead.shift() ?? (await this.readObject(index));
      if (next === null) return;
      if (index >= skip) yield { values: next.values, index, where: `line ${next.line}` };
      index++;
    }
  }

  close(): void {
    this.stream.unpipe(this.counter);
    if (this.stream !== process.stdin) this.stream.destroy();
  }
}

// ---- Parquet ----

/** Timestamps as tagged nanoseconds, dates as milliseconds: hyparquet's defaults (Date) lose precision. */
const PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v: bigint) => new Instant(BigInt(v) * 1_000_000n),
  timestampFromMicroseconds: (v: bigint) => new Instant(BigInt(v) * 1000n),
  timestampFromNanoseconds: (v: bigint) => new Instant(BigInt(v)),
  dateFromDays: (days: number) => new Instant(BigInt(days) * 86_400_000_000_000n),
};

/** The QWP type a Parquet column maps to. */
export function parquetColumnType(node: SchemaTree): SendType {
  const e: SchemaElement = node.element;
  if (node.children.length > 0 || e.repetition_type === 'REPEATED') return 'VARCHAR'; // as JSON
  const lt = e.logical_type;
  const ct = e.converted_type;
  if (ct === 'DECIMAL' || lt?.type === 'DECIMAL') return 'DOUBLE'; // hyparquet reads decimals as numbers
  if (lt?.type === 'TIMESTAMP') return lt.unit === 'NANOS' ? 'TIMESTAMP_NANOS' : 'TIMESTAMP';
  if (ct === 'TIMESTAMP_MILLIS' || ct === 'TIMESTAMP_MICROS') return 'TIMESTAMP';
  if (ct === 'DATE' || lt?.type === 'DATE') return 'DATE';
  if (lt?.type === 'UUID') return 'UUID';
  if (lt?.type === 'FLOAT16') return 'FLOAT';
  switch (e.type) {
    case 'BOOLEAN':
      return 'BOOLEAN';
    case 'INT32': {
      const bits = lt?.type === 'INTEGER' ? lt.bitWidth : intBits(ct);
      const signed = lt?.type === 'INTEGER' ? lt.isSigned : !ct?.startsWith('UINT');
      if (bits === 8) return signed ? 'BYTE' : 'SHORT';
      if (bits === 16) return signed ? 'SHORT' : 'INT';
      return signed ? 'INT' : 'LONG';
    }
    case 'INT64':
      return 'LONG';
    case 'INT96':
      return 'TIMESTAMP_NANOS';
    case 'FLOAT':
      return 'FLOAT';
    case 'DOUBLE':
      return 'DOUBLE';
    case 'FIXED_LEN_BYTE_ARRAY':
      return 'BINARY';
    default:
      // BYTE_ARRAY: text (hyparquet decodes unannotated byte arrays as UTF-8), JSON, geometry.
      return 'VARCHAR';
  }
}

function intBits(ct: SchemaElement['converted_type']): number {
  if (ct === 'INT_8' || ct === 'UINT_8') return 8;
  if (ct === 'INT_16' || ct === 'UINT_16') return 16;
  return 32;
}

class ParquetSource implements Source {
  readonly format = 'parquet' as const;
  readonly columns: string[];
  readonly declared: (SendType | undefined)[];
  readonly totalRows: number;
  private read = 0;

  private constructor(
    readonly name: string,
    private readonly file: AsyncBuffer,
    private readonly metadata: FileMetaData,
    readonly totalBytes: number,
  ) {
    const top = parquetSchema(metadata).children;
    this.columns = top.map((c) => c.element.name);
    this.declared = top.map(parquetColumnType);
    this.totalRows = Number(metadata.num_rows);
  }

  static async open(path: string): Promise<ParquetSource> {
    if (path === '-') {
      throw new InputError(
        'Parquet cannot be read from stdin (it is read from its footer): pass a file',
      );
    }
    let file: AsyncBuffer;
    let metadata: FileMetaData;
    try {
      const raw = await asyncBufferFromFile(path);
      const counted: { source?: ParquetSource } = {};
      file = {
        byteLength: raw.byteLength,
        slice: async (start, end) => {
          const buf = await raw.slice(start, end);
          if (counted.source !== undefined) counted.source.read += buf.byteLength;
          return buf;
        },
      };
      metadata = await parquetMetadataAsync(file, { parsers: PARSERS });
      const source = new ParquetSource(path, file, metadata, raw.byteLength);
      counted.source = source;
      return source;
    } catch (err) {
      throw new InputError(`cannot read ${path} as Parquet: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  bytesRead(): number {
    return this.read;
  }

  async *rows(skip: number): AsyncGenerator<InputRow> {
    const width = this.columns.length;
    let groupStart = 0;
    for (const group of this.metadata.row_groups) {
      const groupEnd = groupStart + Number(group.num_rows);
      const from = Math.max(groupStart, skip);
      if (from < groupEnd) {
        const data = await this.readGroup(from, groupEnd);
        for (let r = from; r < groupEnd; r++) {
          const values: unknown[] = new Array(width);
          for (let c = 0; c < width; c++) values[c] = data[c]!(r);
          yield { values, index: r, where: `row ${r}` };
        }
      }
      groupStart = groupEnd;
    }
  }

  /** Reads rows [from, to) of one row group: one accessor per column, by absolute row index. */
  private async readGroup(from: number, to: number): Promise<((row: number) => unknown)[]> {
    const chunks = new Map<string, { start: number; data: ArrayLike<unknown> }[]>();
    try {
      await parquetRead({
        file: this.file,
        metadata: this.metadata,
        rowStart: from,
        rowEnd: to,
        compressors,
        parsers: PARSERS,
        onChunk: (chunk) => {
          let list = chunks.get(chunk.columnName);
          if (list === undefined) {
            list = [];
            chunks.set(chunk.columnName, list);
          }
          list.push({ start: chunk.rowStart, data: chunk.columnData as ArrayLike<unknown> });
        },
      });
    } catch (err) {
      throw new BadRowError(
        `row ${from}`,
        from,
        undefined,
        `cannot read the row group: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return this.columns.map((name) => {
      const list = chunks.get(name) ?? [];
      if (list.length === 1) {
        const { start, data } = list[0]!;
        return (row: number) => data[row - start];
      }
      return (row: number) => {
        for (const { start, data } of list) {
          if (row >= start && row < start + data.length) return data[row - start];
        }
        return undefined;
      };
    });
  }

  close(): void {}
}
