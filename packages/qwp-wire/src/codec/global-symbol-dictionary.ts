import { QwpError } from '../errors.js';
import { encodeUtf8, isWellFormed } from './validation.js';

/**
 * The sending side's global symbol dictionary: string -> id, ids assigned
 * sequentially from 0 and kept for the life of the sender (a
 * store-and-forward sender persists it, since stored frames refer to ids).
 * The row API assigns a new symbol its id when the row using it is
 * completed, so the dictionary holds exactly the symbols of completed rows.
 * Each distinct string is UTF-8 encoded once, here. Which ids have crossed
 * the current connection is the encoder's watermark, not this object's.
 */
export class GlobalSymbolDictionary {
  private readonly ids = new Map<string, number>();
  private readonly strings: string[] = [];
  private readonly bytes: Uint8Array[] = [];

  /** Strings by id. */
  get symbols(): readonly string[] {
    return this.strings;
  }

  /** UTF-8 bytes by id. */
  get utf8(): readonly Uint8Array[] {
    return this.bytes;
  }

  /** Number of ids assigned. */
  get size(): number {
    return this.strings.length;
  }

  /** The id of `value`, assigning the next id if it is new. `value` must be well-formed. */
  idOf(value: string): number {
    const id = this.ids.get(value);
    if (id !== undefined) return id;
    return this.add(value);
  }

  /** The id of `value` or undefined, without assigning. */
  peek(value: string): number | undefined {
    return this.ids.get(value);
  }

  /**
   * Drops ids `size` and above, so the next new symbol gets id `size`.
   * For forgetting symbols no frame has carried (e.g. after clearing a
   * batch, down to the encoder's `sentSymbols`): no buffered row may still
   * refer to a dropped id. Throws for a size that is not an integer in
   * `[0, size]`.
   */
  truncate(size: number): void {
    const n = this.strings.length;
    if (!Number.isInteger(size) || size < 0 || size > n) {
      throw new QwpError(
        'ERR_QWP_SYMBOL_DICTIONARY',
        `cannot truncate the symbol dictionary to ${size}: it holds ${n} symbols`,
      );
    }
    for (let id = size; id < n; id++) this.ids.delete(this.strings[id]!);
    this.strings.length = size;
    this.bytes.length = size;
  }

  private add(value: string): number {
    const id = this.strings.length;
    this.ids.set(value, id);
    this.strings.push(value);
    this.bytes.push(encodeUtf8(value));
    return id;
  }

  /** Re-creates a dictionary from its strings in id order (e.g. loaded from disk). */
  static from(symbols: Iterable<string>): GlobalSymbolDictionary {
    const dict = new GlobalSymbolDictionary();
    for (const s of symbols) {
      if (dict.ids.has(s) || !isWellFormed(s)) {
        throw new QwpError(
          'ERR_QWP_SYMBOL_DICTIONARY',
          `symbol ${JSON.stringify(s)} at id ${dict.size} is a duplicate or not well-formed`,
        );
      }
      dict.add(s);
    }
    return dict;
  }
}
