import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Connection, type ConnectionContext, type WriteState } from './connection.js';
import { type DurableTier, resolveDurableAck, UploadClock } from './durable-watermarks.js';
import {
  TestServerClosedError,
  TestServerListenError,
  TestServerOptionsError,
  TestServerTimeoutError,
} from './errors.js';
import { Faults } from './faults.js';
import {
  cannedReject,
  decideHandshake,
  type HandshakeConfig,
  type HandshakeReject,
  type ServerRole,
  statusText,
  textReject,
} from './handshake.js';
import {
  DEFAULT_DEMOTION_GRACE_MS,
  DEFAULT_FRAME_LOG,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_SAMPLE_RATE,
  type TestServerOptions,
  validateOptions,
} from './options.js';
import { QWP_VERSION_1 } from './protocol.js';
import type { ConnectionInfo, FrameRecord } from './records.js';
import {
  type ColumnSchema,
  DEFAULT_MAX_TABLES_PER_CONNECTION,
  DEFAULT_MAX_UNCOMMITTED_ROWS,
  type Row,
  RowStore,
  type TableColumn,
} from './row-store.js';
import { type ServerModeName, type ServerStats, Stats } from './stats.js';
import { MAX_FRAME_HEADER_BYTES } from './websocket/constants.js';
import { switchingProtocols } from './websocket/handshake-response.js';
import { DEFAULT_CLOSE_DRAIN_MS, ServerWebSocket } from './websocket/server-socket.js';

/** Options of `restart()`. */
export interface RestartOptions {
  /** Keep committed rows and seqTxn counters (default true); false is a server that lost its data. */
  keepRows?: boolean;
  /** How long the port stays closed before listening again (ms, default 0). */
  downMs?: number;
}

/** The fault switches, also callable on the server itself (`server.neverAck()` = `server.faults.neverAck()`). */
export type FaultMethods = Pick<
  Faults,
  | 'dropAfterFrames'
  | 'dropAtRandom'
  | 'delayAcks'
  | 'neverAck'
  | 'rejectFrame'
  | 'refuseConnections'
  | 'rejectUpgrades'
  | 'corruptAcks'
  | 'stallUploads'
>;

