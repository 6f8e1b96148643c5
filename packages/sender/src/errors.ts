/**
 * Every error @qwp/sender throws on purpose is a SenderError with a stable
 * `code`, a message naming what is at fault, and the cause attached. Errors
 * from the layers below keep their own classes: `QwpInvalidValueError` for a
 * row value, `ConnectStringError` for the configuration, `SegmentLogError`
 * for the store-and-forward files.
 */

/** Stable codes of {@link SenderError}. */
export type SenderErrorCode =
  | 'ERR_QWP_SENDER_CLOSED'
  | 'ERR_QWP_SENDER_STATE'
  | 'ERR_QWP_SENDER_OPTIONS'
  | 'ERR_QWP_BACKPRESSURE'
  | 'ERR_QWP_SERVER_REJECTED'
  | 'ERR_QWP_POISON_FRAME'
  | 'ERR_QWP_DURABLE_ACK'
  | 'ERR_QWP_CONNECT'
  | 'ERR_QWP_AUTH'
  | 'ERR_QWP_PROTOCOL'
  | 'ERR_QWP_UNDELIVERABLE'
  | 'ERR_QWP_TIMEOUT'
  | 'ERR_QWP_DATA_LOSS'
  | 'ERR_QWP_WORKER'
  | 'ERR_QWP_SF_UNAVAILABLE'
  | 'ERR_QWP_SLOT_QUARANTINED'
  | 'ERR_QWP_TRANSACTION';

/** Base class of every error this package throws on purpose. */
export class SenderError extends Error {
  readonly code: SenderErrorCode;

  constructor(code: SenderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The sender was closed (or is closing); nothing more can be written. */
export class SenderClosedError extends SenderError {
  declare readonly code: 'ERR_QWP_SENDER_CLOSED';

  constructor(what: string, options?: { cause?: unknown }) {
    super('ERR_QWP_SENDER_CLOSED', `${what}: the sender is closed`, options);
  }
}

/** A call out of order: a column before `table()`, the sender's own row API inside a transaction, ... */
export class SenderStateError extends SenderError {
  declare readonly code: 'ERR_QWP_SENDER_STATE';

  constructor(message: string) {
    super('ERR_QWP_SENDER_STATE', message);
  }
}

/** A programmatic option (not a connect-string key) is out of range or of the wrong type. */
export class SenderOptionsError extends SenderError {
  declare readonly code: 'ERR_QWP_SENDER_OPTIONS';

  constructor(message: string) {
    super('ERR_QWP_SENDER_OPTIONS', message);
  }
}

/**
 * The buffer stayed full past `sf_append_deadline_millis` (or the rows
 * waiting for room exceed `max_buf_size`). Nothing was dropped: the frames
 * that did not fit stay queued and go out once the server acknowledges
 * enough to make room.
 */
export class BackpressureError extends SenderError {
  declare readonly code: 'ERR_QWP_BACKPRESSURE';
  /** Whether the I/O worker had a live connection when the wait gave up. */
  readonly connected: boolean;
  /** Encoded frames still waiting for room in the buffer. */
  readonly queuedFrames: number;

  constructor(message: string, connected: boolean, queuedFrames: number) {
    super('ERR_QWP_BACKPRESSURE', message);
    this.connected = connected;
    this.queuedFrames = queuedFrames;
  }
}

/**
 * The server answered a frame with an error status. Terminal (the sender
 * stopped, every frame kept) when its `policy` is `terminal`; otherwise
 * reported through the `error` event while the sender reconnects and
 * replays.
 */
export class ServerRejectedError extends SenderError {
  declare readonly code: 'ERR_QWP_SERVER_REJECTED';
  /** QWP status code (SCHEMA_MISMATCH 3, PARSE_ERROR 5, WRITE_ERROR 9, ...). */
  readonly status: number;
  /** Name of the status, e.g. `WRITE_ERROR`. */
  readonly statusName: string;
  /** FSN of the rejected frame, or -1 when the rejection named a symbol catch-up frame. */
  readonly fsn: number;
  /** The server's own message. */
  readonly serverMessage: string;
  /** `schema`, `parse`, `internal`, `security`, `write`, `not-writable`, `dictionary-gap` or `unknown`. */
  readonly category: string;
  /** What the sender did: `terminal`, `retriable` (reconnect, replay) or `retriable-other` (another endpoint). */
  readonly policy: string;

  constructor(
    status: number,
    statusName: string,
    fsn: number,
    serverMessage: string,
    category = 'unknown',
    policy = 'terminal',
  ) {
    super(
      'ERR_QWP_SERVER_REJECTED',
      `server rejected ${fsn >= 0 ? `frame ${fsn}` : 'a symbol catch-up frame'} with ${statusName} (0x${status.toString(16).padStart(2, '0')}): ${serverMessage}${policy === 'terminal' ? '' : ` (${policy}: reconnecting and replaying)`}`,
    );
    this.status = status;
    this.statusName = statusName;
    this.fsn = fsn;
    this.serverMessage = serverMessage;
    this.category = category;
    this.policy = policy;
  }
}

/**
 * A frame the server kept refusing (or that kept killing the connection)
 * across `max_frame_rejections` attempts over at least
 * `poison_min_escalation_window_millis`: terminal, the frame stays stored.
 */
export class PoisonFrameError extends SenderError {
  declare readonly code: 'ERR_QWP_POISON_FRAME';
  readonly fsn: number;
  readonly strikes: number;

  /** Use {@link PoisonFrameError.describe} for the message. */
  constructor(fsn: number, strikes: number, message: string) {
    super('ERR_QWP_POISON_FRAME', message);
    this.fsn = fsn;
    this.strikes = strikes;
  }

  /** The message for a frame `fsn` refused `strikes` times in `windowMs` or more, last for `lastReason`. */
  static describe(fsn: number, strikes: number, windowMs: number, lastReason: string): string {
    return `frame ${fsn} failed ${strikes} times over ${windowMs} ms or more with no progress (last: ${lastReason}); the sender stopped, the frame stays stored`;
  }
}

/** `request_durable_ack=on` but the server does not confirm it (no `X-QWP-Durable-Ack: enabled`). */
export class DurableAckError extends SenderError {
  declare readonly code: 'ERR_QWP_DURABLE_ACK';

  constructor(message: string) {
    super('ERR_QWP_DURABLE_ACK', message);
  }
}

/** No connection could be made where one was required (initial connect). */
export class ConnectError extends SenderError {
  declare readonly code: 'ERR_QWP_CONNECT';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_CONNECT', message, options);
  }
}

/** The server refused the credentials (HTTP 401 or 403 on the upgrade). */
export class AuthError extends SenderError {
  declare readonly code: 'ERR_QWP_AUTH';
  readonly httpStatus: number;

