import {
  type DecodedMessage,
  type DecodeOptions,
  encodeDurableAckResponse,
  encodeErrorResponse,
  encodeOkResponse,
  SymbolDictionary,
  type TableSeqTxn,
} from '@qwp/qwp-wire/codec';
import {
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_UNSUPPORTED_DATA,
  FRAGMENTED_REASON,
  TEXT_FRAME_REASON,
  TOO_BIG_REASON,
} from './close-codes.js';
import { DurableWatermarks } from './durable-watermarks.js';
import { FrameRejectedError } from './errors.js';
import type { Faults } from './faults.js';
import {
  applyDictionaryDelta,
  checkHeader,
  decodeFull,
  fastHeaderFlags,
  serverDecodeOptions,
} from './frame-handler.js';
import { FLAG_DEFER_COMMIT, Status, statusName } from './protocol.js';
import type { AckMode, ConnectionInfo, FrameRecord } from './records.js';
import { PendingTxn, type RowStore, type TableCommit } from './row-store.js';
import type { Stats } from './stats.js';
import { MAX_FRAME_HEADER_BYTES } from './websocket/constants.js';
import type { ServerWebSocket } from './websocket/server-socket.js';

/** Server-wide services a connection uses. */
export interface ConnectionContext {
  store: RowStore;
  faults: Faults;
  stats: Stats;
  ackMode: AckMode;
  /** Fully decode one frame in `decodeEvery` (1: every frame, strict mode; 0: none). */
  decodeEvery: number;
  /** Whether frame records are kept (false: one scratch record is reused, nothing allocated per frame). */
  recording: boolean;
  /** Whether committed rows go to the row store (false in throughput mode). */
  storeRows: boolean;
  /** How long after its OK a commit counts as uploaded (due in a DURABLE_ACK). */
  durableAckDelayMs: number;
  maxBatchSize: number;
  /** Force-commit an open deferred group once it holds this many rows (0: never). */
  maxUncommittedRows: number;
  recordFrame(record: FrameRecord): void;
  log(line: string): void;
}

/** QuestDB cuts error messages to this many UTF-8 bytes. */
const MAX_ERROR_MESSAGE_BYTES = 1024;

/** `message` cut to at most `max` UTF-8 bytes, never inside a character. */
function truncateUtf8(message: string, max: number): string {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= max) return message;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) to a character start.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** The per-table seqTxn watermarks of `pending` as a response carries them; empties `pending`. */
function drainWatermarks(pending: Map<string, bigint>): TableSeqTxn[] {
  const tables: TableSeqTxn[] = [];
  for (const [name, seqTxn] of pending) tables.push({ name, seqTxn });
  pending.clear();
  return tables;
}

/** QuestDB's server flushes a cumulative OK at least every this many frames. */
const ACK_BATCH_SIZE = 8;
/** A 'future' corrupted ACK names a sequence this far past the real one. */
const FUTURE_ACK_DISTANCE = 1000n;

/**
 * One QWP connection: numbers binary frames from 0, decodes each against
 * the connection's symbol dictionary, stages rows (FLAG_DEFER_COMMIT groups
 * stay uncommitted until a frame without the flag), commits, and answers
 * with OK / error frames (and DURABLE_ACK when negotiated).
 *
 * After an error the connection stays open but, like QuestDB, consumes every
 * later frame without processing or answering it: the client must reconnect
 * and replay from its acknowledged watermark.
 */
export class Connection {
  readonly info: ConnectionInfo;
  private readonly dict = new SymbolDictionary();
  private readonly decodeOptions: DecodeOptions;
  private readonly txn = new PendingTxn();
  private broken = false;
  private highestCommitted = -1;
  private lastAcked = -1;
  private readonly okTables = new Map<string, bigint>();
  private readonly durable = new DurableWatermarks();
  private flushScheduled = false;
  private lastDue = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly scratch: FrameRecord;
  private closed = false;
  /** Set once the server closed or cut the connection: nothing more is handled. */
  private terminated = false;

