/**
 * What the I/O worker tells the producer without a message: connection
 * state, counters and an "ACK moved" word the producer can sleep on. One
 * SharedArrayBuffer; each field has a single writer (the worker, except
 * where noted), so plain stores suffice for counters read as statistics.
 */

/** Connection state as the worker last set it. */
export const ConnectionState = {
  /** Not connected yet (initial connect in progress). */
  CONNECTING: 0,
  CONNECTED: 1,
  /** Lost the connection; reconnecting with backoff. */
  RECONNECTING: 2,
  /** Stopped on request. */
  STOPPED: 3,
  /** Stopped on a terminal error. */
  FAILED: 4,
} as const;
export type ConnectionStateCode = (typeof ConnectionState)[keyof typeof ConnectionState];

const STATE = 0;
const ACK_EPOCH = 1;
const INT_WORDS = 8;

/** Float64 counters, after the Int32 words. */
const Counter = {
  FramesSent: 0,
  BytesSent: 1,
  FramesReplayed: 2,
  Reconnects: 3,
  ConnectAttempts: 4,
  SentFsn: 5,
  CatchUpFrames: 6,
  Connections: 7,
} as const;
const COUNTERS = 8;

/** The counters as plain numbers, for `stats()`. */
export interface WireCounters {
  /** Data frames written to a socket (replays included). */
  framesSent: number;
  /** Payload bytes of those frames. */
  bytesSent: number;
  /** Frames sent again after a reconnect (they were sent before on an earlier connection). */
  framesReplayed: number;
  /** Connections made after the first one. */
  reconnects: number;
  /** Connections made (successful attempts). */
  connections: number;
  /** Connection attempts, successful or not. */
  connectAttempts: number;
  /** Highest FSN written to a socket, -1 before the first. */
  sentFsn: number;
  /** Symbol catch-up frames sent at the start of connections. */
  catchUpFrames: number;
}

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
) =>
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Both threads construct one over the same buffer. */
export class StatusBlock {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  private readonly counters: Float64Array;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(INT_WORDS * 4 + COUNTERS * 8);
    this.words = new Int32Array(this.buffer, 0, INT_WORDS);
    this.counters = new Float64Array(this.buffer, INT_WORDS * 4, COUNTERS);
    if (buffer === undefined) this.counters[Counter.SentFsn] = -1;
  }

  get state(): ConnectionStateCode {
    return Atomics.load(this.words, STATE) as ConnectionStateCode;
  }

  set state(value: ConnectionStateCode) {
    Atomics.store(this.words, STATE, value);
  }

  /** Worker: the acked FSN moved (or the worker stopped); wakes a producer waiting in {@link waitForAckChange}. */
  signalAck(): void {
    Atomics.add(this.words, ACK_EPOCH, 1);
    Atomics.notify(this.words, ACK_EPOCH);
  }

  /** The current ACK epoch; pass it to {@link waitForAckChange}. */
  get ackEpoch(): number {
    return Atomics.load(this.words, ACK_EPOCH);
  }

  /** Producer: resolves once the ACK epoch differs from `epoch`, or after `timeoutMs`. Never blocks the thread. */
  async waitForAckChange(epoch: number, timeoutMs: number): Promise<void> {
    const r = waitAsync(this.words, ACK_EPOCH, epoch, Math.max(0, timeoutMs));
    if (r.async) await r.value;
  }

  countFrame(fsn: number, bytes: number, replayed: boolean): void {
    const c = this.counters;
    c[Counter.FramesSent]!++;
    c[Counter.BytesSent]! += bytes;
    if (replayed) c[Counter.FramesReplayed]!++;
    if (fsn > c[Counter.SentFsn]!) c[Counter.SentFsn] = fsn;
  }

  countCatchUpFrame(): void {
    this.counters[Counter.CatchUpFrames]!++;
  }

  countConnectAttempt(): void {
    this.counters[Counter.ConnectAttempts]!++;
  }

  /** A connection succeeded; every one after the first counts as a reconnect. */
  countConnection(): void {
    const c = this.counters;
    if (c[Counter.Connections]! > 0) c[Counter.Reconnects]!++;
    c[Counter.Connections]!++;
  }

  /** Highest FSN ever written to a socket, -1 before the first. */
  get sentFsn(): number {
    return this.counters[Counter.SentFsn]!;
  }

  snapshot(): WireCounters {
    const c = this.counters;
    return {
      framesSent: c[Counter.FramesSent]!,
      bytesSent: c[Counter.BytesSent]!,
      framesReplayed: c[Counter.FramesReplayed]!,
      reconnects: c[Counter.Reconnects]!,
      connections: c[Counter.Connections]!,
      connectAttempts: c[Counter.ConnectAttempts]!,
      sentFsn: c[Counter.SentFsn]!,
      catchUpFrames: c[Counter.CatchUpFrames]!,
    };
  }
}
