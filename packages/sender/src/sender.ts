import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { nativeLoadError as nativeCrc32cLoadError } from '@qwp/crc32c';
import { type FilesFacade, nativeLoadError as nativeFilesError } from '@qwp/files-native';
import { parseConnectString, type TableBuffer } from '@qwp/qwp-wire';
import { SenderBuilder } from './builder.js';
import { ErrorInbox } from './error-inbox.js';
import {
  BackpressureError,
  DataLossError,
  reasonOf,
  SenderClosedError,
  SenderOptionsError,
  SenderStateError,
  SenderTimeoutError,
  StoreAndForwardUnavailableError,
  TransactionError,
  WorkerError,
} from './errors.js';
import {
  type DrainResult,
  type DrainSlotOptions,
  drainSlot,
  OrphanDrainers,
  type OrphanEvent,
} from './orphan-drain.js';
import { type FrameStore, MemoryFrameStore } from './producer/frame-store.js';
import { Publisher } from './producer/publisher.js';
import { SlotFrameStore } from './producer/slot-store.js';
import { RowWriter } from './row-writer.js';
import { DEFAULT_FRAME_BUDGET, resolveSettings, type SenderSettings } from './settings.js';
import {
  type ConnectedInfo,
  type FromWorker,
  fromWireError,
  type SegmentAnnouncement,
  type ToWorker,
  type WorkerInit,
} from './shared/messages.js';
import { ConnectionState, StatusBlock, type WireCounters } from './shared/status.js';
import { Transaction, type TransactionHost } from './transaction.js';

/** Programmatic options of {@link Sender.fromConfig}. */
export interface SenderOptions {
  /** Listeners attached before the first connection, so none of its events is missed. */
  on?: Partial<{ [E in keyof SenderEvents]: (...args: SenderEvents[E]) => void }>;
  /** File-system facade for SF mode (tests inject faults). */
  files?: FilesFacade;
}

/** Events a {@link Sender} emits, with their arguments. */
export interface SenderEvents {
  /** The first connection is up. */
  connected: [ConnectedInfo];
  /** A later connection is up (after a loss); frames are being replayed. */
  reconnected: [ConnectedInfo];
  /** The connection was lost; `willRetry` is false only when the sender stops. */
  disconnected: [{ reason: string; willRetry: boolean }];
  /** A reconnect went to another endpoint than the last connection's (`host:port` each). */
  failover: [{ from: string; to: string; info: ConnectedInfo }];
  /** The buffer is full: frames wait for acknowledgements to make room. */
  backpressure: [{ queuedFrames: number; connected: boolean }];
  /** A terminal error (also rethrown by the next call) or a reported incident. Without a listener: a process warning. */
  error: [Error];
  /** `drain_orphans=on`: a step in draining a sibling slot (draining, drained, skipped, failed, stopped). */
  orphan: [OrphanEvent];
}

/** Counters and positions, for monitoring. */
export interface SenderStats extends WireCounters {
  /** Highest FSN in the buffer (published), -1 when none. */
  publishedFsn: number;
  /** Highest FSN the server acknowledged, -1 when none. */
  ackedFsn: number;
  /** Rows written but not yet encoded. */
  bufferedRows: number;
  /** Encoded frames waiting for room in the buffer. */
  queuedFrames: number;
  /** Times the buffer was full and frames had to wait. */
  backpressureStalls: number;
  /** Errors dropped because the error inbox (error_inbox_capacity) was full. */
  errorsDropped: number;
  /** Bytes the buffer holds (memory, or on disk with sf_dir). */
  storeBytes: number;
  connected: boolean;
  mode: 'memory' | 'sf';
}

/** Longest the trim loop sleeps without an ACK (a safety net under Atomics.waitAsync). */
const MAINTENANCE_IDLE_MS = 1000;
/** Longest sleep of a wait for ACKs before it looks again (a safety net under Atomics.waitAsync). */
const ACK_POLL_MS = 100;
/** A failure as an Error for the error listeners (store and worker failures are Errors already). */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(reasonOf(err));
}

