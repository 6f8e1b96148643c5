/**
 * The messages the producer and its I/O worker exchange, and the data the
 * worker starts from. Everything here is structured-clonable.
 */
import {
  AuthError,
  ConnectError,
  DurableAckError,
  PoisonFrameError,
  ProtocolError,
  SenderError,
  type SenderErrorCode,
  ServerRejectedError,
  UndeliverableFrameError,
} from '../errors.js';

/** A segment the ring made active: in SF mode a file to map, in memory mode a shared buffer. */
export interface SegmentAnnouncement {
  baseSeq: number;
  sizeBytes: number;
  /** SF mode: the segment file. */
  path?: string;
  /** Memory mode: the segment itself. */
  buffer?: SharedArrayBuffer;
}

/** `on_<category>_error` / `on_server_error` as the connect string gave them (`halt`, `retry`, `retriable_other`, `auto`). */
export interface PolicyOverrides {
  server?: string | undefined;
  schema?: string | undefined;
  parse?: string | undefined;
  internal?: string | undefined;
  security?: string | undefined;
  write?: string | undefined;
}

/** One endpoint from `addr`. */
export interface Endpoint {
  host: string;
  port: number;
}

/** What the worker needs to know about the connection it makes. */
export interface WireSettings {
  endpoints: Endpoint[];
  tls: boolean;
  tlsVerify: boolean;
  /** PEM text of the CA roots to trust (read by the producer from `tls_roots`). */
  tlsCa: string | undefined;
  /** `Authorization` header value, or undefined. */
  authorization: string | undefined;
  clientId: string;
  /** Bounds the TCP+TLS connect and the HTTP upgrade. */
  connectTimeoutMs: number;
  authTimeoutMs: number;
  reconnectInitialBackoffMs: number;
  reconnectMaxBackoffMs: number;
  reconnectMaxDurationMs: number;
  /** off: one round; sync: retry up to reconnectMaxDurationMs; async: retry forever from the start. */
  initialConnect: 'off' | 'sync' | 'async';
  /** Frame budget before the first connect and the cap on any server's advertised one. */
  localMaxBatchSize: number;
  /** `on_*_error` overrides, as the connect string gave them. */
  policies: PolicyOverrides;
  /** max_frame_rejections and poison_min_escalation_window_millis. */
  maxFrameRejections: number;
  poisonWindowMs: number;
  /** request_durable_ack: trim only on DURABLE_ACK. */
  durableAck: boolean;
  /** PING this often while durable confirmations are pending and nothing is sent; <= 0: never. */
  durableKeepaliveMs: number;
  /**
   * Keep retrying, rather than stop, when an endpoint refuses the credentials
   * or durable ACK after the first connection (SF mode), or from the start
   * (background start: initial_connect_retry=async).
   */
  retryRefusals: 'never' | 'after-first-connection' | 'always';
}

/** workerData of the I/O worker. */
export interface WorkerInit {
  wire: WireSettings;
  /** ControlBlock buffer (published / acked FSNs). */
  control: SharedArrayBuffer;
  /** StatusBlock buffer. */
  status: SharedArrayBuffer;
  /** Segments the ring holds at start, oldest first. */
  segments: SegmentAnnouncement[];
  /** Symbols of frames published before this sender started (SF recovery), in id order. */
  symbols: string[];
  /** SF mode: the slot, whose `.ack-watermark` the worker writes each ACK into before publishing it. */
  slotDir: string | undefined;
}

/** Producer -> worker. */
export type ToWorker =
  | { type: 'segment'; segment: SegmentAnnouncement }
  /** Close the connection and end the thread. */
  | { type: 'stop' };

/** A terminal error or a reportable incident, across the thread boundary. */
export interface WireError {
  name: string;
  code: string;
  message: string;
  /** The cause's own name, code and message, when there was one (its class does not cross threads). */
  cause?: { name: string; code?: string; message: string };
  /** ServerRejectedError fields (fsn also PoisonFrameError's). */
  status?: number;
  category?: string;
  policy?: string;
  strikes?: number;
  statusName?: string;
  fsn?: number;
  serverMessage?: string;
  /** AuthError field. */
  httpStatus?: number;
  /** UndeliverableFrameError fields. */
  frameBytes?: number;
  maxBatchSize?: number;
}

