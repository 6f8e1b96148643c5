import { Limits } from '@qwp/qwp-wire/codec';
import { type DurableAckOptions, resolveDurableAck } from './durable-watermarks.js';
import { TestServerOptionsError } from './errors.js';
import type { FaultOptions } from './faults.js';
import type { AuthOptions, ServerRole } from './handshake.js';
import type { AckMode } from './records.js';
import type { Row } from './row-store.js';
import type { ServerModeName } from './stats.js';

/** The cap QuestDB advertises with its default 2 MiB receive buffer: 2 MiB minus a 14-byte frame header. */
export const DEFAULT_MAX_BATCH_SIZE = 2 * 1024 * 1024 - 14;
/** Throughput mode's default: fully decode one frame in 64. */
export const DEFAULT_SAMPLE_RATE = 1 / 64;
/** Frame records kept by default in strict mode. */
export const DEFAULT_FRAME_LOG = 100_000;
/**
 * How long a demoted node holds a durable-ack connection's close for its
 * commits to become durable: QuestDB's ROLE_CHANGE_CLOSE_UPLOAD_GRACE_MICROS.
 */
export const DEFAULT_DEMOTION_GRACE_MS = 10_000;

/** A simulated writer committing to a table besides the QWP connections. */
export interface OtherWriter {
  /** The table it commits to (nothing happens until the table exists). */
  table: string;
  /** One commit every this many ms. */
  everyMs: number;
  /** seqTxns each commit takes (default 1; more is a commit plus ALTERs). */
  steps?: number;
}

/** Options of startTestServer; every one is optional. */
export interface TestServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Bind address; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Require HTTP basic or bearer credentials on the upgrade. */
  auth?: AuthOptions;
  /**
   * Role reported in X-QuestDB-Role on every 101 (default 'STANDALONE', as an
   * OSS QuestDB reports); REPLICA and PRIMARY_CATCHUP refuse ingest with 421.
   */
  role?: ServerRole;
  /** Zone reported in X-QuestDB-Zone on a 421 (a 101 never names one, as on QuestDB). */
  zone?: string;
  /** Highest QWP version the server speaks; default 1. */
  serverMaxVersion?: number;
  /**
   * Advertised X-QWP-Max-Batch-Size. As on QuestDB (whose receive buffer is
   * this + 14 bytes), a WebSocket frame whose header and payload exceed
   * maxBatchSize + 14 bytes is closed with 1009. At most 16 MiB, the QWP
   * ceiling QuestDB never advertises beyond. Default DEFAULT_MAX_BATCH_SIZE.
   */
  maxBatchSize?: number;
  /**
   * Honour X-QWP-Request-Durable-Ack (`true`/`replicated`: DURABLE_ACK
   * frames; `local`: LOCAL_DURABLE_ACK frames; `local,replicated`: both).
   * Each tier's per-table frontier lags the commits by `lagMs` plus a seeded
   * jitter and jumps over several at once; see DurableAckOptions. As on
   * QuestDB, durable ACKs go out only when the connection receives something
   * (a frame, a PING, a poll): a client waiting for one must PING.
   */
  durableAck?: boolean | DurableAckOptions;
  /**
   * A node configured read-only (QuestDB's `readonly=true`): upgrades are
   * accepted, every data frame is answered SECURITY_ERROR `replica access is
   * read-only`. Default false; `setReadOnly()` changes it.
   */
  readOnly?: boolean;
  /** How long a demoted node holds a durable-ack connection's close (ms); default 10000. */
  demotionGraceMs?: number;
  /** Writers committing to tables besides the QWP connections: their seqTxns jump. */
  otherWriters?: readonly OtherWriter[];
  /** Called with each binary frame's server-wide index before the frame is handled. */
  onFrame?: (index: number) => void;
  /** DEDUP UPSERT KEYS per table (columns besides the designated timestamp). */
  dedup?: Record<string, string[]>;
  /**
   * 'cumulative' (default), QuestDB's only mode: one OK covers every frame
   * committed since the last one (at most 8 frames, plus one at the end of
   * each receive burst), and goes out before any error, close or PONG.
   * 'per-frame': one OK per committed frame (simpler to assert on, but
   * hides client bugs in cumulative-ack handling).
   */
  ackMode?: AckMode;
  /**
   * 'reject' (default): a new LONG_ARRAY column is a WRITE_ERROR, as on
   * QuestDB. 'accept': LONG_ARRAY columns are stored (for a server that
   * supports them).
   */
  longArrays?: 'reject' | 'accept';
  /**
   * 'strict' (default): every frame fully decoded and its rows stored.
   * 'throughput': header checked on every frame, a sampled fraction fully
   * decoded, no rows stored (for benchmarks).
   */
  mode?: ServerModeName;
  /** Throughput mode: fraction of frames fully decoded (0..1); default 1/64. */
  sampleRate?: number;
  /**
   * QuestDB's `qwp.max.uncommitted.rows` (default 1,000,000): after each
   * table block, a table holding this many staged rows on the connection
   * (in the frame, or in an open FLAG_DEFER_COMMIT group) is committed at
   * once. That commit stays if the frame later fails, and a deferred frame
   * that leaves nothing uncommitted is acknowledged.
   */
  maxUncommittedRows?: number;
  /**
   * Distinct tables one connection may write (default 10,000, QuestDB's
   * per-connection cap); a block for one more is a WRITE_ERROR.
   */
  maxTablesPerConnection?: number;
  /**
   * QuestDB's `line.auto.create.new.tables` (default true). false: a frame
   * naming a table that does not exist is INTERNAL_ERROR `failed to create
   * table update details for: T`.
   */
  autoCreateTables?: boolean;
  /**
   * After the server's own CLOSE (a text frame, a fragment, an oversize
   * frame, a demotion), how long it discards the client's input before it
   * cuts the connection, unless the client's FIN comes first (ms, default
   * 5000: QuestDB's CLOSE_DRAIN_TIMEOUT_MICROS).
   */
  closeDrainMs?: number;
  /** Faults active from the start. */
  faults?: FaultOptions;
  /** How many frame records `frames` keeps (oldest dropped); default 100000 in strict mode, 0 in throughput mode. */
  frameLogLimit?: number;
  /** Receives one line per notable event (connections, rejections, bad input). */
  log?: (line: string) => void;
  /** Called after each commit with the rows committed to one table. */
  onCommit?: (table: string, rows: readonly Row[], seqTxn: bigint) => void;
}

