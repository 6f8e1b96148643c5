import { Limits } from '@qwp/qwp-wire/codec';
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
   * Honour X-QWP-Request-Durable-Ack. `delayMs` (default 0) is how long after
   * its OK a commit counts as uploaded. As on QuestDB, a DURABLE_ACK goes out
   * only when the connection receives something (a frame, a PING): a client
   * waiting for one with nothing to send must PING.
   */
  durableAck?: boolean | { delayMs?: number };
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
  /** Commit an open FLAG_DEFER_COMMIT group early once it holds this many rows (QuestDB's qwp.max.uncommitted.rows); default 0, never. */
  maxUncommittedRows?: number;
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
  intIn('maxUncommittedRows', o.maxUncommittedRows, 0, Number.MAX_SAFE_INTEGER);
  intIn('closeDrainMs', o.closeDrainMs, 0, 2 ** 31 - 1);
  if (o.sampleRate !== undefined && !(o.sampleRate >= 0 && o.sampleRate <= 1)) {
    throw new TestServerOptionsError(`sampleRate must be in [0, 1], got ${o.sampleRate}`);
  }
  oneOf('mode', o.mode, ['strict', 'throughput']);
  oneOf('longArrays', o.longArrays, ['reject', 'accept']);
  oneOf('ackMode', o.ackMode, ['per-frame', 'cumulative']);
}
