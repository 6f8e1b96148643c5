import { columnNameProblem, type DecodedColumn, type DecodedMessage } from '@qwp/qwp-wire/codec';
import {
  batchDimensions,
  checkArrayDimensions,
  converterFor,
  isTimestampType,
  writeError,
} from './coercion.js';
import { TestServerOptionsError } from './errors.js';
import { ColumnType, DESIGNATED_TIMESTAMP_NAME, typeName } from './protocol.js';

/** One stored row: column name to value (`null` for a null or a column the row lacked). */
export type Row = Record<string, unknown>;

/** A column of a stored table. */
export interface ColumnSchema {
  name: string;
  /** QWP type code the column was created with. */
  type: number;
  typeName: string;
  /** DOUBLE_ARRAY: number of dimensions, set by the first non-null array. */
  dims?: number;
  /** DECIMAL*: scale, from the frame that created the column. */
  scale?: number;
  /** GEOHASH: precision in bits, from the frame that created the column. */
  geohashBits?: number;
}

/** A column of a table made with `createTable`: name and QWP type code, plus its type details. */
export interface TableColumn {
  name: string;
  type: number;
  dims?: number;
  scale?: number;
  geohashBits?: number;
}

/** How the row store treats what QuestDB refuses at write time. */
export interface RowStoreOptions {
  /**
   * 'reject' (default): a new LONG_ARRAY column is a WRITE_ERROR, as on
   * QuestDB ("long arrays are not supported"). 'accept': stored like any type.
   */
  longArrays?: 'reject' | 'accept';
}

/** What one table committed in one transaction. */
export interface TableCommit {
  table: string;
  seqTxn: bigint;
  rows: number;
}

/** Rows staged by one connection and not yet committed (FLAG_DEFER_COMMIT groups). */
export class PendingTxn {
  /** Staged rows per table, in arrival order. */
  readonly rows = new Map<string, Row[]>();
  rowCount = 0;

  /** True when nothing is staged. */
  isEmpty(): boolean {
    return this.rowCount === 0;
  }

  /** Forgets everything staged (rollback). */
  clear(): void {
    this.rows.clear();
    this.rowCount = 0;
  }
}

interface TableState {
  name: string;
  columns: Map<string, ColumnSchema>;
  /** Name of the designated timestamp column, or null for a table created without one. */
  designatedTimestamp: string | null;
  rows: Row[];
  seqTxn: bigint;
  /** Upsert key columns besides the designated timestamp, or null when DEDUP is off. */
  dedupKeys: string[] | null;
  /** Key string to index in `rows`, kept while dedup is on. */
  dedupIndex: Map<string, number>;
}

/** A table as one frame sees it while being staged: the stored state plus what the frame adds. */
interface TablePlan {
  name: string;
  /** The stored table, or null when this frame creates it. */
  stored: TableState | null;
  designatedTimestamp: string | null;
  /** Columns this frame adds, in order. */
  added: Map<string, ColumnSchema>;
  /** Rows this frame stages for the table. */
  rows: Row[];
  /** A new table's auto-added designated timestamp, added after its first block's columns. */
  autoTimestamp?: ColumnSchema | undefined;
}

function newColumn(name: string, wire: DecodedColumn, dims: number): ColumnSchema {
  const col: ColumnSchema = { name, type: wire.type, typeName: typeName(wire.type) };
  if (dims > 0) col.dims = dims;
  if (wire.scale !== undefined) col.scale = wire.scale;
  if (wire.geohashBits !== undefined) col.geohashBits = wire.geohashBits;
  return col;
}

