import { QwpInvalidValueError } from '../errors.js';
import { HEADER_SIZE, Limits } from './constants.js';
import { GlobalSymbolDictionary } from './global-symbol-dictionary.js';
import { TableBuffer } from './table-buffer.js';
import { tableNameProblem } from './validation.js';

/** Options of a QwpBatch. */
export interface QwpBatchOptions {
  /** The longest table or column name in UTF-8 bytes (default 127, QuestDB's; `max_name_len`). */
  maxNameLength?: number;
}

/**
 * The rows of one logical batch, per table, sharing one global symbol
 * dictionary. `table(name)` returns the table's row API; pass `tables()` to
 * {@link QwpEncoder.encode}, then `clear()` (buffers are kept for reuse).
 */
export class QwpBatch {
  readonly symbols: GlobalSymbolDictionary;
  /** The longest table or column name accepted, in UTF-8 bytes. */
  readonly maxNameLength: number;
  private readonly byName = new Map<string, TableBuffer>();
  private last: TableBuffer | null = null;

  constructor(
    symbols: GlobalSymbolDictionary = new GlobalSymbolDictionary(),
    options: QwpBatchOptions = {},
  ) {
    this.symbols = symbols;
    const max = options.maxNameLength ?? Limits.MAX_TABLE_NAME_LENGTH;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`maxNameLength must be an integer >= 1, got ${max}`);
    }
    this.maxNameLength = max;
  }

  /** The buffer of table `name`; throws QwpInvalidValueError for a name QuestDB refuses. */
  table(name: string): TableBuffer {
    const last = this.last;
    if (last !== null && last.name === name) return last;
    let t = this.byName.get(name);
    if (t === undefined) {
      const problem = tableNameProblem(name, this.maxNameLength);
      if (problem !== null) throw new QwpInvalidValueError(String(name), undefined, name, problem);
      t = new TableBuffer(name, this.symbols, this.maxNameLength);
      this.byName.set(name, t);
    }
    this.last = t;
    return t;
  }

  /** Tables in first-use order (including empty ones; the encoder skips those). */
  tables(): IterableIterator<TableBuffer> {
    return this.byName.values();
  }

  /** Completed rows over all tables. */
  get rowCount(): number {
    let n = 0;
    for (const t of this.byName.values()) n += t.rowCount;
    return n;
  }

  /**
   * Upper bound of the encoded size of the buffered rows in bytes (header
   * and table blocks; new symbols in the delta come on top).
   */
  maxEncodedBytes(): number {
    let n = HEADER_SIZE;
    for (const t of this.byName.values()) if (t.rowCount > 0) n += t.maxEncodedBytes();
    return n;
  }

  /** Empties every table, discarding half-written rows; memory is kept. */
  clear(): void {
    for (const t of this.byName.values()) t.clear();
  }
}
