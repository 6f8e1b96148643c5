/**
 * The receiving side's view of one connection's global symbol dictionary:
 * id -> string, grown by each message's delta section. A server keeps one per
 * connection and calls {@link SymbolDictionary.reset} when the connection
 * ends (both sides start from id 0 on every new connection).
 *
 * {@link decodeMessage} applies a message's delta only when the whole message
 * decodes, so a rejected frame leaves the dictionary as it was.
 */
export class SymbolDictionary {
  private readonly byId: string[] = [];

  /** Entries by id; `entries.length` is the next id the sender may start a delta at. */
  get entries(): readonly string[] {
    return this.byId;
  }

  /** Number of ids registered on this connection. */
  get size(): number {
    return this.byId.length;
  }

  /** The string of `id`, or undefined if it has not been registered. */
  get(id: number): string | undefined {
    return this.byId[id];
  }

  /**
   * Writes `values` at ids `start..start+values.length-1`. A start inside the
   * dictionary overwrites (a sender re-registering from 0); a start past the
   * end is the caller's DICTIONARY_GAP check, not this method's.
   */
  apply(start: number, values: readonly string[]): void {
    for (let i = 0; i < values.length; i++) this.byId[start + i] = values[i]!;
  }

  /** Forgets everything (connection closed). */
  reset(): void {
    this.byId.length = 0;
  }
}