/** A running test server. */
export interface TestServer extends FaultMethods {
  /** ws:// URL of the primary ingest path, e.g. ws://127.0.0.1:9000/write/v4. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Fault switches; each takes effect at once. */
  readonly faults: Faults;
  /** Records of the binary frames received (bounded by frameLogLimit). */
  readonly frames: readonly FrameRecord[];
  /** Every connection accepted since start, open and closed. */
  readonly connections: readonly ConnectionInfo[];
  /** Committed rows of `table` (copies). */
  rows(table: string): Row[];
  /** Tables that exist, in creation order. */
  tables(): string[];
  /** Columns of `table`. */
  schema(table: string): ColumnSchema[];
  /** Last committed seqTxn of `table`. */
  seqTxn(table: string): bigint;
  /** Counters, including which mode the server runs in. */
  stats(): ServerStats;
  /**
   * Creates `table` as SQL would, before any frame: `columns` in order
   * (`{ name, type }` with QWP type codes, plus `dims` / `scale` /
   * `geohashBits` where they apply) and the name of the designated
   * timestamp column, or null for a table without one. Lets a test start
   * from a schema QWP would not create (an INT column, no timestamp).
   */
  createTable(
    table: string,
    columns: readonly TableColumn[],
    designatedTimestamp: string | null,
  ): void;
  /** Turns on DEDUP UPSERT KEYS (designated timestamp + `columns`) for `table`. */
  setDedup(table: string, columns: readonly string[]): void;
  /**
   * Changes the role (and zone) reported to new upgrades. REPLICA and
   * PRIMARY_CATCHUP also make the node read-only by role, as `demote()`
   * does; any other role makes it writable again.
   */
  setRole(role: ServerRole | null, zone?: string | null): void;
  /** Cuts every open connection at once (no close frame). */
  dropConnections(): void;
  /**
   * A primary demoted in place (default role REPLICA; PRIMARY_CATCHUP too):
   * new upgrades get 421. An open connection notices only at its next data
   * frame, which gets neither OK nor error: the pending OK and durable ACKs
   * go out, then CLOSE 1000 `replica access is read-only`. With durable ACKs
   * and commits not yet durable, the close is held (up to `demotionGraceMs`)
   * while later data frames are dropped unanswered and PINGs answered; the
   * first data frame or PING that finds every commit durable, or the hold
   * expired, gets the CLOSE. An idle or PING-only connection never learns.
   */
  demote(role?: ServerRole): void;
  /** Writable again with `role` (default PRIMARY); a connection whose close is held stays held. */
  promote(role?: ServerRole): void;
  /** A node configured read-only: every data frame is answered SECURITY_ERROR (see the option). */
  setReadOnly(on?: boolean): void;
  /**
   * Another writer (or an ALTER) commits `steps` seqTxns (default 1) to
   * `table`, which must exist: OKs and durable frontiers jump past them.
   * @returns the table's new seqTxn
   */
  advanceSeqTxn(table: string, steps?: number | bigint): bigint;
  /** Sets a tier's commit-to-durable lag (default tier 'replicated') for commits from now on. */
  setDurableLag(lagMs: number, jitterMs?: number, tier?: DurableTier): void;
  /** A tier's durable frontier of `table` now (default 'replicated'), -1 when nothing is durable. */
  durableWatermark(table: string, tier?: DurableTier): bigint;
  /** Resolves when `table` has at least `count` committed rows; rejects after `timeoutMs`. */
  waitForRows(table: string, count: number, timeoutMs?: number): Promise<Row[]>;
  /** Turns every fault off. */
  resetFaults(): void;
  /** Stops listening and cuts every connection, keeping all state, until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()`. */
  start(): Promise<void>;
  /** Stops and starts again on the same port (a server restart). */
  restart(options?: RestartOptions): Promise<void>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Writes `r` byte for byte (QuestDB's answers carry exactly these headers), then closes. */
function writeReject(socket: Socket, r: HandshakeReject): void {
  let head = `HTTP/1.1 ${r.status} ${statusText(r.status)}\r\n`;
  for (const [k, v] of Object.entries(r.headers)) head += `${k}: ${v}\r\n`;
  socket.end(`${head}\r\n${r.body}`);
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a local QWP ingest server (WebSocket on /write/v4 and
 * /api/v4/write) bound to loopback by default.
 * @example
 * const server = await startTestServer({ dedup: { trades: ['sym'] } });
 * // ... point a sender at server.url ...
 * await server.waitForRows('trades', 10);
 * await server.close();
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  validateOptions(options);
  const host = options.host ?? '127.0.0.1';
  const mode: ServerModeName = options.mode ?? 'strict';
  const sampleRate = mode === 'strict' ? 1 : (options.sampleRate ?? DEFAULT_SAMPLE_RATE);
  const decodeEvery = sampleRate === 0 ? 0 : Math.max(1, Math.round(1 / sampleRate));
  const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  const frameLogLimit = options.frameLogLimit ?? (mode === 'strict' ? DEFAULT_FRAME_LOG : 0);
  const durable = resolveDurableAck(options.durableAck);
  const log = options.log ?? (() => {});

  const store = new RowStore({
    longArrays: options.longArrays ?? 'reject',
    maxUncommittedRows: options.maxUncommittedRows ?? DEFAULT_MAX_UNCOMMITTED_ROWS,
    maxTablesPerConnection: options.maxTablesPerConnection ?? DEFAULT_MAX_TABLES_PER_CONNECTION,
    autoCreateTables: options.autoCreateTables ?? true,
  });
  for (const [table, cols] of Object.entries(options.dedup ?? {})) store.setDedup(table, cols);
  if (options.onCommit !== undefined) store.onCommit = options.onCommit;
  const faults = new Faults(options.faults);
  const stats = new Stats();
  const frames: FrameRecord[] = [];
  const connectionInfos: ConnectionInfo[] = [];
  /** Open connections, each with a promise of its 'close' (after its own close handling ran). */
  const open = new Map<Connection, Promise<void>>();
  const sockets = new Set<Socket>();
  const handshake: HandshakeConfig = {
    auth: options.auth ?? null,
    role: options.role ?? 'STANDALONE',
    zone: options.zone ?? null,
    serverMaxVersion: options.serverMaxVersion ?? QWP_VERSION_1,
    maxBatchSize,
    durableTiers: durable.tiers,
  };
  let readOnly = options.readOnly ?? false;
  const writeState = (): WriteState => {
    if (readOnly) return 'read-only';
    const role = handshake.role;
    return role === 'REPLICA' || role === 'PRIMARY_CATCHUP' ? 'demoted' : 'writable';
  };
  const stalled = () => faults.uploadsStalled;
  const clocks: Record<DurableTier, UploadClock> = {
    replicated: new UploadClock(durable.lagMs, durable.jitterMs, durable.seed, stalled),
    local: new UploadClock(durable.localLagMs, durable.localJitterMs, durable.seed + 1, stalled),
  };
  const recordCommit = (table: string, seqTxn: bigint) => {
    if (durable.tiers.length === 0) return;
    const now = Date.now();
    for (const tier of durable.tiers) clocks[tier].record(table, seqTxn, now);
  };
  // Every seqTxn a table reaches (a commit, an ALTER, another writer) is uploaded in turn.
  store.onSeqTxn = recordCommit;
  const advanceSeqTxn = (table: string, steps: number | bigint = 1n): bigint => {
    if (typeof steps === 'number' && !Number.isInteger(steps)) {
      throw new TestServerOptionsError(`advanceSeqTxn steps must be an integer, got ${steps}`);
    }
    return store.advanceSeqTxn(table, BigInt(steps));
  };
  let connectionId = 0;

  const ctx: ConnectionContext = {
    store,
    faults,
    stats,
    ackMode: options.ackMode ?? 'cumulative',
    decodeEvery,
    storeRows: mode === 'strict',
    recording: frameLogLimit > 0,
    durableClocks: clocks,
    writeState,
    demotionGraceMs: options.demotionGraceMs ?? DEFAULT_DEMOTION_GRACE_MS,
    onFrame: options.onFrame ?? null,
    maxBatchSize,
    recordFrame: (r) => {
      if (frameLogLimit === 0) return;
      // Drop the oldest tenth at once so a full log costs O(1) per frame, amortized.
      if (frames.length >= frameLogLimit)
        frames.splice(0, Math.max(1, Math.floor(frameLogLimit / 10)));
      frames.push(r);
    },
    log,
  };

  // QuestDB takes a frame when header + payload fit its receive buffer,
  // the advertised maxBatchSize + 14 bytes. No extension is negotiated.
  const socketOptions = {
    maxFrameBytes: maxBatchSize + MAX_FRAME_HEADER_BYTES,
    closeDrainMs: options.closeDrainMs ?? DEFAULT_CLOSE_DRAIN_MS,
  };

  const reject = (socket: Socket, r: HandshakeReject, req: IncomingMessage) => {
    stats.upgradesRejected++;
    log(
      `upgrade ${req.method ?? '?'} ${req.url ?? '?'} from ${socket.remoteAddress ?? '?'} refused: ${r.status} ${r.reason}`,
    );
    writeReject(socket, r);
  };

  const http: Server = createServer((req) => {
    // A plain HTTP request (no Upgrade handshake) on the ingest paths gets the
    // same answer the upgrade validation gives, written raw so that node
    // adds no header of its own.
    const decision = decideHandshake(req.method, req.url, req.headers, handshake);
    const r = decision.ok ? textReject(400, 'Missing Upgrade header') : decision;
    stats.upgradesRejected++;
    log(`http ${req.method ?? '?'} ${req.url ?? '?'} answered ${r.status} ${r.reason}`);
    writeReject(req.socket, r);
  });
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  http.on('clientError', (err, socket) => {
    log(`malformed HTTP request: ${err.message}`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const onUpgradeError = (err: Error) => log(`socket error during upgrade: ${err.message}`);
    socket.on('error', onUpgradeError);
    const fault = faults.takeUpgradeFault(Date.now());
    if (fault !== null) {
      if (fault.kind === 'destroy') {
        stats.upgradesRejected++;
        log(`upgrade from ${socket.remoteAddress ?? '?'} refused by fault: connection reset`);
        socket.destroy();
        return;
      }
      reject(socket, cannedReject(fault.status, handshake), req);
      return;
    }
    const decision = decideHandshake(req.method, req.url, req.headers, handshake);
    if (!decision.ok) {
      reject(socket, decision, req);
      return;
    }
    socket.write(switchingProtocols(decision.key, decision.headers));
    const ws = new ServerWebSocket(socket, head, socketOptions);
    socket.off('error', onUpgradeError);
    const info: ConnectionInfo = {
      id: ++connectionId,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      clientId: decision.clientId,
      version: decision.version,
      durableAck: decision.durableAck !== null,
      durableTiers: decision.durableAck?.tiers ?? [],
      openedAt: Date.now(),
      closedAt: null,
      frames: 0,
      closeCode: null,
      closeReason: null,
    };
    connectionInfos.push(info);
    stats.connectionsOpened++;
    stats.connectionsOpen++;
    const conn = new Connection(ws, ctx, info);
    open.set(
      conn,
      new Promise<void>((resolve) =>
        ws.once('close', () => {
          open.delete(conn);
          resolve();
        }),
      ),
    );
    log(
      `conn ${info.id}: open from ${info.remoteAddress}:${info.remotePort} client=${info.clientId ?? '-'} version=${info.version}${info.durableAck ? ` durable-ack=${info.durableTiers.join(',')}` : ''}`,
    );
  });

  let port = options.port ?? 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        http.off('listening', onListening);
        reject(
          new TestServerListenError(`cannot listen on ${host}:${port}: ${err.message}`, {
            cause: err,
          }),
        );
      };
      const onListening = () => {
        http.off('error', onError);
        const addr = http.address();
        if (addr !== null && typeof addr === 'object') port = addr.port;
        resolve();
      };
      http.once('error', onError);
      http.once('listening', onListening);
      http.listen(port, host);
    });
  const stopListening = async () => {
    const closing = [...open.values()];
    for (const c of open.keys()) c.terminate();
    for (const s of sockets) s.destroy();
    const stopped = http.listening
      ? new Promise<void>((resolve) => http.close(() => resolve()))
      : Promise.resolve();
    // A connection reports its close when its socket has closed; waiting for
    // it means stop()/close() return with every connection closed, counted
    // and logged (closedAt, connectionsOpen, the 'closed' line).
    await Promise.all([stopped, ...closing]);
  };

