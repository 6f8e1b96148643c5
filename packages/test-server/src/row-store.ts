import {
  columnNameProblem,
  type DecodedColumn,
  type DecodedMessage,
  type DecodedTable,
  tableNameProblem,
} from '@qwp/qwp-wire/codec';
import {
  batchDimensions,
  checkArrayDimensions,
  converterFor,
  isTimestampType,
  writeError,
} from './coercion.js';
import { FrameRejectedError, TestServerOptionsError } from './errors.js';
import { ColumnType, DESIGNATED_TIMESTAMP_NAME, Status, typeName } from './protocol.js';

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

/** How the row store applies what QuestDB configures server-wide. */
export interface RowStoreOptions {
  /**
   * 'reject' (default): a new LONG_ARRAY column is a WRITE_ERROR, as on
   * QuestDB ("long arrays are not supported"). 'accept': stored like any type.
   */
  longArrays?: 'reject' | 'accept';
  /**
   * QuestDB's `qwp.max.uncommitted.rows` (default 1,000,000): after each
   * table block, a table holding this many staged rows on the connection is
   * committed at once (one seqTxn), inside a frame or a deferred group.
   */
  maxUncommittedRows?: number;
  /**
   * QuestDB's per-connection table cap (default 10,000): a block naming a
   * table beyond this many distinct tables on one connection is a
   * WRITE_ERROR `too many distinct tables, limit: N`.
   */
  maxTablesPerConnection?: number;
  /**
   * QuestDB's `line.auto.create.new.tables` (default true). When false, a
   * block for a table that does not exist is INTERNAL_ERROR `failed to
   * create table update details for: T`.
   */
  autoCreateTables?: boolean;
}

/** QuestDB's `qwp.max.uncommitted.rows` default. */
export const DEFAULT_MAX_UNCOMMITTED_ROWS = 1_000_000;
/** QuestDB's QwpConstants.DEFAULT_MAX_TABLES_PER_CONNECTION. */
export const DEFAULT_MAX_TABLES_PER_CONNECTION = 10_000;

/** What one table committed in one transaction. */
export interface TableCommit {
  table: string;
  seqTxn: bigint;
  rows: number;
}

/**
 * One connection's writing state, QuestDB's per-connection table cache:
 * the rows staged and not yet committed per table (an open FLAG_DEFER_COMMIT
 * group, or the frame being handled), the tables the connection has
 * touched, and the seqTxns its commits and ALTERs produced that no OK has
 * reported yet.
 */
export class PendingTxn {
  /** Staged rows per table (by the table's stored name), in arrival order. */
  readonly rows = new Map<string, Row[]>();
  rowCount = 0;
  /** Whether the last staged frame appended rows (a block with rows passed every check). */
  appendedRows = false;
  /** Tables this connection has touched, by lower-cased name, with the name it first sent. */
  readonly tables = new Map<string, string>();
  private readonly unreported = new Map<string, bigint>();
  private commits: TableCommit[] = [];

  /** True when nothing is staged. */
  isEmpty(): boolean {
    return this.rowCount === 0;
  }

  /** Forgets every staged row (rollback); committed rows, tables and columns stay. */
  clear(): void {
    this.rows.clear();
    this.rowCount = 0;
  }

  /** Records that this connection made `table` reach `seqTxn` (a commit or an ALTER). */
  noteSeqTxn(table: string, seqTxn: bigint): void {
    this.unreported.set(table, seqTxn);
  }

  /** Records a data commit (also counted by noteSeqTxn). */
  noteCommit(commit: TableCommit): void {
    this.commits.push(commit);
    this.noteSeqTxn(commit.table, commit.seqTxn);
  }

  /**
   * Moves into `into` the latest seqTxn per table this connection produced
   * since the last call, as QuestDB's reportCommittedTxn hands them to the
   * next OK: commits and the ALTERs that added columns alike.
   */
  drainSeqTxns(into: Map<string, bigint>): void {
    if (this.unreported.size === 0) return;
    for (const [table, seqTxn] of this.unreported) into.set(table, seqTxn);
    this.unreported.clear();
  }

  /** The data commits made since the last call (force-commits included). */
  takeCommits(): TableCommit[] {
    const out = this.commits;
    this.commits = [];
    return out;
  }
}