/** Details of a connection the worker made. */
export interface ConnectedInfo {
  host: string;
  port: number;
  /** Negotiated QWP version. */
  version: number;
  /** The frame budget in force: min(server's X-QWP-Max-Batch-Size, local budget). */
  maxBatchSize: number;
  /** X-QuestDB-Role of the 101, if sent. */
  role: string | undefined;
  /** True for the first connection of this sender. */
  first: boolean;
}

/** Worker -> producer. */
export type FromWorker =
  | { type: 'connected'; info: ConnectedInfo }
  | { type: 'disconnected'; reason: string; willRetry: boolean }
  /** A non-terminal incident worth reporting (garbage from the server, a refused connect while retrying). */
  | { type: 'incident'; error: WireError }
  /** The initial connect (mode off / sync) gave up; the worker has ended. */
  | { type: 'connect-failed'; error: WireError }
  /** A terminal error: the worker stopped sending and ended. */
  | { type: 'fatal'; error: WireError }
  | { type: 'stopped' };

/** Flattens an error for postMessage. */
export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error))
    return { name: 'Error', code: 'ERR_QWP_WORKER', message: String(err) };
  const out: WireError = {
    name: err.name,
    code: typeof (err as { code?: unknown }).code === 'string' ? (err as SenderError).code : '',
    message: err.message,
  };
  if (err.cause instanceof Error) {
    const code = (err.cause as { code?: unknown }).code;
    out.cause = {
      name: err.cause.name,
      message: err.cause.message,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  if (err instanceof ServerRejectedError) {
    out.status = err.status;
    out.statusName = err.statusName;
    out.fsn = err.fsn;
    out.serverMessage = err.serverMessage;
    out.category = err.category;
    out.policy = err.policy;
  } else if (err instanceof PoisonFrameError) {
    out.fsn = err.fsn;
    out.strikes = err.strikes;
  } else if (err instanceof AuthError) {
    out.httpStatus = err.httpStatus;
  } else if (err instanceof UndeliverableFrameError) {
    out.fsn = err.fsn;
    out.frameBytes = err.frameBytes;
    out.maxBatchSize = err.maxBatchSize;
  }
  return out;
}

/** Rebuilds the typed error on the producer's side, with its cause as a plain Error. */
export function fromWireError(w: WireError): SenderError {
  const err = rebuild(w);
  if (w.cause !== undefined && err.cause === undefined) {
    const cause = Object.assign(new Error(w.cause.message), {
      name: w.cause.name,
      ...(w.cause.code === undefined ? {} : { code: w.cause.code }),
    });
    (err as { cause?: unknown }).cause = cause;
  }
  return err;
}

function rebuild(w: WireError): SenderError {
  switch (w.code) {
    case 'ERR_QWP_SERVER_REJECTED':
      return new ServerRejectedError(
        w.status!,
        w.statusName!,
        w.fsn!,
        w.serverMessage!,
        w.category,
        w.policy,
      );
    case 'ERR_QWP_POISON_FRAME':
      return new PoisonFrameError(w.fsn!, w.strikes!, w.message);
    case 'ERR_QWP_DURABLE_ACK':
      return new DurableAckError(w.message);
    case 'ERR_QWP_AUTH':
      return new AuthError(w.message, w.httpStatus!);
    case 'ERR_QWP_UNDELIVERABLE':
      return new UndeliverableFrameError(w.fsn!, w.frameBytes!, w.maxBatchSize!);
    case 'ERR_QWP_PROTOCOL':
      return new ProtocolError(w.message);
    case 'ERR_QWP_CONNECT':
      return new ConnectError(w.message);
    default:
      return new SenderError((w.code || 'ERR_QWP_WORKER') as SenderErrorCode, w.message);
  }
}
