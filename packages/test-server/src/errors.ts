import { statusName } from './protocol.js';

/**
 * Every error @qwp/test-server throws on purpose: a stable `code`, a message
 * that names the input at fault, and the cause attached.
 */
export class TestServerError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad option passed to startTestServer or a fault setter. */
export class TestServerOptionsError extends TestServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_TEST_SERVER_OPTIONS', message, options);
  }
}

/** The listening socket could not be opened (port in use, bad host...). */
export class TestServerListenError extends TestServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_TEST_SERVER_LISTEN', message, options);
  }
}

/** `waitForRows` gave up: the table did not reach the row count in time. */
export class TestServerTimeoutError extends TestServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_TEST_SERVER_TIMEOUT', message, options);
  }
}

/** `stop()`, `start()` or `restart()` called after `close()`. */
export class TestServerClosedError extends TestServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_TEST_SERVER_CLOSED', message, options);
  }
}

/**
 * Why one frame was refused: carries the QWP status the server answers with.
 * Thrown inside frame handling and turned into an error frame, never out of the server.
 */
export class FrameRejectedError extends TestServerError {
  readonly status: number;
  /** The text sent to the client in the error frame (without the status prefix). */
  readonly reason: string;

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_TEST_SERVER_FRAME_REJECTED', `${statusName(status)}: ${message}`, options);
    this.status = status;
    this.reason = message;
  }
}

/**
 * A client frame QuestDB's WebSocket parser refuses (unknown opcode, RSV bits,
 * unmasked, a bad control frame...): the connection is dropped without a
 * CLOSE. Emitted as the WebSocket's 'error' event, never thrown out of the server.
 */
export class WebSocketFrameError extends TestServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QWP_TEST_SERVER_WS_FRAME', message, options);
  }
}