  await listen();
  let closed = false;
  // Other writers commit while the server listens, to tables that exist.
  const writerTimers = (options.otherWriters ?? []).map((w) => {
    const timer = setInterval(() => {
      if (http.listening && store.tables().includes(w.table)) {
        advanceSeqTxn(w.table, BigInt(w.steps ?? 1));
      }
    }, w.everyMs);
    timer.unref();
    return timer;
  });
  const assertOpen = (method: string) => {
    if (closed) throw new TestServerClosedError(`${method}() called on a closed server`);
  };

  const bind = <K extends keyof FaultMethods>(k: K): FaultMethods[K] =>
    (faults[k] as (...a: unknown[]) => void).bind(faults) as FaultMethods[K];
  const server: TestServer = {
    dropAfterFrames: bind('dropAfterFrames'),
    dropAtRandom: bind('dropAtRandom'),
    delayAcks: bind('delayAcks'),
    neverAck: bind('neverAck'),
    rejectFrame: bind('rejectFrame'),
    refuseConnections: bind('refuseConnections'),
    rejectUpgrades: bind('rejectUpgrades'),
    corruptAcks: bind('corruptAcks'),
    stallUploads: bind('stallUploads'),
    resetFaults: () => faults.reset(),
    get url() {
      return `ws://${formatHost(host)}:${port}/write/v4`;
    },
    host,
    get port() {
      return port;
    },
    faults,
    frames,
    connections: connectionInfos,
    rows: (table) => store.rows(table),
    tables: () => store.tables(),
    schema: (table) => store.schema(table),
    seqTxn: (table) => store.seqTxn(table),
    stats: () => stats.snapshot(mode, sampleRate),
    createTable: (table, columns, designatedTimestamp) =>
      store.createTable(table, columns, designatedTimestamp),
    setDedup: (table, columns) => store.setDedup(table, columns),
    setRole: (role, zone) => {
      handshake.role = role;
      if (zone !== undefined) handshake.zone = zone;
    },
    dropConnections: () => {
      for (const c of open.keys()) c.terminate();
    },
    demote: (role = 'REPLICA') => {
      if (role !== 'REPLICA' && role !== 'PRIMARY_CATCHUP') {
        throw new TestServerOptionsError(
          `demote role must be REPLICA or PRIMARY_CATCHUP, got ${String(role)}`,
        );
      }
      handshake.role = role;
      log(`demoted to ${role}: ${open.size} open connections close at their next data frame`);
    },
    promote: (role = 'PRIMARY') => {
      if (role === 'REPLICA' || role === 'PRIMARY_CATCHUP') {
        throw new TestServerOptionsError(`promote role must be a writable role, got ${role}`);
      }
      handshake.role = role;
      log(`promoted to ${role}`);
    },
    setReadOnly: (on = true) => {
      readOnly = on;
      log(on ? 'read-only: data frames are refused' : 'writable (read-only off)');
    },
    advanceSeqTxn,
    setDurableLag: (lagMs, jitterMs = 0, tier = 'replicated') => {
      for (const [name, v] of [
        ['lagMs', lagMs],
        ['jitterMs', jitterMs],
      ] as const) {
        if (!Number.isInteger(v) || v < 0) {
          throw new TestServerOptionsError(
            `setDurableLag ${name} must be an integer >= 0, got ${v}`,
          );
        }
      }
      if (tier !== 'local' && tier !== 'replicated') {
        throw new TestServerOptionsError(
          `setDurableLag tier must be 'local' or 'replicated', got ${String(tier)}`,
        );
      }
      clocks[tier].setLag(lagMs, jitterMs);
    },
    durableWatermark: (table, tier = 'replicated') => clocks[tier].watermark(table, Date.now()),
    waitForRows: (table, count, timeoutMs = 5000) =>
      new Promise<Row[]>((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
          if (store.rowCount(table) >= count) {
            resolve(store.rows(table));
          } else if (Date.now() - started >= timeoutMs) {
            reject(
              new TestServerTimeoutError(
                `table '${table}' has ${store.rowCount(table)} rows, not ${count}, after ${timeoutMs} ms`,
              ),
            );
          } else {
            setTimeout(poll, 5);
          }
        };
        poll();
      }),
    stop: async () => {
      assertOpen('stop');
      await stopListening();
      log('stopped');
    },
    start: async () => {
      assertOpen('start');
      if (http.listening) return;
      await listen();
      log(`listening again on ${server.url}`);
    },
    restart: async (restartOptions = {}) => {
      assertOpen('restart');
      await stopListening();
      if (restartOptions.keepRows === false) {
        store.clear();
        clocks.local.clear();
        clocks.replicated.clear();
      }
      stats.restarts++;
      log(`restart: ${restartOptions.keepRows === false ? 'rows lost' : 'rows kept'}`);
      const downMs = restartOptions.downMs ?? 0;
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await listen();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const t of writerTimers) clearInterval(t);
      await stopListening();
    },
  };
  log(
    `listening on ${server.url} (mode ${mode}${mode === 'throughput' ? `, sample ${sampleRate}` : ''})`,
  );
  return server;
}
