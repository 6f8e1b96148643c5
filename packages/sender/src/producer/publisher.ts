import { FLAG_DEFER_COMMIT, GlobalSymbolDictionary, QwpBatch, QwpEncoder } from '@qwp/qwp-wire';
import { type QwpDelta, readQwpDelta } from '@qwp/segment-log';
import { TransactionError } from '../errors.js';
import type { SegmentAnnouncement } from '../shared/messages.js';
import type { FrameStore } from './frame-store.js';

/**
 * The caller's-thread half of the sender: encodes buffered rows into QWP
 * frames and appends them to the store, persisting each frame's new
 * symbols first. Frames that find no room wait in a queue, in order, and
 * go in as ACKs free space ({@link drainQueue}); inside a transaction they
 * are held back and published together at commit.
 */
export class Publisher {
  readonly batch: QwpBatch;
  readonly encoder: QwpEncoder;
  /** FSN of the last frame appended; -1 before any. */
  lastFsn: number;
  /** FSN of the last appended frame that commits (no DEFER_COMMIT): what drain() waits for. */
  commitFsn: number;
  private readonly queue: Uint8Array[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  /** Frames of the open transaction, or null outside one. */
  private held: Uint8Array[] | null = null;
  /** Which held frames introduce symbols. */
  private heldDeltas: boolean[] = [];
  private heldBytes = 0;
  private heldLimit = 0;
  private heldFromSymbols = 0;
  private readonly sink = (frame: Uint8Array, deltaStart: number, deltaEnd: number): void =>
    this.take(frame, deltaEnd > deltaStart);

  constructor(
    private readonly store: FrameStore,
    private readonly announce: (segment: SegmentAnnouncement) => void,
    frameBudget: number,
    /** Called after every append (durability `append`). */
    private readonly afterAppend: (() => void) | null,
    /** The longest table or column name accepted, in UTF-8 bytes (`max_name_len`). */
    maxNameLength?: number,
  ) {
    const dict = GlobalSymbolDictionary.from(store.recoveredSymbols);
    this.batch = new QwpBatch(dict, { maxNameLength });
    this.encoder = new QwpEncoder(dict, { maxBatchSize: Math.min(frameBudget, store.maxPayload) });
    // Every recovered symbol was published with some frame: new frames start after them.
    this.encoder.setSentSymbols(dict.size);
    this.lastFsn = store.nextFsn - 1;
    this.commitFsn = store.recoveredCommitFsn;
  }

  /** Sets the frame budget from the connected server's limit, never above a segment's capacity. */
  setFrameBudget(maxBatchSize: number): void {
    this.encoder.setMaxBatchSize(Math.min(maxBatchSize, this.store.maxPayload));
  }

  /**
   * Bytes no single value may exceed: a frame's budget less room for the
   * message header and a table block's names and column headers.
   */
  get maxValueBytes(): number {
    return Math.max(0, this.encoder.maxBatchSize - VALUE_HEADROOM);
  }

  /** Frames waiting for room in the store. */
  get queuedFrames(): number {
    return this.queue.length - this.queueHead;
  }

  /** Bytes of the frames waiting for room. */
  get queuedByteCount(): number {
    return this.queuedBytes;
  }

  get inTransaction(): boolean {
    return this.held !== null;
  }

  /**
   * Encodes every complete buffered row and appends (or queues, or holds)
   * the frames. On an encoding failure (a row larger than any frame) the
   * batch is cleared and the error rethrown: those rows can never be sent.
   */
  publish(): void {
    if (this.batch.rowCount === 0) return;
    try {
      this.encoder.encodeEach(this.batch.tables(), this.sink, this.held !== null);
      this.batch.clear();
    } catch (err) {
      this.discardRows();
      throw err;
    }
  }

  /** Drops the buffered rows and the symbols only they used (none was published). */
  discardRows(): void {
    this.batch.clear();
    this.batch.symbols.truncate(this.encoder.sentSymbols);
  }

  /** Appends queued frames while they fit; true once the queue is empty. */
  drainQueue(): boolean {
    const q = this.queue;
    while (this.queueHead < q.length) {
      const frame = q[this.queueHead]!;
      if (this.append(frame) < 0) return false;
      q[this.queueHead++] = EMPTY;
      this.queuedBytes -= frame.length;
    }
    q.length = 0;
    this.queueHead = 0;
    return true;
  }

  /** Starts holding frames back for a transaction. */
  beginTransaction(maxBytes: number): void {
    if (this.held !== null) throw new TransactionError('transactions do not nest');
    this.held = [];
    this.heldDeltas = [];
    this.heldBytes = 0;
    this.heldLimit = maxBytes;
    this.heldFromSymbols = this.encoder.sentSymbols;
  }

  /**
   * Publishes the transaction's frames, the last one committing. The
   * caller has published the remaining rows into the hold first.
   */
  commitTransaction(): void {
    const frames = this.held;
    if (frames === null) throw new TransactionError('no transaction is open');
    this.held = null;
    if (frames.length === 0) return;
    frames[frames.length - 1]![5]! &= ~FLAG_DEFER_COMMIT;
    for (let i = 0; i < frames.length; i++) this.store_(frames[i]!, this.heldDeltas[i]!);
  }

  /** Drops the transaction's frames and rows, and forgets the symbols only they used. */
  abortTransaction(): void {
    this.held = null;
    this.encoder.setSentSymbols(this.heldFromSymbols);
    this.discardRows();
  }

  /** The sink of encodeEach: a view of the encoder's scratch, valid during the call. */
  private take(frame: Uint8Array, hasDelta: boolean): void {
    const held = this.held;
    if (held !== null) {
      this.heldBytes += frame.length;
      if (this.heldBytes > this.heldLimit) {
        throw new TransactionError(
          `transaction exceeds ${this.heldLimit} bytes of frames; the server acknowledges none of it before the commit, so it must fit the buffer (sf_max_total_bytes)`,
        );
      }
      held.push(frame.slice());
      this.heldDeltas.push(hasDelta);
      return;
    }
    this.store_(frame, hasDelta);
  }

  /** Persists a frame's new symbols, then appends it or queues a copy. */
  private store_(frame: Uint8Array, hasDelta: boolean): void {
    if (hasDelta) persistDelta(this.store, frame);
    if (this.queueHead === this.queue.length && this.append(frame) >= 0) return;
    this.queue.push(frame.slice());
    this.queuedBytes += frame.length;
  }

  private append(frame: Uint8Array): number {
    const fsn = this.store.tryAppend(frame);
    if (fsn < 0) return -1;
    this.lastFsn = fsn;
    if ((frame[5]! & FLAG_DEFER_COMMIT) === 0) this.commitFsn = fsn;
    const segment = this.store.takeNewSegment();
    if (segment !== null) this.announce(segment);
    this.afterAppend?.();
    return fsn;
  }
}

const EMPTY = new Uint8Array(0);
/** Room a frame needs besides one value: header, names, column headers, offsets. */
const VALUE_HEADROOM = 4096;
const delta: QwpDelta = { start: 0, count: 0, entriesOffset: 0, entriesEnd: 0 };

/** Writes the symbol entries of a frame's delta section to the store (SF: `.symbol-dict`). */
function persistDelta(store: FrameStore, frame: Uint8Array): void {
  if (readQwpDelta(frame, 0, frame.length, delta) !== 1 || delta.count === 0) return;
  store.persistSymbols(frame.subarray(delta.entriesOffset, delta.entriesEnd), delta.count);
}