interface TableState {
  name: string;
  columns: Map<string, ColumnSchema>;
  /** Lower-cased column name to its stored name: QuestDB resolves column names case-insensitively. */
  columnNames: Map<string, string>;
  /** Name of the designated timestamp column, or null for a table created without one. */
  designatedTimestamp: string | null;
  rows: Row[];
  seqTxn: bigint;
  /** Upsert key columns besides the designated timestamp, or null when DEDUP is off. */
  dedupKeys: string[] | null;
  /** Key string to index in `rows`, kept while dedup is on. */
  dedupIndex: Map<string, number>;
}

/** A refusal QuestDB answers with STATUS_INTERNAL_ERROR. */
function internalError(message: string): FrameRejectedError {
  return new FrameRejectedError(Status.INTERNAL_ERROR, message);
}

/** The name-insensitive key QuestDB looks tables and columns up by. */
function nameKey(name: string): string {
  return name.toLowerCase();
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
 * Committed rows per table with a schema that evolves like QuestDB's, fed
 * block by block as QuestDB's QwpTudCache and QwpWalAppender are:
 *
 * - A block's table is looked up (names are case-insensitive) or created
 *   from the block's schema, with a designated timestamp `timestamp` (the
 *   block's own, else a TIMESTAMP column added last); a block with no rows
 *   still does this. A bad table name, a bad column name in a new table's
 *   schema, or auto-creation off is INTERNAL_ERROR.
 * - A column the table lacks is added at once (an ALTER: one seqTxn); the
 *   block's values are then converted as the server does (SCHEMA_MISMATCH
 *   for a type or value the column cannot take). A refused block leaves the
 *   tables and columns made before it.
 * - Staged rows commit per table (one seqTxn each) at the end of a frame
 *   without FLAG_DEFER_COMMIT, or early once a block brings a table to
 *   `maxUncommittedRows`; that early commit stays when the frame later fails.
 *
 * Optional DEDUP upsert keys make a re-sent row replace the stored one, so
 * tests can check exactly-once results. seqTxn counters survive reconnects,
 * like a WAL sequencer.
 */
export class RowStore {
  private readonly state = new Map<string, TableState>();
  /** Lower-cased table name to its stored name. */
  private readonly tableNames = new Map<string, string>();
  private readonly dedupConfig = new Map<string, string[]>();
  private readonly longArrays: 'reject' | 'accept';
  private readonly maxUncommittedRows: number;
  private readonly maxTables: number;
  private readonly autoCreateTables: boolean;
  /** Called after each commit with the table and the rows it appended or replaced. */
  onCommit: ((table: string, rows: readonly Row[], seqTxn: bigint) => void) | null = null;
  /** Called with every seqTxn a table reaches: a commit, an ALTER, another writer. */
  onSeqTxn: ((table: string, seqTxn: bigint) => void) | null = null;

  constructor(options: RowStoreOptions = {}) {
    this.longArrays = options.longArrays ?? 'reject';
    this.maxUncommittedRows = options.maxUncommittedRows ?? DEFAULT_MAX_UNCOMMITTED_ROWS;
    this.maxTables = options.maxTablesPerConnection ?? DEFAULT_MAX_TABLES_PER_CONNECTION;
    this.autoCreateTables = options.autoCreateTables ?? true;
  }

