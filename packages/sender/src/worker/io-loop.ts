import { setTimeout as sleep } from 'node:timers/promises';
import type { FilesFacade } from '@qwp/files-native';
import { decodeResponse, HostTracker, ReconnectBackoff, statusName } from '@qwp/qwp-wire';
import { AckWatermark, ControlBlock, FrameReader } from '@qwp/segment-log';
import {
  AuthError,
  ConnectError,
  DurableAckError,
  PoisonFrameError,
  ProtocolError,
  reasonOf,
  ServerRejectedError,
  UndeliverableFrameError,
} from '../errors.js';
import {
  type Endpoint,
  type FromWorker,
  type ToWorker,
  toWireError,
  type WorkerInit,
} from '../shared/messages.js';
import { ConnectionState, StatusBlock } from '../shared/status.js';
import { AckTracker } from './ack-tracker.js';
import { ConnectAttemptError, type OpenConnection, openConnection } from './connect.js';
import { DurableAckTracker } from './durable-acks.js';
import { categoryOf, policyFor } from './error-policy.js';
import { PoisonDetector } from './poison.js';
import { AnnouncedSegments } from './segment-source.js';
import { SymbolMirror } from './symbol-mirror.js';

/** Bytes queued on the socket above which the loop waits for it to drain. */
const SOCKET_HIGH_WATER = 8 * 1024 * 1024;
/** While idle, how often the loop looks up from waiting for new frames (a safety net: stops and losses wake it). */
const IDLE_POLL_MS = 1000;
/** Frames sent in a row before the loop lets ACKs and socket events in. */
const FRAMES_PER_TURN = 256;
/** The budget servers that do not advertise one are assumed to take (spec: ~1.9 MiB). */
const UNADVERTISED_MAX_BATCH = Math.floor(1.9 * 1024 * 1024);

/** Why the current connection stopped being used. */
type Ending = { kind: 'closed'; reason: string } | { kind: 'reconnect'; error: Error };

/**
 * The I/O worker's main loop: connect (walking `addr` with backoff), send
 * the symbol catch-up, replay from the acknowledged FSN and stream newly
 * published frames in FSN order, map cumulative OKs to FSNs and publish the
 * acked FSN, reconnect on any transport failure. A server error frame, an
 * authentication refusal or an undeliverable frame is terminal: the loop
 * reports it and ends, leaving every frame in the store.
 */
export class IoLoop {
  private readonly control: ControlBlock;
  private readonly status: StatusBlock;
  private readonly segments: AnnouncedSegments;
  private readonly reader: FrameReader;
  private readonly mirror: SymbolMirror;
  private readonly tracker = new AckTracker();
  private readonly hosts: HostTracker<Endpoint>;
  private readonly backoff: ReconnectBackoff;
  private conn: OpenConnection | null = null;
  private connIndex = -1;
  private ending: Ending | null = null;
  private stopping = false;
  private everConnected = false;
  private maxBatchSize: number;
  /** Resolves a wait of the loop early: a new segment, a stop, a lost connection. */
  private wake: (() => void) | null = null;
  private readonly poison: PoisonDetector;
  private readonly durable: DurableAckTracker | null;
  /** Data frames sent on the current connection (a close before any is no strike). */
  private framesOnConnection = 0;
  /** Frames sent since the last keepalive tick. */
  private sentSinceTick = 0;
  private keepalive: NodeJS.Timeout | null = null;
  private terminal: Error | null = null;
  /** SF mode: the slot's `.ack-watermark`, written here before each ACK is published. */
  private readonly watermark: AckWatermark | null;

