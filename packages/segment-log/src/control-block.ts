/**
 * The state the producer and the I/O worker share, in one SharedArrayBuffer:
 * the published FSN (written by the producer), the acked FSN (written by the
 * worker) and a waiter flag.
 *
 * Each FSN is kept as two Int32 words, low and high, stored biased by one so
 * that "none" (-1) is zero. A publish normally stores only the low word: one
 * Atomics.store, no allocation (a BigInt64Array would allocate a BigInt per
 * store). When the low word wraps, the writer stores low before high, so a
 * racing reader can only see a value that is too small, never one past what
 * was really published; readers treat the value as "at least this much".
 *
 * Ordering: frames are written with plain stores into a mapping (or shared
 * buffer) before the sequentially consistent Atomics.store of the publish;
 * a reader's Atomics.load of the FSN comes before its plain loads of the
 * frame. On x64 (locked store) and arm64 (release store / acquire load) that
 * orders the frame bytes before the FSN that makes them visible.
 */

const PUB_LO = 0;
const PUB_HI = 1;
const ACK_LO = 2;
const ACK_HI = 3;
/** Non-zero while a reader sleeps on the publish word; the producer notifies only then. */
const READER_WAITING = 4;
/** Set by {@link ControlBlock.wake}: the next (or current) waitForPublish returns at once. */
const WAKE = 5;
const WORDS = 8;
const TWO_32 = 0x1_0000_0000;

/** Atomics.waitAsync (Node >= 16); typed here because the ES2023 lib does not declare it. */
type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
) =>
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

function load(a: Int32Array, lo: number, hi: number): number {
  for (;;) {
    const h1 = Atomics.load(a, hi);
    const l = Atomics.load(a, lo) >>> 0;
    if (Atomics.load(a, hi) === h1) return h1 * TWO_32 + l - 1;
  }
}

/** Cross-thread published/acked FSNs; construct on each side from the same SharedArrayBuffer. */
export class ControlBlock {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  /** This side's cache of the high words it writes (each word has a single writer). */
  private pubHigh: number;
  private ackHigh: number;

  /** Wraps `buffer` (from another thread) or allocates a fresh block with both FSNs at -1. */
  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(WORDS * 4);
    this.words = new Int32Array(this.buffer, 0, WORDS);
    this.pubHigh = Atomics.load(this.words, PUB_HI);
    this.ackHigh = Atomics.load(this.words, ACK_HI);
  }

  /** Highest FSN whose frame is complete and readable (at least); -1 when none. */
  get publishedFsn(): number {
    return load(this.words, PUB_LO, PUB_HI);
  }

  /** Producer only: FSNs must only grow. Wakes a sleeping reader if one asked to be woken. */
  publish(fsn: number): void {
    const v = fsn + 1;
    const w = this.words;
    const high = this.pubHigh;
    if (v - high * TWO_32 < TWO_32) {
      Atomics.store(w, PUB_LO, v - high * TWO_32);
    } else {
      const h = Math.floor(v / TWO_32);
      Atomics.store(w, PUB_LO, v - h * TWO_32);
      Atomics.store(w, PUB_HI, h);
      this.pubHigh = h;
    }
    if (Atomics.load(w, READER_WAITING) !== 0) Atomics.notify(w, PUB_LO);
  }

  /** Highest FSN the server acknowledged; -1 when none. */
  get ackedFsn(): number {
    return load(this.words, ACK_LO, ACK_HI);
  }

  /** Single writer (the worker, or the producer when there is no worker). Never moves back. */
  acknowledge(fsn: number): void {
    if (fsn <= this.ackedFsn) return;
    const v = fsn + 1;
    const h = Math.floor(v / TWO_32);
    Atomics.store(this.words, ACK_LO, v - h * TWO_32);
    if (h !== this.ackHigh) {
      Atomics.store(this.words, ACK_HI, h);
      this.ackHigh = h;
    }
  }

  /**
   * Makes a reader's {@link waitForPublish} return now (or, when none is
   * waiting, the next one at once): the reader has something other than a
   * publish to see to (a stop, a lost connection). Any thread may call it.
   */
  wake(): void {
    Atomics.store(this.words, WAKE, 1);
    Atomics.notify(this.words, PUB_LO);
  }

  /**
   * Reader side: resolves when the published FSN moves past `seenFsn`, on
   * {@link wake}, or after `timeoutMs`. Uses Atomics.waitAsync, so it never blocks the thread.
   */
  async waitForPublish(seenFsn: number, timeoutMs: number): Promise<number> {
    Atomics.store(this.words, READER_WAITING, 1);
    try {
      for (;;) {
        const word = Atomics.load(this.words, PUB_LO);
        const now = this.publishedFsn;
        if (now > seenFsn || Atomics.exchange(this.words, WAKE, 0) !== 0) return now;
        const r = waitAsync(this.words, PUB_LO, word, timeoutMs);
        const outcome = r.async ? await r.value : r.value;
        if (outcome === 'timed-out') return this.publishedFsn;
      }
    } finally {
      Atomics.store(this.words, READER_WAITING, 0);
    }
  }
}
