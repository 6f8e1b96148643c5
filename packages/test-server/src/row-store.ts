import type { DecodedMessage } from '@qwp/qwp-wire';
import { FrameRejectedError } from './errors.js';
import { ColumnType, DESIGNATED_TIMESTAMP_NAME, Status, typeName } from './protocol.js';

/** One stored row: column name to value (`null` for a null or a column the row lacked). */
export type Row = Record<string, unknown>;

/** A column of a stored table. */
export interface ColumnSchema {
  name: string;
  /** QWP type code. */
  type: number;
  typeName: string;
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
  designatedTimestamp: string | null;
  rows: Row[];
  seqTxn: bigint;
  /** Upsert key columns (designated timestamp first) or null when DEDUP is off. */
  dedupKeys: string[] | null;
  /** Key string to index in `rows`, kept while dedup is on. */
  dedupIndex: Map<string, number>;
}

function isTimestampType(type: number): boolean {
  return type === ColumnType.TIMESTAMP || type === ColumnType.TIMESTAMP_NANOS;
}

function keyPart(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `b:${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'object') return `o:${JSON.stringify(value, jsonReplacer)}`;
  return `${typeof value}:${String(value)}`;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}

/**
 * Committed rows per table with a schema that evolves like QuestDB's: a new
 * column is added (earlier rows read null), a column sent with another type
 * is SCHEMA_MISMATCH. Optional DEDUP upsert keys make a re-sent row replace
 * the stored one, so tests can check exactly-once results. Per-table seqTxn
 * counters advance by one per commit that touched the table and survive
 * reconnects, like a WAL sequencer.
 */
export class RowStore {
  private readonly state = new Map<string, TableState>();
  private readonly dedupConfig = new Map<string, string[]>();
  /** Called after each commit with the table and the rows it appended or replaced. */
  onCommit: ((table: string, rows: readonly Row[], seqTxn: bigint) => void) | null = null;

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
    const keys = [
      DESIGNATED_TIMESTAMP_NAME,
      ...columns.filter((c) => c !== DESIGNATED_TIMESTAMP_NAME),
    ];
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
   * Checks every table block of `message` against the schema, adds the new
   * columns, and stages the rows into `txn`. Atomic: on SCHEMA_MISMATCH
   * nothing is staged and no column is added.
   * @throws FrameRejectedError with SCHEMA_MISMATCH
   */
  stage(message: DecodedMessage, txn: PendingTxn): void {
    // Pass 1: validate the whole frame against the stored schema plus the
    // columns this frame adds, so a frame is all-or-nothing.
    const added = new Map<string, Map<string, number>>();
    for (const block of message.tables) {
      const t = this.state.get(block.name);
      let adds = added.get(block.name);
      if (adds === undefined) {
        adds = new Map();
        added.set(block.name, adds);
      }
      for (const col of block.columns) {
        const name = col.name === '' ? DESIGNATED_TIMESTAMP_NAME : col.name;
        const existing = t?.columns.get(name)?.type ?? adds.get(name);
        if (existing === undefined) {
          adds.set(name, col.type);
        } else if (existing !== col.type) {
          throw new FrameRejectedError(
            Status.SCHEMA_MISMATCH,
            `column '${name}' of table '${block.name}' is ${typeName(existing)}, the frame sends ${typeName(col.type)}`,
          );
        }
        if (col.name === '' && !isTimestampType(col.type)) {
          throw new FrameRejectedError(
            Status.PARSE_ERROR,
            `designated timestamp of table '${block.name}' must be TIMESTAMP or TIMESTAMP_NANOS, got ${typeName(col.type)}`,
          );
        }
      }
    }
    // Pass 2: apply the schema additions and stage the rows.
    for (const block of message.tables) {
      const t = this.ensureTable(block.name);
      for (const col of block.columns) {
        const name = col.name === '' ? DESIGNATED_TIMESTAMP_NAME : col.name;
        if (col.name === '' && t.designatedTimestamp === null && t.rows.length === 0) {
          t.designatedTimestamp = name;
        }
        if (!t.columns.has(name)) {
          t.columns.set(name, { name, type: col.type, typeName: typeName(col.type) });
        }
      }
      if (block.rowCount === 0) continue;
      let staged = txn.rows.get(block.name);
      if (staged === undefined) {
        staged = [];
        txn.rows.set(block.name, staged);
      }
      for (let i = 0; i < block.rowCount; i++) {
        const row: Row = {};
        for (const col of block.columns) {
          const name = col.name === '' ? DESIGNATED_TIMESTAMP_NAME : col.name;
          const v = col.values[i];
          row[name] = v === undefined ? null : v;
        }
        staged.push(row);
      }
      txn.rowCount += block.rowCount;
    }
  }

  /**
   * Commits everything staged in `txn`: each table it touched gets the next
   * seqTxn. Rows missing a column read null; a row without the designated
   * timestamp gets the server's clock (microseconds), as QuestDB does.
   * @returns one entry per committed table, in staging order
   */
  commit(txn: PendingTxn): TableCommit[] {
    const result: TableCommit[] = [];
    for (const [name, staged] of txn.rows) {
      const t = this.ensureTable(name);
      t.seqTxn += 1n;
      const committed: Row[] = [];
      for (const row of staged) {
        const full: Row = {};
        for (const colName of t.columns.keys()) {
          const v = row[colName];
          full[colName] = v === undefined ? null : v;
        }
        if (t.designatedTimestamp !== null && full[t.designatedTimestamp] === null) {
          full[t.designatedTimestamp] = BigInt(Date.now()) * 1000n;
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
      t = {
        name,
        columns: new Map(),
        designatedTimestamp: null,
        rows: [],
        seqTxn: 0n,
        dedupKeys: this.dedupConfig.get(name) ?? null,
        dedupIndex: new Map(),
      };
      this.state.set(name, t);
    }
    return t;
  }

  private append(t: TableState, row: Row): void {
    if (t.dedupKeys === null) {
      t.rows.push(row);
      return;
    }
    let key = '';
    for (const k of t.dedupKeys) key += `${keyPart(row[k])}|`;
    const at = t.dedupIndex.get(key);
    if (at === undefined) {
      t.dedupIndex.set(key, t.rows.length);
      t.rows.push(row);
    } else {
      t.rows[at] = row;
    }
  }
}

/** A JSON-safe copy of a row: bigint becomes a decimal string, bytes become hex. */
export function rowToJson(row: Row): Record<string, unknown> {
  return JSON.parse(JSON.stringify(row, jsonReplacer)) as Record<string, unknown>;
}