  constructor(
    private readonly init: WorkerInit,
    private readonly post: (message: FromWorker) => void,
    files?: FilesFacade,
  ) {
    this.control = new ControlBlock(init.control);
    this.status = new StatusBlock(init.status);
    this.segments = new AnnouncedSegments(
      (err) => this.post({ type: 'incident', error: toWireError(err) }),
      files,
    );
    for (const s of init.segments) this.segments.add(s);
    this.reader = new FrameReader(this.segments, this.control, this.control.ackedFsn + 1);
    this.mirror = new SymbolMirror(init.symbols);
    this.hosts = new HostTracker(init.wire.endpoints);
    this.backoff = new ReconnectBackoff({
      initialMs: init.wire.reconnectInitialBackoffMs,
      maxMs: init.wire.reconnectMaxBackoffMs,
    });
    this.maxBatchSize = init.wire.localMaxBatchSize;
    this.poison = new PoisonDetector(init.wire.maxFrameRejections, init.wire.poisonWindowMs);
    this.durable = init.wire.durableAck ? new DurableAckTracker() : null;
    this.watermark = init.slotDir === undefined ? null : AckWatermark.open(init.slotDir);
  }

  /** A message from the producer. */
  onMessage(message: ToWorker): void {
    if (message.type === 'segment') {
      this.segments.add(message.segment);
    } else {
      this.stopping = true;
      const c = this.conn;
      if (c !== null) c.ws.close(1000);
    }
    this.wakeUp();
  }

  /** Runs until stopped or a terminal error; never rejects. */
  async run(): Promise<void> {
    try {
      while (!this.stopping) {
        const conn = await this.connect();
        if (conn === null) break;
        await this.stream(conn);
      }
      this.status.state = ConnectionState.STOPPED;
      this.post({ type: 'stopped' });
    } catch (err) {
      this.status.state = ConnectionState.FAILED;
      this.post({ type: 'fatal', error: toWireError(err) });
    } finally {
      this.drop();
      this.segments.close();
      this.closeWatermark();
      this.status.signalAck();
    }
  }

  // ---- connecting ----

  /** Connects to some endpoint, or returns null when stopping or when the initial connect gave up. */
  private async connect(): Promise<OpenConnection | null> {
    const wire = this.init.wire;
    const started = Date.now();
    let last: ConnectAttemptError | undefined;
    for (;;) {
      if (this.stopping) return null;
      const pick = this.hosts.next();
      if (pick.kind === 'round-end') {
        const initial = !this.everConnected;
        if (
          initial &&
          this.durable !== null &&
          pick.roleRejects > 0 &&
          pick.transportErrors === 0 &&
          wire.retryRefusals !== 'always'
        ) {
          throw new DurableAckError(
            `request_durable_ack=on but every endpoint refused a write connection by role (${last?.message ?? 'no primary'}); durable ACK needs a writable primary`,
          );
        }
        let remaining: number | undefined;
        if (initial && wire.initialConnect === 'off') return this.giveUp(last);
        if (initial && wire.initialConnect === 'sync') {
          remaining = wire.reconnectMaxDurationMs - (Date.now() - started);
          if (remaining <= 0) return this.giveUp(last);
        }
        await this.pause(this.backoff.nextDelayMs(pick.backoff, remaining));
        this.hosts.beginRound();
        continue;
      }
      this.status.countConnectAttempt();
      try {
        const conn = await openConnection(pick.address, wire);
        if (this.stopping) {
          conn.ws.close(1000);
          return null;
        }
        this.hosts.recordSuccess(pick.index);
        this.backoff.reset();
        this.connIndex = pick.index;
        return conn;
      } catch (err) {
        if (!(err instanceof ConnectAttemptError)) throw err;
        last = err;
        switch (err.outcome) {
          case 'terminal':
            this.refused(
              err,
              new AuthError(
                `authentication refused by ${err.endpoint.host}:${err.endpoint.port} (HTTP ${err.httpStatus}); check username/password or token`,
                err.httpStatus,
              ),
            );
            this.hosts.recordTransportError(pick.index);
            break;
          case 'durable-ack-refused':
            this.refused(
              err,
              new DurableAckError(
                `${err.endpoint.host}:${err.endpoint.port}: request_durable_ack=on but the server does not offer durable ACK (no X-QWP-Durable-Ack: enabled); it needs QuestDB Enterprise with replication, or set request_durable_ack=off`,
              ),
            );
            this.hosts.recordTransportError(pick.index);
            break;
          case 'transient-reject':
            this.hosts.recordRoleReject(pick.index, true);
            break;
          case 'topology-reject':
            this.hosts.recordRoleReject(pick.index, false);
            break;
          default:
            this.hosts.recordTransportError(pick.index);
        }
      }
    }
  }