/**
 * Refuses an option out of its range or an unknown mode name.
 * @throws TestServerOptionsError naming the option and the value given
 */
export function validateOptions(o: TestServerOptions): void {
  const intIn = (name: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) {
      throw new TestServerOptionsError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
    }
  };
  const oneOf = (name: string, v: string | undefined, allowed: readonly [string, string]) => {
    if (v !== undefined && !allowed.includes(v)) {
      throw new TestServerOptionsError(
        `${name} must be '${allowed[0]}' or '${allowed[1]}', got ${String(v)}`,
      );
    }
  };
  intIn('port', o.port, 0, 65535);
  intIn('serverMaxVersion', o.serverMaxVersion, 1, 255);
  // QuestDB advertises min(receive buffer - 14, 16 MiB): never more than the protocol ceiling.
  intIn('maxBatchSize', o.maxBatchSize, 13, Limits.MAX_BATCH_SIZE);
  intIn('frameLogLimit', o.frameLogLimit, 0, Number.MAX_SAFE_INTEGER);
  intIn('maxUncommittedRows', o.maxUncommittedRows, 1, Number.MAX_SAFE_INTEGER);
  intIn('maxTablesPerConnection', o.maxTablesPerConnection, 1, Number.MAX_SAFE_INTEGER);
  if (o.autoCreateTables !== undefined && typeof o.autoCreateTables !== 'boolean') {
    throw new TestServerOptionsError(
      `autoCreateTables must be true or false, got ${String(o.autoCreateTables)}`,
    );
  }
  intIn('demotionGraceMs', o.demotionGraceMs, 0, Number.MAX_SAFE_INTEGER);
  resolveDurableAck(o.durableAck);
  for (const [i, w] of (o.otherWriters ?? []).entries()) {
    if (typeof w.table !== 'string' || w.table === '') {
      throw new TestServerOptionsError(`otherWriters[${i}].table must be a table name`);
    }
    intIn(`otherWriters[${i}].everyMs`, w.everyMs, 1, 2 ** 31 - 1);
    intIn(`otherWriters[${i}].steps`, w.steps, 1, Number.MAX_SAFE_INTEGER);
  }
  intIn('closeDrainMs', o.closeDrainMs, 0, 2 ** 31 - 1);
  if (o.sampleRate !== undefined && !(o.sampleRate >= 0 && o.sampleRate <= 1)) {
    throw new TestServerOptionsError(`sampleRate must be in [0, 1], got ${o.sampleRate}`);
  }
  oneOf('mode', o.mode, ['strict', 'throughput']);
  oneOf('longArrays', o.longArrays, ['reject', 'accept']);
  oneOf('ackMode', o.ackMode, ['per-frame', 'cumulative']);
}