/** How long close() gives the worker to end before terminating it. */
const WORKER_EXIT_TIMEOUT_MS = 5000;

/** The worker's script, and the flags it runs with. */
function workerEntry(): { url: URL; execArgv: string[] | undefined } {
  if (!import.meta.url.endsWith('.ts')) {
    return { url: new URL('./worker/main.js', import.meta.url), execArgv: undefined };
  }
  // Running from TypeScript sources (this package's tests): the worker runs the
  // built dist/, which must resolve its dependencies to their dist/ as well, so
  // the `source` export condition the test runner adds is dropped.
  const execArgv: string[] = [];
  const inherited = process.execArgv;
  for (let i = 0; i < inherited.length; i++) {
    const arg = inherited[i]!;
    if (arg === '--conditions' || arg === '-C') i++;
    else if (!arg.startsWith('--conditions=')) execArgv.push(arg);
  }
  return { url: new URL('../dist/worker/main.js', import.meta.url), execArgv };
}

/**
 * A QWP sender. The row API buffers rows on the caller's thread; a flush
 * (auto or explicit) encodes them into QWP frames and appends them to the
 * buffer (shared memory, or with `sf_dir` mmap'd files that survive a
 * crash); one worker thread per sender sends them in order over a
 * WebSocket, maps the server's acknowledgements back and reconnects and
 * replays after any failure.
 *
 * ```ts
 * const sender = await Sender.fromConfig('ws::addr=localhost:9000;');
 * sender.table('trades').symbol('sym', 'ETH-USD').floatColumn('px', 2615.5).at(Date.now(), 'ms');
 * await sender.flush();
 * await sender.close();
 * ```
 */
export class Sender extends RowWriter implements TransactionHost {
  private readonly settings: SenderSettings;
  private readonly store: FrameStore;
  private readonly publisher: Publisher;
  private readonly status = new StatusBlock();
  private readonly emitter = new EventEmitter();
  private readonly inbox: ErrorInbox;
  /** Endpoint of the last connection, to tell a failover from a reconnect. */
  private lastEndpoint: string | undefined;
  private readonly worker: Worker;
  private readonly started: Promise<void>;
  private workerEnded: Promise<void>;
  private terminal: Error | null = null;
  /** True until the first connection (fromConfig() is waiting for it, unless async). */
  private awaitingStart = true;
  private closing = false;
  private closed: Promise<void> | null = null;
  private rowsInBatch = 0;
  /** Row count at which the byte trigger next measures the batch. */
  private nextBytesCheck = 1;
  private stalls = 0;
  private draining = false;
  private waits = 0;
  private transaction_: Transaction | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;

  private orphans: OrphanDrainers | null = null;