  /**
   * An endpoint refused the credentials or durable ACK: cluster-wide, so
   * terminal, unless this sender keeps retrying refusals (a background start
   * from the beginning; SF mode once it has connected) so a credential or
   * capability change on the cluster cannot stop it for good.
   */
  private refused(attempt: ConnectAttemptError, error: Error): void {
    const mode = this.init.wire.retryRefusals;
    const retry = mode === 'always' || (mode === 'after-first-connection' && this.everConnected);
    if (!retry) throw error;
    error.cause = attempt;
    this.post({ type: 'incident', error: toWireError(error) });
  }

  private giveUp(last: ConnectAttemptError | undefined): null {
    const endpoints = this.init.wire.endpoints.map((e) => `${e.host}:${e.port}`);
    const which = endpoints.length === 1 ? endpoints[0]! : `any of ${endpoints.join(', ')}`;
    const error = new ConnectError(
      `cannot connect to ${which}${last === undefined ? '' : `; last attempt: ${last.message}`}`,
      { cause: last },
    );
    this.status.state = ConnectionState.FAILED;
    this.post({ type: 'connect-failed', error: toWireError(error) });
    this.stopping = true;
    return null;
  }

  // ---- streaming ----

  private async stream(conn: OpenConnection): Promise<void> {
    const first = !this.everConnected;
    this.everConnected = true;
    this.conn = conn;
    this.ending = null;
    const local = this.init.wire.localMaxBatchSize;
    this.maxBatchSize = Math.min(conn.serverMaxBatchSize ?? UNADVERTISED_MAX_BATCH, local);
    this.status.countConnection();
    this.status.state = ConnectionState.CONNECTED;
    const endpoint = this.init.wire.endpoints[this.connIndex]!;
    this.post({
      type: 'connected',
      info: {
        host: endpoint.host,
        port: endpoint.port,
        version: conn.version,
        maxBatchSize: this.maxBatchSize,
        role: conn.role,
        first,
      },
    });
    const ws = conn.ws;
    ws.on('message', (data, isBinary) => this.onResponse(conn, data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.onClose(conn, code, reason.toString()));
    ws.on('error', (err) => this.end(conn, { kind: 'reconnect', error: err }));

    this.tracker.reset();
    this.durable?.reset();
    this.framesOnConnection = 0;
    this.startKeepalive(conn);
    for (const frame of this.mirror.catchUpFrames(conn.version, this.maxBatchSize)) {
      ws.send(frame, { binary: true });
      this.tracker.sentWithoutFsn();
      this.status.countCatchUpFrame();
    }
    this.reader.seek(this.control.ackedFsn + 1);
    await this.pump(conn);
    this.afterConnection(conn);
  }

  /** Sends published frames until the connection ends or the loop stops. */
  private async pump(conn: OpenConnection): Promise<void> {
    const ws = conn.ws;
    const reader = this.reader;
    while (this.conn === conn && !this.stopping) {
      let sent = 0;
      while (this.conn === conn && reader.next()) {
        const fsn = reader.fsn;
        const len = reader.length;
        if (len > this.maxBatchSize) throw new UndeliverableFrameError(fsn, len, this.maxBatchSize);
        const frame = new Uint8Array(reader.buffer, reader.offset, len);
        this.mirror.observe(frame, 0, len);
        const replayed = fsn <= this.status.sentFsn;
        this.tracker.sentFrame(fsn);
        this.framesOnConnection++;
        this.sentSinceTick++;
        this.status.countFrame(fsn, len, replayed);
        if (ws.bufferedAmount >= SOCKET_HIGH_WATER) {
          await new Promise<void>((resolve) => ws.send(frame, { binary: true }, () => resolve()));
        } else {
          ws.send(frame, { binary: true });
        }
        if (++sent === FRAMES_PER_TURN) {
          sent = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      if (this.conn !== conn || this.stopping) break;
      if (reader.stalled) {
        await this.pause(IDLE_POLL_MS); // the segment holding the next frame is announced soon
      } else {
        await this.control.waitForPublish(reader.position - 1, IDLE_POLL_MS);
      }
    }
  }

  /** A response frame from the server. */
  private onResponse(conn: OpenConnection, data: Buffer, isBinary: boolean): void {
    if (this.conn !== conn) return;
    if (!isBinary) {
      this.incident(conn, new ProtocolError('server sent a text frame; QWP answers are binary'));
      return;
    }
    let response: ReturnType<typeof decodeResponse>;
    try {
      response = decodeResponse(data);
    } catch (err) {
      this.incident(
        conn,
        new ProtocolError(`server sent an undecodable response: ${reasonOf(err)}`, { cause: err }),
      );
      return;
    }
    switch (response.kind) {
      case 'ok': {
        let fsn: number;
        try {
          fsn = this.tracker.onOk(Number(response.sequence));
        } catch (err) {
          this.incident(conn, err as Error);
          return;
        }
        // Durable ACK: an OK only says "in the WAL"; the trim waits for DURABLE_ACK.
        this.advance(this.durable === null ? fsn : this.durable.onOk(fsn, response.tables));
        return;
      }
      case 'durable-ack':
        if (this.durable !== null) this.advance(this.durable.onDurableAck(response.tables));
        return;
      case 'error':
        this.onRejection(conn, response.status, Number(response.sequence), response.message);
        return;
      default:
        // LOCAL_DURABLE_ACK: a tier this sender never asks for.
        return;
    }
  }

  /** The server acknowledged (or made durable) everything through `fsn`. */
  private advance(fsn: number): void {
    if (fsn <= this.control.ackedFsn) return;
    // Recorded (page cache: survives a SIGKILL) before anyone can see it as acked.
    this.watermark?.write(fsn);
    this.control.acknowledge(fsn);
    this.segments.release(fsn);
    this.poison.accept(fsn);
    this.status.signalAck();
  }

  /**
   * An error frame: the policy of its category decides. Terminal stops the
   * sender; retriable reconnects and replays (a strike against the frame,
   * except for a dictionary gap, which the reconnect's catch-up repairs);
   * retriable-other reconnects to another endpoint.
   */
  private onRejection(conn: OpenConnection, status: number, seq: number, message: string): void {
    const category = categoryOf(status);
    const policy = policyFor(category, this.init.wire.policies);
    const fsn = seq >= 0 && seq < this.tracker.sentCount ? this.tracker.fsnAt(seq) : -1;
    const rejected = new ServerRejectedError(
      status,
      statusName(status),
      fsn,
      message,
      category,
      policy,
    );
    if (policy === 'terminal') {
      this.fail(conn, rejected);
      return;
    }
    if (policy === 'retriable' && category !== 'dictionary-gap' && fsn >= 0) {
      if (this.strike(conn, fsn, rejected.message)) return;
    }
    this.incident(conn, rejected);
  }

  /** A strike against `fsn`; when it makes the frame poison, the sender stops (returns true). */
  private strike(conn: OpenConnection, fsn: number, reason: string): boolean {
    if (!this.poison.strike(fsn)) return false;
    const w = this.init.wire;
    this.fail(
      conn,
      new PoisonFrameError(
        fsn,
        this.poison.strikeCount,
        PoisonFrameError.describe(fsn, this.poison.strikeCount, w.poisonWindowMs, reason),
      ),
    );
    return true;
  }

  /**
   * The server closed the connection. An abnormal close (not 1000/1001)
   * after data was sent on it counts as a strike against the frame at the
   * head of the line: a frame that kills the connection every time must
   * not loop forever.
   */
  private onClose(conn: OpenConnection, code: number, reason: string): void {
    if (this.conn !== conn) return;
    const text = `connection closed (${code}${reason.length > 0 ? ` ${reason}` : ''})`;
    if (code !== 1000 && code !== 1001 && this.framesOnConnection > 0 && !this.stopping) {
      if (this.strike(conn, this.control.ackedFsn + 1, text)) return;
    }
    this.end(conn, { kind: 'closed', reason: text });
  }

  /** With durable ACK, PING while confirmations are pending and nothing else goes out: the server answers only on inbound traffic. */
  private startKeepalive(conn: OpenConnection): void {
    this.stopKeepalive();
    const every = this.init.wire.durableKeepaliveMs;
    if (this.durable === null || every <= 0) return;
    this.sentSinceTick = 0;
    this.keepalive = setInterval(() => {
      if (this.conn !== conn) return;
      if (this.sentSinceTick === 0 && this.durable!.pendingCount > 0) conn.ws.ping();
      this.sentSinceTick = 0;
    }, every);
  }

  private stopKeepalive(): void {
    if (this.keepalive !== null) clearInterval(this.keepalive);
    this.keepalive = null;
  }

  /** Something wrong but survivable: report it and start over on a new connection. */
  private incident(conn: OpenConnection, error: Error): void {
    this.post({ type: 'incident', error: toWireError(error) });
    this.end(conn, { kind: 'reconnect', error });
  }

  /** A terminal error: stop using the connection; run() reports it. */
  private fail(conn: OpenConnection, error: Error): void {
    this.terminal = error;
    this.end(conn, { kind: 'reconnect', error });
  }

  private end(conn: OpenConnection, ending: Ending): void {
    if (this.conn !== conn) return;
    this.ending = ending;
    this.conn = null;
    this.stopKeepalive();
    conn.ws.removeAllListeners('message');
    conn.ws.on('error', () => {}); // late socket errors after terminate have nowhere to go
    if (ending.kind === 'reconnect') conn.ws.terminate();
    this.wakeUp();
  }

  /** After a connection ended: decide between reconnecting, stopping and failing. */
  private afterConnection(conn: OpenConnection): void {
    if (this.conn === conn) this.end(conn, { kind: 'closed', reason: 'stopped' });
    if (this.terminal !== null) throw this.terminal;
    if (this.stopping) return;
    const e = this.ending;
    const reason =
      e === null ? 'connection ended' : e.kind === 'closed' ? e.reason : reasonOf(e.error);
    this.status.state = ConnectionState.RECONNECTING;
    this.hosts.recordMidStreamFailure(this.connIndex);
    this.hosts.startOutage();
    this.post({ type: 'disconnected', reason, willRetry: true });
  }

  private closeWatermark(): void {
    try {
      this.watermark?.close();
    } catch (err) {
      this.post({ type: 'incident', error: toWireError(err) });
    }
  }

  private drop(): void {
    const c = this.conn;
    this.conn = null;
    if (c !== null) {
      c.ws.removeAllListeners();
      c.ws.on('error', () => {});
      c.ws.terminate();
    }
  }

  /** Sleeps up to `ms`, waking early on a new segment, a stop or a lost connection. */
  private pause(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    const ac = new AbortController();
    this.wake = () => ac.abort();
    return sleep(ms, undefined, { signal: ac.signal }).then(
      () => {
        this.wake = null;
      },
      () => {
        this.wake = null;
      },
    );
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
    // The pump may be waiting for a publish instead: a stop or a lost connection must not wait out its poll.
    this.control.wake();
  }
}
