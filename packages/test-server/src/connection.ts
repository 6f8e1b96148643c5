import {
  type DecodedMessage,
  type DecodeOptions,
  encodeDurableAckResponse,
  encodeErrorResponse,
  encodeLocalDurableAckResponse,
  encodeOkResponse,
  SymbolDictionary,
  type TableSeqTxn,
} from '@qwp/qwp-wire/codec';
import {
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NORMAL,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_UNSUPPORTED_DATA,
  FRAGMENTED_REASON,
  READ_ONLY_MESSAGE,
  TEXT_FRAME_REASON,
  TOO_BIG_REASON,
} from './close-codes.js';
import { DurableProgress, type DurableTier, type UploadClock } from './durable-watermarks.js';
import { FrameRejectedError } from './errors.js';
import type { Faults } from './faults.js';
import {
  applyDictionaryDelta,
  checkHeader,
  decodeFull,
  fastHeaderFlags,
  serverDecodeOptions,
} from './frame-handler.js';
import {
  FLAG_DEFER_COMMIT,
  FLAG_DURABLE_ACK_POLL,
  HEADER_SIZE,
  POLL_NOT_NEGOTIATED,
  Status,
  statusName,
} from './protocol.js';
import type { AckMode, ConnectionInfo, FrameRecord } from './records.js';
import { PendingTxn, type RowStore, type TableCommit } from './row-store.js';
import type { Stats } from './stats.js';
import { MAX_FRAME_HEADER_BYTES } from './websocket/constants.js';
import type { AfterClose, ServerWebSocket } from './websocket/server-socket.js';

/**
 * Whether the node takes writes: 'writable'; 'demoted' (a primary demoted in
 * place: read-only by role, open connections close at their next data
 * frame); 'read-only' (configured read-only: every data frame is refused
 * with SECURITY_ERROR).
 */
export type WriteState = 'writable' | 'demoted' | 'read-only';

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
  /** The durability frontier of each tier the server offers (server-wide, per table). */
  durableClocks: Readonly<Record<DurableTier, UploadClock>>;
  /** Whether the node takes writes now. */
  writeState(): WriteState;
  /** How long a demoted node holds the close of a durable-ack connection for its uploads (ms). */
  demotionGraceMs: number;
  /** Called with each binary frame's server-wide index before it is handled, or null. */
  onFrame: ((index: number) => void) | null;
  maxBatchSize: number;
  recordFrame(record: FrameRecord): void;
  log(line: string): void;
}

/**
 * A durable-ACK poll: a header-only message (no table, no payload) with
 * FLAG_DURABLE_ACK_POLL. The stored QuestDB sources call
 * QwpMessageHeader.isDurableAckPoll without its body; this is the frame
 * their tests send (12 bytes, flags 0x02).
 */
