/**
 * The plan of an import: which column of the input becomes which QWP
 * column of which type, and where the designated timestamp comes from.
 */
import { columnNameProblem } from '@qwp/qwp-wire/codec';
import type { TimestampUnit } from '@qwp/sender';
import { UsageError } from '../io.js';
import { InputError } from './errors.js';
import type { InputRow, Source } from './sources.js';
import {
  asNanos,
  type ColumnWriter,
  floorDiv,
  Instant,
  parseIsoNanos,
  readerFor,
  type SendType,
  TypeGuess,
  ValueError,
  type ValueReader,
  writerFor,
} from './types.js';

export interface PlanOptions {
  /** Column holding the designated timestamp; without it, rows get the server's clock. */
  timestamp: string | undefined;
  /** What numeric timestamps count; undefined: numbers are refused as timestamps. */
  unit: TimestampUnit | undefined;
  /** Columns sent as SYMBOL. */
  symbols: readonly string[];
  /** Explicit types, by column. */
  types: ReadonlyMap<string, SendType>;
}

export interface PlannedColumn {
  name: string;
  /** Index in the source's values. */
  index: number;
  type: SendType;
  read: ValueReader;
  write: ColumnWriter;
  /** How the type was chosen, for the plan printed at the start. */
  origin: 'inferred' | 'declared' | 'given';
}

export interface DesignatedTimestamp {
  name: string;
  index: number;
  type: SendType;
  /** The timestamp in `unit` (bigint), ready for `at()`. */
  read: (value: unknown) => bigint;
  unit: 'us' | 'ns';
}

/** The part of a plan a checkpoint records, to tell a resumed import has the same one. */
export interface PlanShape {
  columns: { name: string; type: SendType }[];
  timestamp: { name: string; type: SendType; unit: 'us' | 'ns' } | null;
}

export class Plan {
  readonly columns: PlannedColumn[] = [];
  readonly timestamp: DesignatedTimestamp | undefined;
  /** Source columns handled so far (the designated one included); NDJSON may add more later. */
  private known: number;

  constructor(
    private readonly source: Source,
    samples: readonly InputRow[],
    private readonly options: PlanOptions,
  ) {
    const names = source.columns;
    if (source.format !== 'ndjson') {
      // NDJSON keys may first appear after the sampled rows; other inputs list every column up front.
      for (const name of [...options.symbols, ...options.types.keys()]) {
        if (!names.includes(name)) {
          throw new UsageError(
            `${source.name} has no column '${name}' (it has ${names.join(', ')})`,
          );
        }
      }
    }
    for (const name of options.symbols) {
      if (options.types.has(name)) {
        throw new UsageError(`column '${name}' is in both --symbols and --types: name it once`);
      }
    }
    let timestamp: DesignatedTimestamp | undefined;
    if (options.timestamp !== undefined) {
      const index = names.indexOf(options.timestamp);
      if (index < 0) {
        throw new UsageError(
          `--timestamp ${options.timestamp}: ${source.name} has no such column (it has ${names.join(', ')})`,
        );
      }
      timestamp = this.designated(index, samples);
    }
    this.timestamp = timestamp;
    this.known = 0;
    this.extend(samples);
  }

  /** Plans the columns the source added since (NDJSON keys), typed from `rows`. */
  extend(rows: readonly InputRow[]): void {
    const names = this.source.columns;
    for (let i = this.known; i < names.length; i++) {
      if (i === this.timestamp?.index) continue;
      const name = names[i]!;
      const problem = columnNameProblem(name);
      if (problem !== null) {
        throw new InputError(`${this.source.name}: column '${name}' cannot be sent: ${problem}`);
      }
      let type: SendType;
      let origin: PlannedColumn['origin'];
      const given = this.options.types.get(name);
      const declared = this.source.declared[i];
      if (given !== undefined) {
        type = given;
        origin = 'given';
      } else if (this.options.symbols.includes(name)) {
        type = 'SYMBOL';
        origin = 'given';
      } else if (declared !== undefined) {
        type = declared;
        origin = 'declared';
      } else {
        type = guess(rows, i, this.source.format === 'ndjson').type;
        origin = 'inferred';
      }
      this.columns.push({
        name,
        index: i,
        type,
        read: readerFor(type, this.options.unit ?? 'us'),
        write: writerFor(type),
        origin,
      });
    }
    this.known = names.length;
  }

  /** True when the source has columns this plan does not cover yet. */
  get stale(): boolean {
    return this.known < this.source.columns.length;
  }

  shape(): PlanShape {
    const t = this.timestamp;
    return {
      columns: this.columns.map((c) => ({ name: c.name, type: c.type })),
      timestamp: t === undefined ? null : { name: t.name, type: t.type, unit: t.unit },
    };
  }

  /** `sym SYMBOL, px DOUBLE (inferred), ...` for the line printed at the start. */
  describe(): string {
    const cols = this.columns.map(
      (c) => `${c.name} ${c.type}${c.origin === 'inferred' ? '' : ` (${c.origin})`}`,
    );
    const t = this.timestamp;
    const ts =
      t === undefined
        ? 'designated timestamp: the server clock (no --timestamp)'
        : `designated timestamp: ${t.name} (${t.unit === 'ns' ? 'TIMESTAMP_NANOS' : 'TIMESTAMP'})`;
    return `columns: ${cols.join(', ')}; ${ts}`;
  }

  private designated(index: number, samples: readonly InputRow[]): DesignatedTimestamp {
    const name = this.source.columns[index]!;
    const given = this.options.types.get(name);
    const type =
      given ??
      this.source.declared[index] ??
      guess(samples, index, this.source.format === 'ndjson').type;
    const unit = this.options.unit;
    const numeric = type === 'LONG' || type === 'DOUBLE' || type === 'INT' || type === 'SHORT';
    if (numeric && unit === undefined) {
      throw new UsageError(
        `--timestamp ${name} holds numbers: say what they count with --unit ns, us, ms or s`,
      );
    }
    if (!numeric && type !== 'TIMESTAMP' && type !== 'TIMESTAMP_NANOS' && type !== 'DATE') {
      throw new UsageError(
        `--timestamp ${name}: its values are ${type}, not ISO-8601 timestamps or numbers`,
      );
    }
    const nanos = type === 'TIMESTAMP_NANOS' || (numeric && unit === 'ns');
    const numberUnit = unit ?? 'us';
    const read = (value: unknown): bigint => {
      if (value === null || value === undefined || value === '') {
        throw new ValueError('the designated timestamp is empty');
      }
      if (unit === undefined && !isInstantLike(value)) {
        throw new ValueError(
          `${JSON.stringify(value)} is not an ISO-8601 timestamp (numbers need --unit)`,
        );
      }
      const ns = asNanos(value, numberUnit, 'timestamp');
      return nanos ? ns : floorDiv(ns, 1000n);
    };
    return { name, index, type, read, unit: nanos ? 'ns' : 'us' };
  }
}

function isInstantLike(value: unknown): boolean {
  if (value instanceof Instant) return true;
  return typeof value === 'string' && parseIsoNanos(value.trim()) !== undefined;
}

function guess(rows: readonly InputRow[], index: number, json: boolean): TypeGuess {
  const g = new TypeGuess(json);
  for (const row of rows) g.add(row.values[index]);
  return g;
}
