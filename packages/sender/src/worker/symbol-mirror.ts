import {
  FLAG_DEFER_COMMIT,
  FLAG_DELTA_SYMBOL_DICT,
  HEADER_SIZE,
  MAGIC,
  QwpBatchSizeError,
  readVarint,
  type VarintValue,
  varintSize,
  writeVarint,
} from '@qwp/qwp-wire';
import { type QwpDelta, readQwpDelta } from '@qwp/segment-log';
import { ProtocolError } from '../errors.js';

const encoder = new TextEncoder();
const delta: QwpDelta = { start: 0, count: 0, entriesOffset: 0, entriesEnd: 0 };
const entryLength: VarintValue = { value: 0 };
/** Worst case of the two varints (start, count) of a delta section. */
const DELTA_HEADER_MAX = 10;
/** Worst case of one entry's length varint. */
const ENTRY_LENGTH_MAX = 5;

/**
 * The worker's copy of the global symbol dictionary: every symbol any frame
 * it has read defines, as UTF-8, in id order. It grows from the delta
 * section of each frame the worker sends (so it never touches the
 * producer's state) and starts from the symbols recovered from disk. On
 * every new connection its whole content goes out first as catch-up frames.
 */
export class SymbolMirror {
  private readonly utf8: Uint8Array[] = [];

  constructor(initial: readonly string[] = []) {
    for (const s of initial) this.utf8.push(encoder.encode(s));
  }

  get size(): number {
    return this.utf8.length;
  }

  /**
   * Takes the new symbols of one outgoing frame (a QWP message with
   * FLAG_DELTA_SYMBOL_DICT). Entries below the mirror's size are already
   * known; a delta starting past it means a frame is missing or the frame is
   * not ours, which would make the server answer DICTIONARY_GAP.
   */
  observe(bytes: Uint8Array, offset: number, length: number): void {
    const found = readQwpDelta(bytes, offset, length, delta);
    if (found === 0) return;
    if (found < 0) throw new ProtocolError('stored frame has a malformed symbol delta section');
    if (delta.start > this.utf8.length) {
      throw new ProtocolError(
        `stored frame defines symbols from id ${delta.start} but only ${this.utf8.length} are known: the dictionary has a gap`,
      );
    }
    let p = delta.entriesOffset;
    for (let i = 0; i < delta.count; i++) {
      p = readVarint(bytes, p, delta.entriesEnd, entryLength);
      const end = p + entryLength.value;
      if (delta.start + i === this.utf8.length) this.utf8.push(bytes.slice(p, end));
      p = end;
    }
  }

  /**
   * Delta-only messages carrying ids `[0, size)`, each at most
   * `maxBatchSize` bytes, FLAG_DEFER_COMMIT set (they commit nothing; the
   * first data frame commits them with it).
   */
  catchUpFrames(version: number, maxBatchSize: number): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const all = this.utf8;
    let id = 0;
    while (id < all.length) {
      let budget = maxBatchSize - HEADER_SIZE - DELTA_HEADER_MAX;
      let stop = id;
      let bytes = 0;
      while (stop < all.length) {
        const need = ENTRY_LENGTH_MAX + all[stop]!.length;
        if (need > budget) break;
        budget -= need;
        bytes += varintSize(all[stop]!.length) + all[stop]!.length;
        stop++;
      }
      if (stop === id) {
        throw new QwpBatchSizeError(
          `symbol ${id}`,
          HEADER_SIZE + DELTA_HEADER_MAX + ENTRY_LENGTH_MAX + all[id]!.length,
          maxBatchSize,
        );
      }
      const payload = varintSize(id) + varintSize(stop - id) + bytes;
      const frame = new Uint8Array(HEADER_SIZE + payload);
      const view = new DataView(frame.buffer);
      view.setUint32(0, MAGIC, true);
      frame[4] = version;
      frame[5] = FLAG_DEFER_COMMIT | FLAG_DELTA_SYMBOL_DICT;
      view.setUint16(6, 0, true);
      view.setUint32(8, payload, true);
      let p = writeVarint(frame, HEADER_SIZE, id);
      p = writeVarint(frame, p, stop - id);
      for (let k = id; k < stop; k++) {
        p = writeVarint(frame, p, all[k]!.length);
        frame.set(all[k]!, p);
        p += all[k]!.length;
      }
      frames.push(frame);
      id = stop;
    }
    return frames;
  }
}