function isDurableAckPoll(data: Buffer): boolean {
  return (
    data.length === HEADER_SIZE &&
    data[0] === 0x51 &&
    data[1] === 0x57 &&
    data[2] === 0x50 &&
    data[3] === 0x31 &&
    ((data[5] ?? 0) & FLAG_DURABLE_ACK_POLL) !== 0 &&
    data.readUInt16LE(6) === 0 &&
    data.readUInt32LE(8) === 0
  );
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
 *
 * On a demoted node the next data frame gets no answer at all and the
 * connection closes 1000 `replica access is read-only` (a reconnect-eligible
 * close); with durable ACKs and commits not yet durable the close is held,
 * up to `demotionGraceMs`, while data frames are dropped unanswered, PINGs
 * are answered and durable progress still flows.
 */
export class Connection {
  readonly info: ConnectionInfo;
  private readonly dict = new SymbolDictionary();
  private readonly decodeOptions: DecodeOptions;
  private readonly txn = new PendingTxn();
  private broken = false;
  private highestCommitted = -1;
  private lastAcked = -1;
  /** Rows of deferred frames still uncommitted after the last one (QuestDB's deferred-ack clamp). */
  private uncommittedDeferredRows = false;
  /** Lowest deferred frame that staged no rows and no commit has covered yet, or -1. */
  private firstRowlessDeferred = -1;
  private readonly okTables = new Map<string, bigint>();
  /** Scratch of reportSeqTxns, reused so a commit allocates no map. */
  private readonly reached = new Map<string, bigint>();
  /** Durable-ack bookkeeping of each granted tier, local first (the order the frames go out). */
  private readonly durability: DurableProgress[];
  /** The tier whose pending work holds a demoted node's close: replicated when granted. */
  private readonly durableGate: DurableProgress | null;
  /** A FLAG_DEFER_COMMIT frame was accepted since the last commit (its group is open). */
  private groupOpen = false;
  /** While a demoted node holds this connection's close: when the hold expires (ms). */
  private closeHeldUntil: number | null = null;
  /** Whether the flush after the current receive polls durable progress. */
  private tailPollsDurable = true;
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
    this.durability = (['local', 'replicated'] as const)
      .filter((t) => info.durableTiers.includes(t))
      .map((t) => new DurableProgress(t, ctx.durableClocks[t]));
    this.durableGate = this.durability[this.durability.length - 1] ?? null;
    this.decodeOptions = serverDecodeOptions(info.version, ctx.maxBatchSize);
    this.scratch = this.newRecord();
    ws.on('message', (data, isBinary) => {
      try {
        this.tailPollsDurable = true;
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
      // A held demotion close completes on the PING that finds every commit
      // durable (or the hold expired): that PING gets the CLOSE, not a PONG.
      if (this.closeHeldUntil !== null && this.holdEnded()) {
        this.roleChangeClose();
        return;
      }
      ws.pong(data);
    });
    // Any inbound frame is a receive, after which QuestDB flushes.
    ws.on('pong', () => {
      if (this.closed || this.terminated) return;
      this.tailPollsDurable = true;
      this.scheduleFlush();
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
  closeGracefully(code: number, reason: string, after: AfterClose = 'drain'): void {
    this.flushAll();
    this.terminated = true;
    this.ws.close(code, reason, after);
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
    if (this.ctx.onFrame !== null) {
      this.ctx.onFrame(index);
      // The hook may have cut this connection (a scripted drop or restart).
      if (this.terminated || this.closed) return;
    }
    const record = this.ctx.recording ? this.newRecord() : this.resetScratch();
    record.index = index;
    record.wireSeq = seq;
    record.bytes = data.length;
    record.flags = data.length >= 6 ? (data[5] ?? null) : null;
    if (this.closeHeldUntil !== null) {
      // A demoted node holding this connection's close: every data frame is
      // consumed unanswered and polls the hold again (it never touches the store).
      stats.framesRefused++;
      record.outcome = 'demoted';
      this.ctx.recordFrame(record);
      this.tailPollsDurable = false;
      this.roleChangeClose();
      return;
    }
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
    let poll = false;
    /** Whether the next OK may cover this frame; at once when it closes a deferred group. */
    let ack: 'none' | 'batched' | 'now' = 'none';
    try {
      if (isDurableAckPoll(data)) {
        if (this.durability.length === 0) {
          throw new FrameRejectedError(Status.PARSE_ERROR, POLL_NOT_NEGOTIATED);
        }
        // A poll commits nothing, and never an open deferred group: its OK
        // is withheld until the group's commit frame, whose OK covers it.
        poll = true;
        if (!this.groupOpen) this.coverUpTo(seq);
      } else if (data.length > 0 && this.ctx.writeState() !== 'writable') {
        // QuestDB's read-only gate, ahead of any parsing. It skips a
        // zero-length message, which commits nothing and is acknowledged.
        if (this.ctx.writeState() === 'read-only') {
          throw new FrameRejectedError(Status.SECURITY_ERROR, READ_ONLY_MESSAGE);
        }
        this.refuseDemoted(seq, record);
        return;
      }
      const forced = poll ? undefined : this.ctx.faults.takeFrameRejection(index);
      if (forced !== undefined) throw new FrameRejectedError(forced.status, forced.message);
      // A zero-length binary message is an empty commit on QuestDB: it has
      // no header to check, takes a sequence and is acknowledged.
      this.txn.appendedRows = false;
      if (data.length > 0 && !poll) {
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
      if (poll) ack = this.groupOpen ? 'none' : 'batched';
      else if (deferred) {
        this.groupOpen = true;
        ack = this.afterDeferred(seq) ? 'batched' : 'none';
      } else ack = this.commit(seq) ? 'now' : 'batched';
    } catch (err) {
      this.reject(seq, err, record);
      return;
    }
    if (drop === 'before-ack') {
      this.drop(record, deferred ? 'after staging' : 'after commit, before the ACK');
      return;
    }
    record.outcome = poll ? 'poll' : deferred ? 'deferred' : 'committed';
    this.ctx.recordFrame(record);
    // The OK that closes a deferred group goes out at once, as QuestDB sends it.
    if (ack === 'now') this.flushAck();
    else if (ack === 'batched') this.scheduleAck();
  }

  /**
   * A data frame on a demoted node: no OK and no error (the refusal is
   * transient: the client replays it after the close), the open deferred
   * group rolled back, then the close, or its hold.
   */
  private refuseDemoted(seq: number, record: FrameRecord): void {
    this.rollBack();
    this.ctx.stats.framesRefused++;
    record.outcome = 'demoted';
    this.ctx.recordFrame(record);
    this.ctx.log(`conn ${this.info.id}: frame ${seq} refused by a demoted node, no answer`);
    this.tailPollsDurable = false;
    this.roleChangeClose();
  }

  /**
   * QuestDB's role-change close: the pending OK and durable progress, then
   * CLOSE 1000 `replica access is read-only`. With durable ACKs and commits
   * of this connection not yet durable, the close is held instead (the first
   * time for up to `demotionGraceMs`); each later data frame or PING polls
   * again and closes once every commit is reported durable or the hold has
   * expired. Nothing polls on a timer: a silent client stays held.
   */
  private roleChangeClose(): void {
    const gate = this.durableGate;
    const now = Date.now();
    const expired = this.closeHeldUntil !== null && now >= this.closeHeldUntil;
    if (gate !== null && !expired) {
      this.flushAll();
      if (gate.hasPendingWork()) {
        if (this.closeHeldUntil === null) {
          this.closeHeldUntil = now + this.ctx.demotionGraceMs;
          this.ctx.log(
            `conn ${this.info.id}: demoted: close held up to ${this.ctx.demotionGraceMs} ms until its commits are durable`,
          );
        }
        return;
      }
    } else if (gate?.hasPendingWork() === true) {
      this.ctx.log(
        `conn ${this.info.id}: demoted: hold expired with commits not durable, closing (a replay may duplicate)`,
      );
    }
    this.ctx.log(`conn ${this.info.id}: demoted: closing 1000 ${READ_ONLY_MESSAGE}`);
    // A durable-ACK connection whose commits were all reported durable waits
    // for the CLOSE echo, so its last DURABLE_ACK is not lost to a reset;
    // one whose hold expired with uploads pending is torn down at once.
    const after = gate === null ? 'drain' : gate.hasPendingWork() ? 'teardown' : 'await-echo';
    this.closeGracefully(CLOSE_NORMAL, READ_ONLY_MESSAGE, after);
  }

  /** Whether a held demotion close may go now: every commit reported durable, or the hold expired. */
  private holdEnded(): boolean {
    const gate = this.durableGate;
    return (
      gate === null ||
      !gate.hasPendingWork() ||
      (this.closeHeldUntil !== null && Date.now() >= this.closeHeldUntil)
    );
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

  /**
   * Commits what the connection staged and lets the next OK cover `seq`.
   * @returns true when this frame closed a deferred group with rows still
   *   uncommitted, whose OK QuestDB sends at once rather than batched
   */
  private commit(seq: number): boolean {
    const closesGroup = this.uncommittedDeferredRows;
    if (this.ctx.storeRows) {
      this.countCommits(this.ctx.store.commit(this.txn));
      this.reportSeqTxns();
    }
    this.uncommittedDeferredRows = false;
    this.firstRowlessDeferred = -1;
    this.groupOpen = false;
    this.coverUpTo(seq);
    return closesGroup;
  }

  /**
   * After a FLAG_DEFER_COMMIT frame, as QuestDB's newest processor decides:
   * its OK is withheld while any staged row is still uncommitted; once early
   * commits (maxUncommittedRows) left nothing uncommitted and the frame
   * itself staged rows, the cumulative OK may cover it. A frame that staged
   * no rows stays uncovered until the group commits.
   * @returns true when the next OK may cover `seq`
   */
  private afterDeferred(seq: number): boolean {
    if (this.ctx.storeRows) {
      this.countCommits(this.txn.takeCommits());
      this.reportSeqTxns();
    }
    this.uncommittedDeferredRows = !this.txn.isEmpty();
    if (!this.txn.appendedRows) {
      if (this.firstRowlessDeferred === -1) this.firstRowlessDeferred = seq;
      return false;
    }
    if (this.uncommittedDeferredRows) return false;
    this.coverUpTo(seq);
    return true;
  }

  /** Moves the OK watermark to `seq`, never over an uncovered rowless deferred frame. */
  private coverUpTo(seq: number): void {
    const rowless = this.firstRowlessDeferred;
    this.highestCommitted =
      rowless !== -1 && seq >= rowless ? Math.max(this.highestCommitted, rowless - 1) : seq;
  }

  /**
   * Hands the seqTxns this connection's commits and ALTERs reached to the
   * next OK and to its durable-ack tracking (which reports a table from
   * the connection's first commit to it).
   */
  private reportSeqTxns(): void {
    const reached = this.reached;
    this.txn.drainSeqTxns(reached);
    for (const [table, seqTxn] of reached) {
      this.okTables.set(table, seqTxn);
      for (const d of this.durability) d.committed(table, seqTxn);
    }
    reached.clear();
  }

  /**
   * Drops what is staged (an open FLAG_DEFER_COMMIT group included) and the
   * group's ACK bookkeeping; commits made early (maxUncommittedRows) stay,
   * counted but never reported in an OK.
   */
  private rollBack(): void {
    this.txn.clear();
    if (this.ctx.storeRows) this.countCommits(this.txn.takeCommits());
    this.uncommittedDeferredRows = false;
    this.firstRowlessDeferred = -1;
    this.groupOpen = false;
  }

  private countCommits(commits: readonly TableCommit[]): void {
    const stats = this.ctx.stats;
    for (const c of commits) {
      stats.rowsCommitted += c.rows;
      stats.commits++;
    }
  }

  private reject(seq: number, err: unknown, record: FrameRecord): void {
    const status = err instanceof FrameRejectedError ? err.status : Status.INTERNAL_ERROR;
    const message = truncateUtf8(
      err instanceof FrameRejectedError
        ? err.reason
        : `internal error: ${err instanceof Error ? err.message : String(err)}`,
      MAX_ERROR_MESSAGE_BYTES,
    );
    // The server rolls back what is staged on any error (an open
    // FLAG_DEFER_COMMIT group included); early commits stay, unreported.
    // Every later frame on this connection is refused (see class comment).
    this.rollBack();
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
      // Like QuestDB's tail flush, which skips the durable poll when the
      // receive already polled (a frame that re-polled a held demotion close).
      this.flushAck();
      if (this.tailPollsDurable) this.flushDurable();
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
  }

  /**
   * Sends, per granted tier, one frame with every frontier that advanced
   * (LOCAL_DURABLE_ACK, then DURABLE_ACK). Called only on inbound traffic:
   * QuestDB has no timer for these, so a client that waits for one without
   * sending anything waits forever (it must PING, or send a poll frame).
   */
  private flushDurable(): void {
    if (this.durability.length === 0 || this.closed || this.ctx.faults.acksSuppressed) return;
    const now = Date.now();
    for (const d of this.durability) {
      const ready = d.take(now);
      if (ready.length === 0) continue;
      if (d.tier === 'local') {
        this.ctx.stats.localDurableAcks++;
        this.enqueue(encodeLocalDurableAckResponse(ready));
      } else {
        this.ctx.stats.durableAcks++;
        this.enqueue(encodeDurableAckResponse(ready));
      }
    }
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