function keyPart(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `b:${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'object') return `o:${JSON.stringify(value, rowJsonReplacer)}`;
  return `${typeof value}:${String(value)}`;
}

/**
 * A `JSON.stringify` replacer for stored rows: bigint becomes a decimal
 * string, bytes become hex, so a row (or a record holding rows) serializes
 * in one pass, e.g. `JSON.stringify({ table, row }, rowJsonReplacer)`.
 */
export function rowJsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}

/**
 * Committed rows per table with a schema that evolves like QuestDB's: a
 * table created over QWP always has a designated timestamp `timestamp`
 * (added last when the first block has none); a new column is added
 * (earlier rows read null); a column sent with another type is coerced as
 * the server does, or refused (SCHEMA_MISMATCH for a type the column cannot
 * take, WRITE_ERROR for a value it cannot hold). Optional DEDUP upsert keys
 * make a re-sent row replace the stored one, so tests can check
 * exactly-once results. Per-table seqTxn counters advance by one per commit
 * that touched the table and survive reconnects, like a WAL sequencer.
 */
export class RowStore {
  private readonly state = new Map<string, TableState>();
  private readonly dedupConfig = new Map<string, string[]>();
  private readonly longArrays: 'reject' | 'accept';
  /** Called after each commit with the table and the rows it appended or replaced. */
  onCommit: ((table: string, rows: readonly Row[], seqTxn: bigint) => void) | null = null;

  constructor(options: RowStoreOptions = {}) {
    this.longArrays = options.longArrays ?? 'reject';
  }

  /**
   * Creates `table` as SQL would (so tests can start from a schema QWP
   * would not create, e.g. INT columns or no designated timestamp).
   * @param table table name; must not exist yet
   * @param columns columns in order, `{ name, type }` with a QWP type code
   * @param designatedTimestamp name of the designated timestamp column
   *   (one of `columns`, TIMESTAMP or TIMESTAMP_NANOS), or null for none
   */
  createTable(
    table: string,
    columns: readonly TableColumn[],
    designatedTimestamp: string | null,
  ): void {
    if (this.state.has(table)) throw new TestServerOptionsError(`table '${table}' already exists`);
    const t = this.newTable(table);
    for (const c of columns) {
      const problem = c.name === '' ? 'column name is empty' : columnNameProblem(c.name);
      if (problem !== null) throw new TestServerOptionsError(`table '${table}': ${problem}`);
      t.columns.set(c.name, { ...c, typeName: typeName(c.type) });
    }
    if (designatedTimestamp !== null) {
      const ts = t.columns.get(designatedTimestamp);
      if (ts === undefined || !isTimestampType(ts.type)) {
        throw new TestServerOptionsError(
          `table '${table}': designated timestamp '${designatedTimestamp}' must be one of its TIMESTAMP columns`,
        );
      }
    }
    t.designatedTimestamp = designatedTimestamp;
    this.state.set(table, t);
  }

  /** Names of the tables that exist, in creation order. */
  tables(): string[] {
    return [...this.state.keys()];
  }

  /** A copy of the committed rows of `table` ([] when the table does not exist). */
  rows(table: string): Row[] {
    const t = this.state.get(table);
    if (t === undefined) return [];
    const names = [...t.columns.keys()];
    return t.rows.map((r) => {
      // Columns added after a row was stored read null for it.
      const out: Row = {};
      for (const n of names) {
        const v = r[n];
        out[n] = v === undefined ? null : v;
      }
      return out;
    });
  }

  /** Number of committed rows of `table`. */
  rowCount(table: string): number {
    return this.state.get(table)?.rows.length ?? 0;
  }

  /** The columns of `table` in the order they were added, or [] when absent. */
  schema(table: string): ColumnSchema[] {
    const t = this.state.get(table);
    return t === undefined ? [] : [...t.columns.values()].map((c) => ({ ...c }));
  }

  /** The last committed seqTxn of `table` (0 before its first commit). */
  seqTxn(table: string): bigint {
    return this.state.get(table)?.seqTxn ?? 0n;
  }

  /**
   * Turns DEDUP UPSERT KEYS on for `table`: the designated timestamp plus
   * `columns`. Rows already stored are de-duplicated at once (last one wins).
   * @param table table name (need not exist yet)
   * @param columns the upsert key columns besides the designated timestamp
   */
  setDedup(table: string, columns: readonly string[]): void {
    const keys = [...columns];
    this.dedupConfig.set(table, keys);
    const t = this.state.get(table);
    if (t !== undefined) {
      t.dedupKeys = keys;
      const old = t.rows;
      t.rows = [];
      t.dedupIndex.clear();
      for (const row of old) this.append(t, row);
    }
  }

  /**
   * Applies QuestDB's write-time rules to every table block of `message`
   * (column names, designated timestamp, array dimensions, LONG_ARRAY, type
   * coercion), then creates the tables and columns the frame needs and
   * stages its converted rows into `txn`. Blocks with no rows are skipped,
   * as the server skips them. Atomic: when any block is refused nothing is
   * staged and no table or column is added.
   * @throws FrameRejectedError with SCHEMA_MISMATCH or WRITE_ERROR
   */
  stage(message: DecodedMessage, txn: PendingTxn): void {
    const plans = new Map<string, TablePlan>();
    for (const block of message.tables) {
      if (block.rowCount === 0) continue;
      let plan = plans.get(block.name);
      if (plan === undefined) {
        plan = this.planTable(block.name, block.columns);
        plans.set(block.name, plan);
      }
      this.stageBlock(plan, block.columns, block.rowCount);
    }
    // Nothing was refused: make the schema changes and stage the rows.
    for (const plan of plans.values()) {
      let t = plan.stored;
      if (t === null) {
        t = this.newTable(plan.name);
        t.designatedTimestamp = plan.designatedTimestamp;
        this.state.set(plan.name, t);
      }
      for (const [name, col] of plan.added) {
        const existing = t.columns.get(name);
        // A DOUBLE_ARRAY column created before any non-null array learns its dims now.
        if (existing !== undefined) existing.dims = col.dims;
        else t.columns.set(name, col);
      }
      let staged = txn.rows.get(plan.name);
      if (staged === undefined) {
        staged = [];
        txn.rows.set(plan.name, staged);
      }
      for (const row of plan.rows) staged.push(row);
      txn.rowCount += plan.rows.length;
    }
  }

  private planTable(name: string, firstColumns: readonly DecodedColumn[]): TablePlan {
    const stored = this.state.get(name) ?? null;
    if (stored !== null) {
      return {
        name,
        stored,
        designatedTimestamp: stored.designatedTimestamp,
        added: new Map(),
        rows: [],
      };
    }
    // A table created over QWP always gets a designated timestamp named
    // "timestamp": the block's own (empty name, TIMESTAMP or TIMESTAMP_NANOS)
    // where it is, else a TIMESTAMP column after the block's columns.
    const plan: TablePlan = {
      name,
      stored: null,
      designatedTimestamp: DESIGNATED_TIMESTAMP_NAME,
      added: new Map(),
      rows: [],
    };
    const ts = firstColumns.find((c) => c.name === '' && isTimestampType(c.type));
    if (ts === undefined) {
      const auto: ColumnSchema = {
        name: DESIGNATED_TIMESTAMP_NAME,
        type: ColumnType.TIMESTAMP,
        typeName: typeName(ColumnType.TIMESTAMP),
      };
      // Added after the block's own columns (see stageBlock).
      plan.autoTimestamp = auto;
    }
    return plan;
  }

  private column(plan: TablePlan, name: string): ColumnSchema | undefined {
    return plan.added.get(name) ?? plan.stored?.columns.get(name);
  }

  private stageBlock(plan: TablePlan, columns: readonly DecodedColumn[], rowCount: number): void {
    const table = plan.name;
    const targets: string[] = [];
    const converted: (unknown[] | null)[] = [];
    for (const wire of columns) {
      // Arrays first: the server checks a batch's dimensions before resolving the column.
      const dims =
        wire.type === ColumnType.DOUBLE_ARRAY ? batchDimensions(wire, wire.name) : Number.NaN;
      let name: string;
      if (wire.name === '' && isTimestampType(wire.type)) {
        if (plan.designatedTimestamp === null) {
          throw writeError(
            `designated timestamp provided but table has no designated timestamp [table=${table}]`,
          );
        }
        name = plan.designatedTimestamp;
        if (this.column(plan, name) === undefined) {
          // The designated timestamp of a table this frame creates, where the block puts it.
          plan.added.set(name, newColumn(name, wire, 0));
        }
      } else {
        name = wire.name;
        if (this.column(plan, name) === undefined) {
          if (name === '' || columnNameProblem(name) !== null) {
            throw writeError(`invalid column name [table=${table}, column=${name}]`);
          }
          if (wire.type === ColumnType.LONG_ARRAY && this.longArrays === 'reject') {
            throw writeError('long arrays are not supported, only double arrays');
          }
          if (wire.type === ColumnType.DOUBLE_ARRAY && dims < 1) {
            // The server defers creating an array column until it sees a
            // non-null array: an all-null batch writes nothing to it.
            targets.push(name);
            converted.push(null);
            continue;
          }
          plan.added.set(name, newColumn(name, wire, dims));
        }
      }
      const col = this.column(plan, name)!;
      if (wire.type === ColumnType.DOUBLE_ARRAY && col.type === ColumnType.DOUBLE_ARRAY) {
        checkArrayDimensions(name, col, dims);
        if (col.dims === undefined && dims > 0) {
          // First non-null arrays of a column created empty: the batch fixes its dims.
          plan.added.set(name, { ...col, dims });
        }
      }
      const convert = converterFor(wire, name, col);
      const out: unknown[] = new Array(rowCount);
      for (let i = 0; i < rowCount; i++) {
        const v = wire.values[i];
        out[i] = v === null || v === undefined ? null : convert(v);
      }
      targets.push(name);
      converted.push(out);
    }
    const auto = plan.autoTimestamp;
    if (auto !== undefined) {
      // A block that sends its own column named "timestamp" keeps it.
      if (!plan.added.has(auto.name)) plan.added.set(auto.name, auto);
      plan.autoTimestamp = undefined;
    }
    for (let i = 0; i < rowCount; i++) {
      const row: Row = {};
      // Later definitions of a duplicated column win, as both write the same column.
      for (let c = 0; c < targets.length; c++) {
        const values = converted[c];
        if (values !== null && values !== undefined) row[targets[c]!] = values[i];
      }
      plan.rows.push(row);
    }
  }

  /**
   * Commits everything staged in `txn`: each table it touched gets the next
   * seqTxn. Rows missing a column read null; a row without the designated
   * timestamp gets the server's clock (in the column's unit), as QuestDB does.
   * @returns one entry per committed table, in staging order
   */
  commit(txn: PendingTxn): TableCommit[] {
    const result: TableCommit[] = [];
    for (const [name, staged] of txn.rows) {
      const t = this.ensureTable(name);
      t.seqTxn += 1n;
      const tsType =
        t.designatedTimestamp === null ? undefined : t.columns.get(t.designatedTimestamp)?.type;
      const now = BigInt(Date.now()) * (tsType === ColumnType.TIMESTAMP_NANOS ? 1_000_000n : 1000n);
      const committed: Row[] = [];
      for (const row of staged) {
        const full: Row = {};
        for (const colName of t.columns.keys()) {
          const v = row[colName];
          full[colName] = v === undefined ? null : v;
        }
        if (t.designatedTimestamp !== null && full[t.designatedTimestamp] === null) {
          full[t.designatedTimestamp] = now;
        }
        this.append(t, full);
        committed.push(full);
      }
      result.push({ table: name, seqTxn: t.seqTxn, rows: staged.length });
      this.onCommit?.(name, committed, t.seqTxn);
    }
    txn.clear();
    return result;
  }

  /** Drops every table, row and seqTxn (a restart that loses data). DEDUP settings stay. */
  clear(): void {
    this.state.clear();
  }

  private ensureTable(name: string): TableState {
    let t = this.state.get(name);
    if (t === undefined) {
      t = this.newTable(name);
      this.state.set(name, t);
    }
    return t;
  }

  private newTable(name: string): TableState {
    return {
      name,
      columns: new Map(),
      designatedTimestamp: null,
      rows: [],
      seqTxn: 0n,
      dedupKeys: this.dedupConfig.get(name) ?? null,
      dedupIndex: new Map(),
    };
  }

  private append(t: TableState, row: Row): void {
    if (t.dedupKeys === null) {
      t.rows.push(row);
      return;
    }
    // The key is the table's own designated timestamp (a table made by
    // createTable may name it otherwise) plus the chosen columns.
    const ts = t.designatedTimestamp;
    let key = ts === null ? '' : `${keyPart(row[ts])}|`;
    for (const k of t.dedupKeys) if (k !== ts) key += `${keyPart(row[k])}|`;
    const at = t.dedupIndex.get(key);
    if (at === undefined) {
      t.dedupIndex.set(key, t.rows.length);
      t.rows.push(row);
    } else {
      t.rows[at] = row;
    }
  }

  /**
   * Another writer (or an ALTER) committed `steps` transactions to `table`
   * elsewhere: its seqTxn jumps, so the next OK of a connection writing
   * there names a seqTxn `steps + 1` past its previous one. No rows change.
   * @returns the new seqTxn
   * @throws TestServerOptionsError for a table that does not exist or steps < 1
   */
  advanceSeqTxn(table: string, steps: bigint): bigint {
    const t = this.state.get(table);
    if (t === undefined) {
      throw new TestServerOptionsError(
        `advanceSeqTxn: table '${table}' does not exist (commit to it or createTable first)`,
      );
    }
    if (steps < 1n)
      throw new TestServerOptionsError(`advanceSeqTxn steps must be >= 1, got ${steps}`);
    t.seqTxn += steps;
    return t.seqTxn;
  }
}