  constructor(
    private readonly ws: ServerWebSocket,
    private readonly ctx: ConnectionContext,
    info: ConnectionInfo,
  ) {
    this.info = info;
    this.decodeOptions = serverDecodeOptions(info.version, ctx.maxBatchSize);
    this.scratch = this.newRecord();
    ws.on('message', (data, isBinary) => {
      try {
        this.onMessage(data, isBinary);
        // Like the server's flush at the end of each receive: the pending OK
        // and the DURABLE_ACKs due by now, whatever this frame's outcome.
        this.scheduleFlush();
      } catch (err) {
        // A bug here must cost one connection, never the server.
        ctx.log(
          `conn ${info.id}: internal error, connection cut: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
        this.terminate();
      }
    });
    // The server runs with autoPong off: QuestDB flushes the pending OK and
    // the DURABLE_ACKs due before it answers a PING, so the PONG must not
    // overtake them. A PING is how a client asks for durable ACKs while it
    // has nothing to send.
    ws.on('ping', (data) => {
      if (this.closed || this.terminated) return;
      this.flushAll();
      ws.pong(data);
    });
    // Any inbound frame is a receive, after which QuestDB flushes.
    ws.on('pong', () => {
      if (!this.closed && !this.terminated) this.scheduleFlush();
    });
    // QuestDB refuses to reassemble: the messages before are handled, then
    // the pending OK goes out and the connection closes 1002.
    ws.on('fragment', () => {
      if (this.closed || this.terminated) return;
      this.ctx.log(`conn ${this.info.id}: fragmented WebSocket message, closing 1002`);
      this.closeGracefully(CLOSE_PROTOCOL_ERROR, FRAGMENTED_REASON);
    });
    // A frame over QuestDB's receive buffer, refused as soon as its header is read.
    ws.on('oversize', (frameBytes) => {
      if (this.closed || this.terminated) return;
      this.ctx.log(
        `conn ${this.info.id}: frame of ${frameBytes} bytes, larger than ${this.ctx.maxBatchSize + MAX_FRAME_HEADER_BYTES} (X-QWP-Max-Batch-Size + ${MAX_FRAME_HEADER_BYTES}), closing 1009`,
      );
      this.closeGracefully(CLOSE_MESSAGE_TOO_BIG, TOO_BIG_REASON);
    });
    // The connection ends without a CLOSE of ours (a client CLOSE, a
    // malformed frame, the client's FIN): QuestDB still flushes the pending
    // OK and the DURABLE_ACKs due, then answers the CLOSE or closes.
    ws.on('closing', () => {
      if (!this.closed && !this.terminated) this.flushAll();
    });
    ws.on('error', (err) => {
      ctx.log(`conn ${info.id}: websocket error: ${err.message}`);
    });
    ws.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
  }

  /** Cuts the TCP connection at once, without a close frame (a crash or a network fault). */
  terminate(): void {
    this.terminated = true;
    this.ws.terminate();
  }

  /**
   * Sends the pending OK, then a close frame; frames that arrive after it are
   * discarded unanswered, as QuestDB does once its CLOSE is on the wire.
   * Every close the server starts (text message, fragmentation, demotion) goes here.
   */
  closeGracefully(code: number, reason: string): void {
    this.flushAll();
    this.terminated = true;
    this.ws.close(code, reason);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed || this.terminated) return;
    if (!isBinary) {
      // QuestDB acknowledges what committed, then closes 1003: QWP is binary-only.
      this.ctx.stats.textFrames++;
      this.ctx.log(`conn ${this.info.id}: text message of ${data.length} bytes, closing 1003`);
      this.closeGracefully(CLOSE_UNSUPPORTED_DATA, TEXT_FRAME_REASON);
      return;
    }
    // The frame's sequence on this connection and its server-wide index are
    // the counts of binary frames before it.
    const seq = this.info.frames++;
    const stats = this.ctx.stats;
    const index = stats.frames++;
    stats.bytes += data.length;
    const record = this.ctx.recording ? this.newRecord() : this.resetScratch();
    record.index = index;
    record.wireSeq = seq;
    record.bytes = data.length;
    record.flags = data.length >= 6 ? (data[5] ?? null) : null;
    if (this.broken) {
      stats.framesRefused++;
      record.outcome = 'refused';
      this.ctx.recordFrame(record);
      return;
    }
    const drop = this.ctx.faults.dropFor(this.info.frames);
    // The frames before the one the fault cuts at are acknowledged first, so
    // the fault hits exactly that frame whatever the ACK batching.
    if (drop !== null) this.flushAck();
    if (drop === 'before-process') {
      this.drop(record, 'before processing');
      return;
    }
    let deferred = false;
    try {
      const forced = this.ctx.faults.takeFrameRejection(index);
      if (forced !== undefined) throw new FrameRejectedError(forced.status, forced.message);
      // A zero-length binary message is an empty commit on QuestDB: it has
      // no header to check, takes a sequence and is acknowledged.
      if (data.length > 0) {
        let flags = fastHeaderFlags(data, this.info.version, this.ctx.maxBatchSize);
        // The codec's header check names the fault; it throws for any header the fast check refused.
        if (flags < 0) flags = checkHeader(data, this.decodeOptions).flags;
        deferred = (flags & FLAG_DEFER_COMMIT) !== 0;
        const message = this.decode(data, flags, index);
        if (message !== null) {
          for (const t of message.tables) {
            record.tables.push(t.name);
            record.rows += t.rowCount;
          }
          if (this.ctx.storeRows) this.ctx.store.stage(message, this.txn);
        }
      }
      if (
        deferred &&
        this.ctx.maxUncommittedRows > 0 &&
        this.txn.rowCount >= this.ctx.maxUncommittedRows
      ) {
        // QuestDB's qwp.max.uncommitted.rows: the group is committed early and,
        // nothing being left to roll back, this frame's OK covers it.
        deferred = false;
      }
      if (!deferred) this.commit(seq);
    } catch (err) {
      this.reject(seq, err, record);
      return;
    }
    if (drop === 'before-ack') {
      this.drop(record, deferred ? 'after staging' : 'after commit, before the ACK');
      return;
    }
    record.outcome = deferred ? 'deferred' : 'committed';
    this.ctx.recordFrame(record);
    if (!deferred) this.scheduleAck();
  }

  private newRecord(): FrameRecord {
    return {
      index: 0,
      connectionId: this.info.id,
      wireSeq: 0,
      bytes: 0,
      flags: null,
      outcome: 'committed',
      status: null,
      message: null,
      tables: [],
      rows: 0,
    };
  }

  private resetScratch(): FrameRecord {
    const r = this.scratch;
    r.outcome = 'committed';
    r.status = null;
    r.message = null;
    r.tables.length = 0;
    r.rows = 0;
    return r;
  }

  private decode(data: Buffer, flags: number, index: number): DecodedMessage | null {
    const every = this.ctx.decodeEvery;
    if (every === 1 || (every > 1 && index % every === 0)) {
      const message = decodeFull(data, this.dict, this.decodeOptions);
      this.ctx.stats.framesDecoded++;
      return message;
    }
    applyDictionaryDelta(data, flags, this.dict);
    return null;
  }

  private commit(seq: number): void {
    const commits: TableCommit[] = this.ctx.storeRows ? this.ctx.store.commit(this.txn) : [];
    const stats = this.ctx.stats;
    for (const c of commits) {
      this.okTables.set(c.table, c.seqTxn);
      stats.rowsCommitted += c.rows;
      stats.commits++;
    }
    this.highestCommitted = seq;
  }

  private reject(seq: number, err: unknown, record: FrameRecord): void {
    const status = err instanceof FrameRejectedError ? err.status : Status.INTERNAL_ERROR;
    const message = truncateUtf8(
      err instanceof FrameRejectedError
        ? err.reason
        : `internal error: ${err instanceof Error ? err.message : String(err)}`,
      MAX_ERROR_MESSAGE_BYTES,
    );
    // The server rolls back an open FLAG_DEFER_COMMIT group on any error, and
    // every later frame on this connection is refused (see class comment).
    this.txn.clear();
    this.broken = true;
    this.ctx.stats.error(status);
    this.ctx.log(
      `conn ${this.info.id}: frame ${seq} rejected with ${statusName(status)}: ${message}`,
    );
    record.outcome = 'rejected';
    record.status = status;
    record.message = message;
    this.ctx.recordFrame(record);
    // Acknowledge what committed before this frame first, as QuestDB does.
    this.flushAck();
    this.enqueue(encodeErrorResponse(status, seq, message));
  }

  private drop(record: FrameRecord, where: string): void {
    record.outcome = 'dropped';
    this.ctx.recordFrame(record);
    this.ctx.stats.connectionsDropped++;
    this.ctx.log(`conn ${this.info.id}: dropped by fault at frame ${record.wireSeq} (${where})`);
    this.terminate();
  }

  /** A committed frame's OK: at once per frame, or when ACK_BATCH_SIZE frames are owed (cumulative). */
  private scheduleAck(): void {
    if (
      this.ctx.ackMode === 'per-frame' ||
      this.highestCommitted - this.lastAcked >= ACK_BATCH_SIZE
    ) {
      this.flushAck();
    }
  }

  /**
   * Flushes once the frames that arrived together are handled, like the
   * server's flush at the end of each receive: cumulative mode's single OK
   * for the burst, and the DURABLE_ACKs due by then.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushAll();
    });
  }

  /** The pending OK, then the DURABLE_ACK due, as QuestDB's flushPendingAck sends them. */
  private flushAll(): void {
    this.flushAck();
    this.flushDurable();
  }

  private flushAck(): void {
    if (this.highestCommitted <= this.lastAcked || this.closed) return;
    const seq = this.highestCommitted;
    this.lastAcked = seq;
    const tables = drainWatermarks(this.okTables);
    const faults = this.ctx.faults;
    if (faults.acksSuppressed) return;
    const corruption = faults.takeAckCorruption();
    let frame: Uint8Array;
    if (corruption === 'malformed') {
      frame = encodeOkResponse(seq, tables).subarray(0, 5);
    } else if (corruption === 'future') {
      frame = encodeOkResponse(BigInt(seq) + FUTURE_ACK_DISTANCE, tables);
    } else {
      frame = encodeOkResponse(seq, tables);
    }
    this.ctx.stats.oks++;
    this.enqueue(frame);
    if (this.info.durableAck && tables.length > 0) {
      // Durable watermarks trail the OKs: uploaded durableAckDelayMs later.
      this.durable.record(tables, Date.now() + this.ctx.durableAckDelayMs);
    }
  }

  /**
   * Sends one DURABLE_ACK with every watermark uploaded by now. Called only
   * on inbound traffic: QuestDB has no timer for these, so a client that
   * waits for one without sending anything waits forever (it must PING).
   */
  private flushDurable(): void {
    if (!this.info.durableAck || this.closed || this.ctx.faults.acksSuppressed) return;
    const ready = this.durable.takeReady(Date.now());
    if (ready.length === 0) return;
    this.ctx.stats.durableAcks++;
    this.enqueue(encodeDurableAckResponse(ready));
  }

  /** Sends `frame` after the configured ACK delay, never before an earlier enqueued frame. */
  private enqueue(frame: Uint8Array): void {
    const now = Date.now();
    const delay = this.ctx.faults.ackDelayMs;
    if (delay === 0 && this.lastDue <= now) {
      this.sendNow(frame);
      return;
    }
    const due = Math.max(now + delay, this.lastDue);
    this.lastDue = due;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.sendNow(frame);
    }, due - now);
    this.timers.add(timer);
  }

  private sendNow(frame: Uint8Array): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(frame);
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.txn.isEmpty()) {
      this.ctx.log(
        `conn ${this.info.id}: rolled back ${this.txn.rowCount} uncommitted deferred rows`,
      );
    }
    this.txn.clear();
    this.dict.reset();
    this.info.closedAt = Date.now();
    this.info.closeCode = code;
    this.info.closeReason = reason;
    this.ctx.stats.connectionsOpen--;
    this.ctx.log(
      `conn ${this.info.id}: closed code=${code}${reason === '' ? '' : ` reason=${reason}`} frames=${this.info.frames}`,
    );
  }
}
