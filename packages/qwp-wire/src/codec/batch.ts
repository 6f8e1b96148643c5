import { QwpInvalidValueError } from '../errors.js';
import { HEADER_SIZE } from './constants.js';
import { GlobalSymbolDictionary } from './global-symbol-dictionary.js';
import { TableBuffer } from './table-buffer.js';
import { tableNameProblem } from './validation.js';

/**
 * The rows of one logical batch, per table, sharing one global symbol
 * dictionary. `table(name)` returns the table's row API; pass `tables()` to
 * {@link QwpEncoder.encode}, then `clear()` (buffers are kept for reuse).
 */
export class QwpBatch {
  readonly symbols: GlobalSymbolDictionary;
  private readonly byName = new Map<string, TableBuffer>();
  private last: TableBuffer | null = null;

  constructor(symbols: GlobalSymbolDictionary = new GlobalSymbolDictionary()) {
    this.symbols = symbols;
  }

  /** The buffer of table `name`; throws QwpInvalidValueError for a name QuestDB refuses. */
  table(name: string): TableBuffer {
    const last = this.last;
    if (last !== null && last.name === name) return last;
    let t = this.byName.get(name);
    if (t === undefined) {
      const problem = tableNameProblem(name);
      if (problem !== null) throw new QwpInvalidValueError(String(name), undefined, name, problem);
      t = new TableBuffer(name, this.symbols);
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