  private constructor(settings: SenderSettings, options: SenderOptions, conf: string) {
    super();
    this.settings = settings;
    this.inbox = new ErrorInbox(settings.config.errorInboxCapacity, (err) =>
      this.emitter.listenerCount('error') > 0 ? this.emitter.emit('error', err) : false,
    );
    for (const [event, listener] of Object.entries(options.on ?? {})) {
      if (listener !== undefined) this.emitter.on(event, listener as (...a: unknown[]) => void);
    }
    const onStoreError = (err: Error) => this.report(err);
    this.store =
      settings.sfDir === undefined
        ? new MemoryFrameStore(settings.segmentSize, settings.maxTotalBytes, onStoreError)
        : openSlotStore(settings, options.files, onStoreError);
    try {
      this.publisher = new Publisher(
        this.store,
        (segment) => this.announce(segment),
        DEFAULT_FRAME_BUDGET,
        settings.durability === 'append' ? () => this.store.sync() : null,
        settings.config.maxNameLen,
      );
      const init: WorkerInit = {
        wire: { ...settings.wire, localMaxBatchSize: this.store.maxPayload },
        control: this.store.control.buffer,
        status: this.status.buffer,
        segments: this.store.announceAll(),
        symbols: [...this.store.recoveredSymbols],
        slotDir: this.store.dir,
      };
      const entry = workerEntry();
      this.worker = new Worker(entry.url, { workerData: init, execArgv: entry.execArgv });
      this.valueLimit = this.publisher.maxValueBytes;
    } catch (err) {
      this.store.close();
      throw err;
    }
    this.worker.unref();
    let connected: () => void = () => {};
    let failed: (err: Error) => void = () => {};
    this.started = new Promise<void>((resolve, reject) => {
      connected = resolve;
      failed = reject;
    });
    this.started.catch(() => {}); // observed by fromConfig; also latched as `terminal`
    if (settings.wire.initialConnect === 'async') {
      this.awaitingStart = false;
      connected();
    }
    this.worker.on('message', (m: FromWorker) => this.onWorkerMessage(m, connected, failed));
    this.workerEnded = new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
    });
    this.worker.on('error', (err) => {
      const e = new WorkerError(`the I/O worker failed: ${reasonOf(err)}`, { cause: err });
      this.latch(e);
      failed(e);
    });
    this.worker.once('exit', (code) => {
      if (!this.closing && this.terminal === null) {
        const e = new WorkerError(`the I/O worker exited unexpectedly (code ${code})`);
        this.latch(e);
        failed(e);
      }
    });
    for (const notice of this.store.notices) this.report(notice);
    void this.trimLoop();
    if (settings.config.drainOrphans && settings.sfDir !== undefined) {
      this.orphans = new OrphanDrainers(
        (c, onError) => Sender.fromConfig(c, { on: { error: onError } }),
        conf,
        settings.sfDir,
        settings.senderId,
        settings.config.maxBackgroundDrainers,
        (event) => this.emitter.emit('orphan', event),
        (err) => this.report(err),
      );
      void this.orphans.start();
    }
    if (settings.durability === 'periodic' && this.store.mode === 'sf') {
      this.syncTimer = setInterval(() => this.syncQuietly(), settings.syncIntervalMs);
      this.syncTimer.unref();
    }
  }

  /**
   * Creates a sender from a `ws::` / `wss::` connect string. Unless
   * `initial_connect_retry=async`, resolves once the first connection is
   * up (or rejects when it cannot be made); configuration errors reject
   * before any I/O.
   */
  static async fromConfig(conf: string, options: SenderOptions = {}): Promise<Sender> {
    const settings = resolveSettings(parseConnectString(conf));
    const sender = new Sender(settings, options, conf);
    try {
      await sender.started;
    } catch (err) {
      await sender.close().catch(() => {}); // the connect failure is what the caller needs
      throw err;
    }
    return sender;
  }

  /**
   * A builder: typed setters for the connect-string keys (starting from
   * `conf` when given) and listeners attached before the first connection.
   */
  static builder(conf?: string): SenderBuilder<Sender, SenderEvents> {
    return new SenderBuilder<Sender, SenderEvents>(
      (c, on) => Sender.fromConfig(c, { on: on as SenderOptions['on'] }),
      conf,
    );
  }

  /**
   * Drains the slot `<sf_dir>/<senderId>` (sf_dir from `conf`) on its own
   * connection until every frame in it is acknowledged, then cleans it up
   * as a fully drained close does: what `drain_orphans=on` does for each
   * orphan, and `qwp sf drain` for an operator. Resolves `drained`,
   * `skipped` (another process holds the slot), `failed` (with the reason;
   * `.failed` is written when the slot can never be delivered) or `stopped`.
   */
  static drainSlot(
    conf: string,
    senderId: string,
    options: DrainSlotOptions = {},
  ): Promise<DrainResult> {
    const sfDir = parseConnectString(conf).sfDir;
    if (sfDir === undefined) {
      return Promise.reject(
        new SenderOptionsError('drainSlot() needs sf_dir in the connect string'),
      );
    }
    return drainSlot(
      (c, onError) => Sender.fromConfig(c, { on: { error: onError } }),
      conf,
      sfDir,
      senderId,
      options,
    );
  }

  /** Creates a sender from the `QDB_CLIENT_CONF` environment variable. */
  static async fromEnv(options: SenderOptions = {}): Promise<Sender> {
    const conf = process.env.QDB_CLIENT_CONF;
    if (conf === undefined || conf.length === 0) {
      throw new SenderStateError('QDB_CLIENT_CONF is not set');
    }
    return Sender.fromConfig(conf, options);
  }

  // ---- events ----

  /** Calls `listener` on every `event` (see {@link SenderEvents}). */
  on<E extends keyof SenderEvents>(event: E, listener: (...args: SenderEvents[E]) => void): this {
    this.emitter.on(event, listener as (...a: unknown[]) => void);
    return this;
  }

  /** Calls `listener` on the next `event` only. */
  once<E extends keyof SenderEvents>(event: E, listener: (...args: SenderEvents[E]) => void): this {
    this.emitter.once(event, listener as (...a: unknown[]) => void);
    return this;
  }

  /** Removes a listener added by {@link on} or {@link once}. */
  off<E extends keyof SenderEvents>(event: E, listener: (...args: SenderEvents[E]) => void): this {
    this.emitter.off(event, listener as (...a: unknown[]) => void);
    return this;
  }

  // ---- flushing and waiting ----

  /**
   * Encodes the buffered rows and appends them to the buffer (on disk in
   * SF mode; msynced first with `sf_durability=flush`). Resolves with the
   * FSN of the last frame published so far (-1 when none), to pass to
   * {@link acknowledged}. Waits only when the buffer is full, up to
   * `sf_append_deadline_millis`.
   */
  async flush(): Promise<number> {
    this.checkOpen('flush()');
    if (this.transaction_ !== null) {
      throw new SenderStateError('flush() on the sender inside a transaction: use tx.flush()');
    }
    if (this.rowInProgress) {
      throw new SenderStateError('flush() while a row is unfinished: end it with at() or atNow()');
    }
    this.publishNow();
    await this.waitForRoom();
    if (this.settings.durability === 'flush') this.store.sync();
    return this.publisher.lastFsn;
  }

  /**
   * Flushes, then waits until the server has acknowledged every frame
   * published so far. Rejects with SenderTimeoutError after `timeoutMs`
   * (nothing is lost: the frames stay buffered and keep being sent).
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.checkOpen('drain()');
    if (this.rowInProgress) {
      throw new SenderStateError('drain() while a row is unfinished: end it with at() or atNow()');
    }
    if (this.transaction_ === null) this.publishNow();
    // The whole wait, room for the last frames included, counts against timeoutMs.
    await this.waitForRoom(deadline, 'drain()');
    if (this.settings.durability === 'flush') this.store.sync();
    await this.waitForAck(this.publisher.commitFsn, deadline - Date.now(), 'drain()');
  }

  /** Resolves once the server has acknowledged every frame up to `fsn` (a value flush() returned). */
  async acknowledged(fsn: number, timeoutMs = 30_000): Promise<void> {
    if (!Number.isSafeInteger(fsn)) {
      throw new SenderStateError(`acknowledged(${fsn}): pass an FSN that flush() returned`);
    }
    if (fsn > this.publisher.lastFsn) {
      throw new SenderStateError(
        `acknowledged(${fsn}): only FSNs up to ${this.publisher.lastFsn} were published`,
      );
    }
    await this.waitForAck(fsn, timeoutMs, `acknowledged(${fsn})`);
  }

  /**
   * Discards rows written but not yet flushed (and the symbols only they
   * used). Frames already published are not affected.
   */
  reset(): this {
    this.publisher.discardRows();
    this.forgetRow();
    this.batchEmptied();
    return this;
  }

  /**
   * Runs `fn` with a transaction: every row written through `tx` reaches
   * the server as one group that commits all or nothing. When `fn` throws,
   * nothing of it is sent and the error is rethrown. While it runs, the
   * sender's own row API refuses rows (write through `tx`).
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    this.checkOpen('transaction()');
    if (this.transaction_ !== null) throw new TransactionError('transactions do not nest');
    if (this.rowInProgress) {
      throw new SenderStateError('transaction() while a row is unfinished: end it first');
    }
    this.publishNow();
    this.publisher.beginTransaction(
      Math.max(0, this.settings.maxTotalBytes - 2 * this.settings.segmentSize),
    );
    const tx = new Transaction(this);
    this.transaction_ = tx;
    let result: T;
    try {
      result = await fn(tx);
      this.checkOpen('transaction commit');
      this.publisher.publish();
      this.publisher.commitTransaction();
    } catch (err) {
      this.publisher.abortTransaction();
      throw err;
    } finally {
      tx.end();
      this.transaction_ = null;
      this.batchEmptied();
    }
    if (this.publisher.queuedFrames > 0) await this.waitForRoom();
    if (this.settings.durability === 'flush') this.store.sync();
    return result;
  }

  /** Counters and positions. */
  stats(): SenderStats {
    const control = this.store.control;
    return {
      ...this.status.snapshot(),
      publishedFsn: control.publishedFsn,
      ackedFsn: control.ackedFsn,
      bufferedRows: this.rowsInBatch,
      queuedFrames: this.publisher.queuedFrames,
      backpressureStalls: this.stalls,
      errorsDropped: this.inbox.dropped,
      storeBytes: this.store.totalBytes,
      connected: this.status.state === ConnectionState.CONNECTED,
      mode: this.store.mode,
    };
  }

  /**
   * Flushes, waits up to `timeoutMs` (default `close_flush_timeout_millis`)
   * for acknowledgements (no wait when it is <= 0), stops the worker and releases the buffer (in
   * SF mode the slot, with whatever is not acknowledged still in it).
   * Rejects with DataLossError in memory mode when frames were never
   * acknowledged, and with the terminal error if there was one. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closed ??= this.shutdown(options.timeoutMs ?? this.settings.closeFlushTimeoutMs);
    return this.closed;
  }

  /** `await using sender = ...`: {@link close} at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- RowWriter / TransactionHost ----

  protected beginRow(table: string): TableBuffer {
    if (this.transaction_ !== null) {
      throw new SenderStateError(
        'rows on the sender inside a transaction: write them through the tx object',
      );
    }
    return this.rowTable(table);
  }

  protected endRows(count: number): void {
    this.afterRows(count);
  }

  /** @internal */
  get maxValueBytes(): number {
    return this.publisher.maxValueBytes;
  }

  /** @internal */
  beginTransactionRow(table: string): TableBuffer {
    return this.rowTable(table);
  }

  /** @internal */
  endTransactionRows(count: number): void {
    this.afterRows(count);
  }

  /** @internal */
  flushTransaction(): void {
    this.checkOpen('tx.flush()');
    this.publishNow();
  }

  private rowTable(table: string): TableBuffer {
    this.checkOpen('table()');
    if (this.publisher.queuedByteCount > this.settings.maxQueuedBytes) {
      throw new BackpressureError(
        `the buffer is full and ${this.publisher.queuedByteCount} encoded bytes wait for room (over max_buf_size ${this.settings.maxQueuedBytes}): await flush() to wait for acknowledgements`,
        this.status.state === ConnectionState.CONNECTED,
        this.publisher.queuedFrames,
      );
    }
    return this.publisher.batch.table(table);
  }

  private afterRows(count: number): void {
    if (count === 0) return;
    this.rowsInBatch += count;
    const rows = this.rowsInBatch;
    const s = this.settings;
    if (rows === count && s.autoFlushIntervalMs > 0) this.armFlushTimer();
    if (s.autoFlushRows > 0 && rows >= s.autoFlushRows) {
      this.publishNow();
    } else if (s.autoFlushBytes > 0 && rows >= this.nextBytesCheck) {
      this.checkBytes(rows, s.autoFlushBytes);
    }
  }

  /**
   * The byte trigger. Measuring the batch walks every column, so it runs
   * only as often as needed to stop within twice the threshold: the next
   * check comes after half the rows that would fill the rest at the
   * average row size so far (every row when rows are huge).
   */
  private checkBytes(rows: number, threshold: number): void {
    const bytes = this.publisher.batch.maxEncodedBytes();
    if (bytes >= threshold) {
      this.publishNow();
      return;
    }
    const perRow = Math.max(1, bytes / rows);
    this.nextBytesCheck = rows + Math.max(1, Math.floor((threshold - bytes) / (2 * perRow)));
  }

  // ---- internals ----

  /** Encodes and appends the buffered rows now (sync); frames that do not fit wait in the queue. */
  private publishNow(): void {
    this.batchEmptied();
    // The timer stays armed: a closed Timeout ignores refresh(), so closing it
    // here would stop the interval trigger for good. Firing on an empty batch is a no-op.
    this.publisher.publish();
    if (this.publisher.queuedFrames > 0) this.startBackgroundDrain();
  }

  /** The row buffers were emptied (published, reset or discarded). */
  private batchEmptied(): void {
    this.rowsInBatch = 0;
    this.nextBytesCheck = 1;
  }

  private armFlushTimer(): void {
    if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => this.onFlushTimer(), this.settings.autoFlushIntervalMs);
      this.flushTimer.unref();
    } else {
      this.flushTimer.refresh();
    }
  }

  private onFlushTimer(): void {
    if (this.closing || this.terminal !== null || this.rowsInBatch === 0) return;
    if (this.rowInProgress) {
      this.flushTimer?.refresh(); // a row is half-written: try again later
      return;
    }
    try {
      this.publishNow();
    } catch (err) {
      this.report(err as Error);
    }
  }

  /** Keeps moving queued frames into the buffer as ACKs free room, without a deadline. */
  private startBackgroundDrain(): void {
    if (this.draining) return;
    this.draining = true;
    this.stalls++;
    this.emitter.emit('backpressure', {
      queuedFrames: this.publisher.queuedFrames,
      connected: this.status.state === ConnectionState.CONNECTED,
    });
    void (async () => {
      try {
        while (!this.closing && this.terminal === null) {
          const epoch = this.status.ackEpoch;
          this.store.maintain();
          if (this.publisher.drainQueue()) return;
          await this.status.waitForAckChange(epoch, ACK_POLL_MS);
        }
      } catch (err) {
        this.report(err as Error);
      } finally {
        this.draining = false;
      }
    })();
  }

  /**
   * Waits until no frame waits for room: up to `sf_append_deadline_millis`,
   * or until `deadline` for a wait with its own timeout (drain).
   */
  private async waitForRoom(deadline?: number, what?: string): Promise<void> {
    if (this.publisher.queuedFrames === 0) return;
    const limit = deadline ?? Date.now() + this.settings.appendDeadlineMs;
    await this.holding(async () => {
      for (;;) {
        this.throwIfTerminal();
        const epoch = this.status.ackEpoch;
        this.store.maintain();
        if (this.publisher.drainQueue()) return;
        const left = limit - Date.now();
        if (left <= 0) {
          const connected = this.status.state === ConnectionState.CONNECTED;
          const waited =
            deadline === undefined
              ? `${this.settings.appendDeadlineMs} ms (sf_append_deadline_millis)`
              : `the time given to ${what}`;
          throw new BackpressureError(
            `the buffer stayed full for ${waited} with ${this.publisher.queuedFrames} frame(s) waiting; the server ${connected ? 'is connected but acknowledges too slowly' : 'is not connected'}. Nothing was dropped: the frames stay queued`,
            connected,
            this.publisher.queuedFrames,
          );
        }
        await this.status.waitForAckChange(epoch, Math.min(left, ACK_POLL_MS));
      }
    });
  }

  /** Waits until the acked FSN reaches `fsn`. */
  private async waitForAck(fsn: number, timeoutMs: number, what: string): Promise<void> {
    const control = this.store.control;
    if (control.ackedFsn >= fsn) return;
    const deadline = Date.now() + timeoutMs;
    await this.holding(async () => {
      for (;;) {
        const epoch = this.status.ackEpoch;
        if (control.ackedFsn >= fsn) return;
        this.throwIfTerminal();
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new SenderTimeoutError(
            `${what} timed out after ${timeoutMs} ms: acknowledged through FSN ${control.ackedFsn}, waiting for ${fsn}; nothing was lost, the frames stay buffered`,
          );
        }
        await this.status.waitForAckChange(epoch, Math.min(left, ACK_POLL_MS));
      }
    });
  }

  /** Keeps the process alive (the worker ref'd) while `wait` runs: a pending promise alone does not. */
  private async holding<T>(wait: () => Promise<T>): Promise<T> {
    if (this.waits++ === 0) this.worker.ref();
    try {
      return await wait();
    } finally {
      if (--this.waits === 0) this.worker.unref();
    }
  }

  /**
   * Releases what the server acknowledged as soon as it is, so room comes
   * back promptly: woken by the worker's ACK signal (Atomics.waitAsync, which
   * never keeps the process alive), with a slow poll as a safety net.
   */
  private async trimLoop(): Promise<void> {
    while (!this.closing) {
      const epoch = this.status.ackEpoch;
      this.maintain();
      await this.status.waitForAckChange(epoch, MAINTENANCE_IDLE_MS);
    }
  }

  private maintain(): void {
    try {
      this.store.maintain();
    } catch (err) {
      this.report(err as Error);
    }
  }

  private syncQuietly(): void {
    try {
      this.store.sync();
    } catch (err) {
      this.report(err as Error);
    }
  }

  private announce(segment: SegmentAnnouncement): void {
    const message: ToWorker = { type: 'segment', segment };
    this.worker.postMessage(message);
  }

  private onWorkerMessage(
    m: FromWorker,
    connected: () => void,
    failed: (err: Error) => void,
  ): void {
    switch (m.type) {
      case 'connected': {
        this.awaitingStart = false;
        this.publisher.setFrameBudget(m.info.maxBatchSize);
        this.valueLimit = this.publisher.maxValueBytes;
        const endpoint = `${m.info.host}:${m.info.port}`;
        const previous = this.lastEndpoint;
        this.lastEndpoint = endpoint;
        this.emitter.emit(m.info.first ? 'connected' : 'reconnected', m.info);
        if (previous !== undefined && previous !== endpoint) {
          this.emitter.emit('failover', { from: previous, to: endpoint, info: m.info });
        }
        if (m.info.first) connected();
        return;
      }
      case 'disconnected':
        this.emitter.emit('disconnected', { reason: m.reason, willRetry: m.willRetry });
        return;
      case 'incident':
        this.report(fromWireError(m.error));
        return;
      case 'connect-failed': {
        const err = fromWireError(m.error);
        this.latch(err, false);
        failed(err);
        return;
      }
      case 'fatal': {
        const err = fromWireError(m.error);
        // Before the first connection fromConfig() rejects with it: no second report.
        this.latch(err, this.awaitingStart === false);
        failed(err);
        return;
      }
      case 'stopped':
        return;
    }
  }

  /** Latches a terminal error: every later call rethrows it. */
  private latch(err: Error, emit = true): void {
    if (this.terminal !== null) return;
    this.terminal = err;
    if (emit) this.report(err);
  }

  /** Sends an error to the `error` listeners (through the bounded inbox), or to a process warning when there is none. */
  private report(err: Error): void {
    this.inbox.push(err);
  }

  private throwIfTerminal(): void {
    if (this.terminal !== null) throw this.terminal;
  }

  private checkOpen(what: string): void {
    if (this.closing) throw new SenderClosedError(what);
    this.throwIfTerminal();
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const failures: unknown[] = [];
    if (this.transaction_ !== null) this.publisher.abortTransaction();
    this.closing = true;
    // Drainers keep what they have not delivered on disk for the next start.
    const orphansStopped = this.orphans?.stop();
    const timeout = Math.max(0, timeoutMs);
    const deadline = Date.now() + timeout;
    if (this.terminal === null) {
      try {
        // An unfinished row is dropped: it has no timestamp and no end.
        if (!this.rowInProgress) this.publisher.publish();
        this.batchEmptied();
        await this.waitForRoom(deadline, 'close()');
        if (timeout > 0) {
          await this.waitForAck(this.publisher.commitFsn, deadline - Date.now(), 'close()');
        }
      } catch (err) {
        // Running out of time is reported below as what it costs; anything else as itself.
        if (!(err instanceof SenderTimeoutError || err instanceof BackpressureError)) {
          failures.push(err);
        }
      }
    }
    await this.stopWorker();
    await orphansStopped;
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    this.flushTimer?.close();
    const acked = this.store.control.ackedFsn;
    const unacked = this.publisher.commitFsn - acked;
    const queued = this.publisher.queuedFrames;
    try {
      this.store.maintain();
      if (this.store.mode === 'sf' && this.settings.durability !== 'memory') this.store.sync();
      this.store.close();
    } catch (err) {
      failures.push(err);
    }
    if (this.terminal !== null) {
      // The terminal error is what close() rejects with; what failed while
      // closing still reaches the error listeners, never silence.
      for (const f of failures) this.report(asError(f));
      this.inbox.drain();
      throw this.terminal;
    }
    const lost = queued + (this.store.mode === 'memory' ? Math.max(0, unacked) : 0);
    if (lost > 0) {
      const parts: string[] = [];
      if (queued > 0) parts.push(`${queued} frame(s) never found room in the buffer`);
      if (this.store.mode === 'memory' && unacked > 0) {
        parts.push(
          `${unacked} frame(s) were never acknowledged (acked through FSN ${acked} of ${this.publisher.commitFsn}) and memory mode keeps nothing`,
        );
      }
      throw new DataLossError(
        `closed with data lost: ${parts.join('; ')}. Raise close_flush_timeout_millis${this.store.mode === 'memory' ? ', or use sf_dir to keep unacknowledged frames on disk' : ' or sf_max_total_bytes'}`,
        lost,
        failures.length > 0 ? { cause: failures[0] } : undefined,
      );
    }
    if (failures.length > 1) {
      for (const f of failures.slice(1)) this.report(asError(f));
      this.inbox.drain();
    }
    if (failures.length > 0) throw failures[0];
  }

  private async stopWorker(): Promise<void> {
    const stop: ToWorker = { type: 'stop' };
    this.worker.ref();
    this.worker.postMessage(stop);
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      this.workerEnded.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), WORKER_EXIT_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!ended) await this.worker.terminate();
  }
}

function openSlotStore(
  settings: SenderSettings,
  files: FilesFacade | undefined,
  onError: (err: Error) => void,
): FrameStore {
  if (files === undefined) requireNativeAddons(settings.sfDir!);
  return new SlotFrameStore({
    sfDir: settings.sfDir!,
    senderId: settings.senderId,
    segmentSize: settings.segmentSize,
    maxTotalBytes: settings.maxTotalBytes,
    onError,
    files,
  });
}

/**
 * SF mode maps files and checks every frame on disk: it needs both addons,
 * and says so at construction rather than fall back to less durability.
 */
function requireNativeAddons(sfDir: string): void {
  const missing: Error[] = [];
  for (const err of [nativeFilesError(), nativeCrc32cLoadError()]) if (err) missing.push(err);
  if (missing.length === 0) return;
  throw new StoreAndForwardUnavailableError(
    `sf_dir=${sfDir} needs the native addons, which cannot load on ${process.platform}-${process.arch}: ${missing.map((e) => e.message).join('; ')}. Install a prebuild for this platform or a C toolchain, or leave sf_dir unset for memory mode`,
    { cause: missing[0] },
  );
}
