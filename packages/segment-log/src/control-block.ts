/**
 * The state the producer and the I/O worker share, in one SharedArrayBuffer:
 * the published FSN (written by the producer), the acked FSN (written by the
 * worker) and a waiter flag. Each 64-bit value is a seqlock over two Int32
 * words, so a publish costs four Atomics stores and allocates nothing
 * (BigInt64Array would allocate a BigInt per store).
 *
 * Values are FSNs as safe integers; -1 means "none yet".
 */

const PUB_SEQ = 0;
const PUB_LO = 1;
const PUB_HI = 2;
const ACK_SEQ = 3;
const ACK_LO = 4;
const ACK_HI = 5;
/** Non-zero while a reader sleeps on the publish word; the producer notifies only then. */
const READER_WAITING = 6;
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

function store(a: Int32Array, seq: number, lo: number, hi: number, fsn: number): void {
  const v = fsn + 1; // stored biased so that "none" is zero
  const s = Atomics.load(a, seq);
  Atomics.store(a, seq, s + 1);
  Atomics.store(a, lo, (v % TWO_32) | 0);
  Atomics.store(a, hi, Math.floor(v / TWO_32));
  Atomics.store(a, seq, s + 2);
}

function load(a: Int32Array, seq: number, lo: number, hi: number): number {
  for (;;) {
    const s1 = Atomics.load(a, seq);
    if ((s1 & 1) === 0) {
      const l = Atomics.load(a, lo) >>> 0;
      const h = Atomics.load(a, hi);
      if (Atomics.load(a, seq) === s1) return h * TWO_32 + l - 1;
    }
  }
}

/** Cross-thread published/acked FSNs; construct on each side from the same SharedArrayBuffer. */
export class ControlBlock {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;

  /** Wraps `buffer` (from another thread) or allocates a fresh block with both FSNs at -1. */
  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(WORDS * 4);
    this.words = new Int32Array(this.buffer, 0, WORDS);
  }

  /** Highest FSN whose frame is complete and readable; -1 when none. */
  get publishedFsn(): number {
    return load(this.words, PUB_SEQ, PUB_LO, PUB_HI);
  }

  /** Producer only. Wakes a sleeping reader if one asked to be woken. */
  publish(fsn: number): void {
    store(this.words, PUB_SEQ, PUB_LO, PUB_HI, fsn);
    if (Atomics.load(this.words, READER_WAITING) !== 0) Atomics.notify(this.words, PUB_SEQ);
  }

  /** Highest FSN the server acknowledged; -1 when none. */
  get ackedFsn(): number {
    return load(this.words, ACK_SEQ, ACK_LO, ACK_HI);
  }

  /** Single writer (the worker, or the producer when there is no worker). Never moves back. */
  acknowledge(fsn: number): void {
    if (fsn > this.ackedFsn) store(this.words, ACK_SEQ, ACK_LO, ACK_HI, fsn);
  }

  /**
   * Reader side: resolves when the published FSN moves past `seenFsn` or
   * after `timeoutMs`. Uses Atomics.waitAsync, so it never blocks the thread.
   */
  async waitForPublish(seenFsn: number, timeoutMs: number): Promise<number> {
    Atomics.store(this.words, READER_WAITING, 1);
    try {
      for (;;) {
        const seq = Atomics.load(this.words, PUB_SEQ);
        const now = this.publishedFsn;
        if (now > seenFsn) return now;
        const r = waitAsync(this.words, PUB_SEQ, seq, timeoutMs);
        const outcome = r.async ? await r.value : r.value;
        if (outcome === 'timed-out') return this.publishedFsn;
      }
    } finally {
      Atomics.store(this.words, READER_WAITING, 0);
    }
  }
}