  /**
   * Creates `table` as SQL would (so tests can start from a schema QWP
   * would not create, e.g. INT columns or no designated timestamp).
   * @param table table name; must not exist yet (in any letter case)
   * @param columns columns in order, `{ name, type }` with a QWP type code
   * @param designatedTimestamp name of the designated timestamp column
   *   (one of `columns`, TIMESTAMP or TIMESTAMP_NANOS), or null for none
   */
  createTable(
    table: string,
    columns: readonly TableColumn[],
    designatedTimestamp: string | null,
  ): void {
    const nameProblem = tableNameProblem(table);
    if (nameProblem !== null) throw new TestServerOptionsError(`table '${table}': ${nameProblem}`);
    if (this.find(table) !== undefined) {
      throw new TestServerOptionsError(`table '${table}' already exists`);
    }
    const t = this.newTable(table);
    for (const c of columns) {
      const problem = c.name === '' ? 'column name is empty' : columnNameProblem(c.name);
      if (problem !== null) throw new TestServerOptionsError(`table '${table}': ${problem}`);
      if (t.columnNames.has(nameKey(c.name))) {
        throw new TestServerOptionsError(`table '${table}': duplicate column '${c.name}'`);
      }
      putColumn(t, { ...c, typeName: typeName(c.type) });
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
    this.addTable(t);
  }

  /** Names of the tables that exist, in creation order. */
  tables(): string[] {
    return [...this.state.keys()];
  }

  /** A copy of the committed rows of `table` (any letter case; [] when the table does not exist). */
  rows(table: string): Row[] {
    const t = this.find(table);
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
    return this.find(table)?.rows.length ?? 0;
  }

  /** The columns of `table` in the order they were added, or [] when absent. */
  schema(table: string): ColumnSchema[] {
    const t = this.find(table);
    return t === undefined ? [] : [...t.columns.values()].map((c) => ({ ...c }));
  }

  /** The last seqTxn of `table`: commits and added columns each take one (0 for a new table). */
  seqTxn(table: string): bigint {
    return this.find(table)?.seqTxn ?? 0n;
  }

  /**
   * Turns DEDUP UPSERT KEYS on for `table`: the designated timestamp plus
   * `columns`. Rows already stored are de-duplicated at once (last one wins).
   * @param table table name (need not exist yet)
   * @param columns the upsert key columns besides the designated timestamp
   */
  setDedup(table: string, columns: readonly string[]): void {
    const keys = [...columns];
    this.dedupConfig.set(nameKey(table), keys);
    const t = this.find(table);
    if (t !== undefined) {
      t.dedupKeys = keys;
      const old = t.rows;
      t.rows = [];
      t.dedupIndex.clear();
      for (const row of old) this.put(t, row);
    }
  }

  /**
   * Applies `message`'s table blocks in order, as QuestDB does: each block's
   * table is found or created (a block with no rows stops there), then its
   * missing columns are added and its rows converted and staged into `txn`,
   * and a table that reaches `maxUncommittedRows` staged rows is committed.
   * Not atomic: when a block is refused, the tables, columns and early
   * commits of what came before stay; the caller rolls back the staged rows.
   * @throws FrameRejectedError with INTERNAL_ERROR, SCHEMA_MISMATCH or WRITE_ERROR
   */
  stage(message: DecodedMessage, txn: PendingTxn): void {
    txn.appendedRows = false;
    for (const block of message.tables) {
      const t = this.tableFor(block, txn);
      if (block.rowCount === 0) continue;
      this.appendBlock(t, block, txn);
      txn.appendedRows = true;
    }
  }

  /**
   * Commits everything staged in `txn`: each table with staged rows gets the
   * next seqTxn. Rows missing a column read null; a row without the
   * designated timestamp gets the server's clock (in the column's unit), as
   * QuestDB does.
   * @returns the data commits made since the last take from `txn`
   *   (early commits of earlier frames or blocks first), in order
   */
  commit(txn: PendingTxn): TableCommit[] {
    for (const name of [...txn.rows.keys()]) {
      const t = this.state.get(name);
      if (t !== undefined) this.commitTable(t, txn);
    }
    txn.clear();
    return txn.takeCommits();
  }

  /** Drops every table, row and seqTxn (a restart that loses data). DEDUP settings stay. */
  clear(): void {
    this.state.clear();
    this.tableNames.clear();
  }

  private find(name: string): TableState | undefined {
    const stored = this.tableNames.get(nameKey(name));
    return stored === undefined ? undefined : this.state.get(stored);
  }

  private addTable(t: TableState): void {
    this.state.set(t.name, t);
    this.tableNames.set(nameKey(t.name), t.name);
  }

  /**
   * The table of `block` as QwpTudCache.getTableUpdateDetails finds it: from
   * the connection's cache, else (under the cap) an existing table or one
   * created from the block's schema.
   */
  private tableFor(block: DecodedTable, txn: PendingTxn): TableState {
    const key = nameKey(block.name);
    if (txn.tables.has(key)) {
      const cached = this.find(block.name);
      if (cached !== undefined) return cached;
      // Gone since (a restart that lost data): look it up again.
      txn.tables.delete(key);
    }
    if (txn.tables.size >= this.maxTables) {
      throw writeError(`too many distinct tables, limit: ${this.maxTables}`);
    }
    let t = tableNameProblem(block.name) === null ? this.find(block.name) : undefined;
    if (t === undefined) t = this.createFromBlock(block);
    txn.tables.set(key, block.name);
    return t;
  }

  /**
   * A table made from a block's schema, as QwpTudCache.getOrCreateTable
   * makes it: every column of the block (a DOUBLE_ARRAY only once the block
   * holds a non-null array), the designated timestamp named `timestamp`
   * where the block puts it, else a TIMESTAMP `timestamp` added last. A bad
   * table or column name, or auto-creation off, is QuestDB's INTERNAL_ERROR.
   */
  private createFromBlock(block: DecodedTable): TableState {
    const refused = () => internalError(`failed to create table update details for: ${block.name}`);
    if (tableNameProblem(block.name) !== null || !this.autoCreateTables) throw refused();
    for (const c of block.columns) {
      // An empty name is the designated timestamp, legal only with a timestamp type.
      const valid = c.name === '' ? isTimestampType(c.type) : columnNameProblem(c.name) === null;
      if (!valid) throw refused();
    }
    const designated = block.columns.findIndex((c) => c.name === '' && isTimestampType(c.type));
    const made: ColumnSchema[] = [];
    let designatedCol: ColumnSchema | null = null;
    for (let i = 0; i < block.columns.length; i++) {
      const c = block.columns[i]!;
      let dims = 0;
      if (c.type === ColumnType.DOUBLE_ARRAY) {
        // The table is made without an array column whose batch has no array.
        dims = batchDimensions(c, c.name);
        if (dims < 1) continue;
      } else if (c.type === ColumnType.LONG_ARRAY && this.longArrays === 'reject') {
        throw writeError('long arrays are not supported, only double arrays');
      }
      const name = i === designated ? DESIGNATED_TIMESTAMP_NAME : c.name;
      // A second empty-named timestamp keeps its empty name, which no table may have.
      if (name === '') throw refused();
      const col = newColumn(name, c, dims);
      if (i === designated) designatedCol = col;
      made.push(col);
    }
    const t = this.newTable(block.name);
    const tsKey = nameKey(DESIGNATED_TIMESTAMP_NAME);
    for (const col of made) {
      const key = nameKey(col.name);
      // A name sent twice makes one column, the first definition's, except
      // that the designated timestamp keeps the name `timestamp`.
      const shadowsTimestamp = designatedCol !== null && key === tsKey && col !== designatedCol;
      if (!t.columnNames.has(key) && !shadowsTimestamp) putColumn(t, col);
    }
    if (designated === -1 && !t.columnNames.has(nameKey(DESIGNATED_TIMESTAMP_NAME))) {
      putColumn(t, {
        name: DESIGNATED_TIMESTAMP_NAME,
        type: ColumnType.TIMESTAMP,
        typeName: typeName(ColumnType.TIMESTAMP),
      });
    }
    t.designatedTimestamp = t.columnNames.get(nameKey(DESIGNATED_TIMESTAMP_NAME)) ?? null;
    this.addTable(t);
    return t;
  }

  /**
   * One block with rows, as QwpWalAppender appends it: first each column is
   * resolved in order, a missing one added at once (an ALTER: one seqTxn,
   * kept whatever follows); then every value is converted, and only when all
   * convert are the block's rows staged. A table holding `maxUncommittedRows`
   * staged rows after the block is committed.
   */
  private appendBlock(t: TableState, block: DecodedTable, txn: PendingTxn): void {
    // Messages name the table as this connection first sent it.
    const label = txn.tables.get(nameKey(block.name)) ?? block.name;
    const targets: (ColumnSchema | null)[] = [];
    for (const wire of block.columns) {
      // Arrays first: the server checks a batch's dimensions before resolving the column.
      const dims =
        wire.type === ColumnType.DOUBLE_ARRAY ? batchDimensions(wire, wire.name) : Number.NaN;
      let col: ColumnSchema | undefined;
      if (wire.name === '' && isTimestampType(wire.type)) {
        if (t.designatedTimestamp === null) {
          throw writeError(
            `designated timestamp provided but table has no designated timestamp [table=${label}]`,
          );
        }
        col = t.columns.get(t.designatedTimestamp);
      } else {
        col = this.column(t, wire.name);
        if (col === undefined) {
          if (wire.name === '' || columnNameProblem(wire.name) !== null) {
            throw writeError(`invalid column name [table=${label}, column=${wire.name}]`);
          }
          if (wire.type === ColumnType.LONG_ARRAY && this.longArrays === 'reject') {
            throw writeError('long arrays are not supported, only double arrays');
          }
          if (wire.type === ColumnType.DOUBLE_ARRAY && dims < 1) {
            // The server defers creating an array column until it sees a
            // non-null array: an all-null batch writes nothing to it.
            targets.push(null);
            continue;
          }
          col = newColumn(wire.name, wire, dims);
          this.addColumn(t, col, txn);
        }
      }
      if (col === undefined) throw new Error(`table '${t.name}' lost its designated timestamp`);
      if (wire.type === ColumnType.DOUBLE_ARRAY && col.type === ColumnType.DOUBLE_ARRAY) {
        checkArrayDimensions(wire.name, col, dims);
        // A column made by createTable before any array learns its dims from the first batch.
        if (col.dims === undefined && dims > 0) col.dims = dims;
      }
      targets.push(col);
    }
    const rowCount = block.rowCount;
    const converted: (unknown[] | null)[] = [];
    for (let c = 0; c < block.columns.length; c++) {
      const col = targets[c];
      if (col === null || col === undefined) {
        converted.push(null);
        continue;
      }
      const wire = block.columns[c]!;
      const convert = converterFor(wire, wire.name, col);
      const out: unknown[] = new Array(rowCount);
      for (let i = 0; i < rowCount; i++) {
        const v = wire.values[i];
        out[i] = v === null || v === undefined ? null : convert(v);
      }
      converted.push(out);
    }
    let staged = txn.rows.get(t.name);
    if (staged === undefined) {
      staged = [];
      txn.rows.set(t.name, staged);
    }
    for (let i = 0; i < rowCount; i++) {
      const row: Row = {};
      // Later definitions of a duplicated column win, as both write the same column.
      for (let c = 0; c < targets.length; c++) {
        const values = converted[c];
        if (values !== null && values !== undefined) row[targets[c]!.name] = values[i];
      }
      staged.push(row);
    }
    txn.rowCount += rowCount;
    if (staged.length >= this.maxUncommittedRows) this.commitTable(t, txn);
  }

  private column(t: TableState, name: string): ColumnSchema | undefined {
    const stored = t.columnNames.get(nameKey(name));
    return stored === undefined ? undefined : t.columns.get(stored);
  }

  /** ALTER TABLE ADD COLUMN through the WAL: a structural transaction, one seqTxn. */
  private addColumn(t: TableState, col: ColumnSchema, txn: PendingTxn): void {
    putColumn(t, col);
    t.seqTxn += 1n;
    txn.noteSeqTxn(t.name, t.seqTxn);
    this.onSeqTxn?.(t.name, t.seqTxn);
  }

  /** Commits the rows `txn` staged for `t` as one transaction (one seqTxn). */
  private commitTable(t: TableState, txn: PendingTxn): void {
    const staged = txn.rows.get(t.name);
    if (staged === undefined || staged.length === 0) return;
    txn.rows.delete(t.name);
    txn.rowCount -= staged.length;
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
      this.put(t, full);
      committed.push(full);
    }
    txn.noteCommit({ table: t.name, seqTxn: t.seqTxn, rows: staged.length });
    this.onSeqTxn?.(t.name, t.seqTxn);
    this.onCommit?.(t.name, committed, t.seqTxn);
  }

  private newTable(name: string): TableState {
    return {
      name,
      columns: new Map(),
      columnNames: new Map(),
      designatedTimestamp: null,
      rows: [],
      seqTxn: 0n,
      dedupKeys: this.dedupConfig.get(nameKey(name)) ?? null,
      dedupIndex: new Map(),
    };
  }

  private put(t: TableState, row: Row): void {
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
    const t = this.find(table);
    if (t === undefined) {
      throw new TestServerOptionsError(
        `advanceSeqTxn: table '${table}' does not exist (commit to it or createTable first)`,
      );
    }
    if (steps < 1n)
      throw new TestServerOptionsError(`advanceSeqTxn steps must be >= 1, got ${steps}`);
    t.seqTxn += steps;
    this.onSeqTxn?.(t.name, t.seqTxn);
    return t.seqTxn;
  }
}

function putColumn(t: TableState, col: ColumnSchema): void {
  t.columns.set(col.name, col);
  t.columnNames.set(nameKey(col.name), col.name);
}