  constructor(message: string, httpStatus: number) {
    super('ERR_QWP_AUTH', message);
    this.httpStatus = httpStatus;
  }
}

/** The server said something a QWP server never says (garbage, a text frame, an ACK for a frame never sent). */
export class ProtocolError extends SenderError {
  declare readonly code: 'ERR_QWP_PROTOCOL';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_PROTOCOL', message, options);
  }
}

/** A stored frame is larger than the connected server accepts; it can never be delivered there. */
export class UndeliverableFrameError extends SenderError {
  declare readonly code: 'ERR_QWP_UNDELIVERABLE';
  readonly fsn: number;
  readonly frameBytes: number;
  readonly maxBatchSize: number;

  constructor(fsn: number, frameBytes: number, maxBatchSize: number) {
    super(
      'ERR_QWP_UNDELIVERABLE',
      `frame ${fsn} is ${frameBytes} bytes but the server accepts at most ${maxBatchSize} (X-QWP-Max-Batch-Size); it stays stored but cannot be sent to this server`,
    );
    this.fsn = fsn;
    this.frameBytes = frameBytes;
    this.maxBatchSize = maxBatchSize;
  }
}

/** A wait (drain, acknowledged) ran out of time; nothing was lost. */
export class SenderTimeoutError extends SenderError {
  declare readonly code: 'ERR_QWP_TIMEOUT';

  constructor(message: string) {
    super('ERR_QWP_TIMEOUT', message);
  }
}

/** close() in memory mode ended with frames the server never acknowledged: they are gone. */
export class DataLossError extends SenderError {
  declare readonly code: 'ERR_QWP_DATA_LOSS';
  /** Frames published but not acknowledged when the sender closed. */
  readonly unacknowledgedFrames: number;

  constructor(message: string, unacknowledgedFrames: number, options?: { cause?: unknown }) {
    super('ERR_QWP_DATA_LOSS', message, options);
    this.unacknowledgedFrames = unacknowledgedFrames;
  }
}

/** The I/O worker thread failed or exited unexpectedly. */
export class WorkerError extends SenderError {
  declare readonly code: 'ERR_QWP_WORKER';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_WORKER', message, options);
  }
}

/** `sf_dir` was set but the native addons store-and-forward needs cannot load here. */
export class StoreAndForwardUnavailableError extends SenderError {
  declare readonly code: 'ERR_QWP_SF_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_SF_UNAVAILABLE', message, options);
  }
}

/**
 * The slot found at start could not be replayed (its files contradict each
 * other) and was moved aside, intact and marked `.failed`, to `path`; the
 * sender went on with a fresh slot. Reported, not thrown.
 */
export class SlotQuarantinedError extends SenderError {
  declare readonly code: 'ERR_QWP_SLOT_QUARANTINED';
  readonly path: string;

  constructor(path: string, reason: string) {
    super(
      'ERR_QWP_SLOT_QUARANTINED',
      `the store-and-forward slot could not be replayed (${reason}); it was moved, intact, to ${path} and a fresh slot opened. Inspect it with qwp sf inspect`,
    );
    this.path = path;
  }
}

/** A transaction cannot proceed (too large for the buffer, nested, ...). */
export class TransactionError extends SenderError {
  declare readonly code: 'ERR_QWP_TRANSACTION';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_TRANSACTION', message, options);
  }
}

/** A short reason for a message: an Error's message, or the thrown value as text. */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
