import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { closeResponseCode } from '../close-codes.js';
import { WebSocketFrameError } from '../errors.js';
import {
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
} from './constants.js';
import { FrameParser, type FrameSink } from './frame-parser.js';
import { encodeCloseFrame, encodeFrame } from './frame-writer.js';

/** How long QuestDB discards input after its own CLOSE before it cuts the connection (CLOSE_DRAIN_TIMEOUT_MICROS). */
export const DEFAULT_CLOSE_DRAIN_MS = 5000;

/** The close code reported for a connection that ended without a CLOSE frame (RFC 6455). */
const CLOSE_ABNORMAL = 1006;
/** The close code reported for a client CLOSE that carried no status code (RFC 6455). */
const CLOSE_NO_STATUS = 1005;

const EMPTY = Buffer.alloc(0);

/**
 * What the server does after its own CLOSE:
 * - 'drain': half-close, discard input unparsed until the client's FIN or
 *   `closeDrainMs` (QuestDB's gracefulCloseAndDrain, every close it starts);
 * - 'await-echo': half-close, keep parsing but discard every frame but the
 *   client's CLOSE, and end at that echo, the FIN or `closeDrainMs`
 *   (QuestDB's close-echo wait after a role-change CLOSE whose last durable
 *   ACK must not be lost to a reset);
 * - 'teardown': end the connection as soon as the CLOSE is written (a
 *   role-change close whose upload grace expired).
 */
export type AfterClose = 'drain' | 'await-echo' | 'teardown';

export interface ServerWebSocketOptions {
  /** The largest frame, header included, accepted; a larger one is reported at its header ('oversize'). */
  maxFrameBytes: number;
  /** How long input is discarded after the server's own CLOSE before the socket is destroyed. */
  closeDrainMs?: number;
}

/** The events of a ServerWebSocket, with their arguments. */
export interface ServerWebSocketEvents {
  /** A complete BINARY frame with FIN set, or a TEXT frame (whatever its FIN). */
  message: [data: Buffer, isBinary: boolean];
  /** A complete BINARY frame with FIN clear, or a CONTINUATION frame: QuestDB does not reassemble. */
  fragment: [opcode: number];
  /** A frame header announcing more than maxFrameBytes; nothing after it is read. */
  oversize: [frameBytes: number];
  ping: [data: Buffer];
  pong: [data: Buffer];
  /**
   * The connection is about to end without the server having sent a CLOSE:
   * the client sent one (answered right after this event), sent a malformed
   * frame, or shut its side down. Listeners may still send, as QuestDB
   * flushes its pending ACKs at that point.
   */
  closing: [];
  /** A socket error, or a malformed frame (WebSocketFrameError, the connection then drops without a CLOSE). */
  error: [err: Error];
  /**
   * The TCP connection closed. `code` is the client's CLOSE code when the
   * client closed first (1005 when its CLOSE had none), the server's when it
   * did, 1006 when no CLOSE was exchanged.
   */
  close: [code: number, reason: Buffer];
}

/**
 * The server side of one WebSocket connection (after the 101), behaving as
 * QuestDB's QWP ingress does at the frame level. Its surface mirrors the part
 * of `ws`'s WebSocket the connection handler uses (`send`, `pong`, `close`,
 * `terminate`, `readyState`, the `message` / `ping` / `pong` / `close`
 * events), plus QuestDB's refusals as events:
 * - a malformed frame drops TCP without a CLOSE ('error', 'closing');
 * - a fragmented message ('fragment') or an oversize frame ('oversize') is
 *   left to the listener, which closes with QuestDB's code;
 * - a client CLOSE is answered with QuestDB's code (closeResponseCode) and
 *   no reason, then the connection ends at once;
 * - after its own CLOSE (`close()`) the server half-closes at once, discards
 *   input unparsed until the client's FIN, and destroys the socket after
 *   `closeDrainMs` at the latest (QuestDB's gracefulCloseAndDrain).
 */
export class ServerWebSocket extends EventEmitter<ServerWebSocketEvents> implements FrameSink {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  /** `readyState` of an open connection (as `ws` exposes it on instances). */
  readonly OPEN = ServerWebSocket.OPEN;
  readyState: number = ServerWebSocket.OPEN;
  private readonly parser: FrameParser;
  private readonly closeDrainMs: number;
  private closeCode = CLOSE_ABNORMAL;
  private closeReason: Buffer = EMPTY;
  private drainTimer: NodeJS.Timeout | null = null;
  private ending = false;
  /** Set while only the client's CLOSE echo is looked for ('await-echo'). */
  private awaitingEcho = false;

  /**
   * @param socket the upgraded connection, the 101 already written to it
   * @param head bytes the client sent after its request, read with it
   */
  constructor(
    private readonly socket: Socket,
    head: Buffer,
    options: ServerWebSocketOptions,
  ) {
    super();
    this.parser = new FrameParser(this, options.maxFrameBytes);
    this.closeDrainMs = options.closeDrainMs ?? DEFAULT_CLOSE_DRAIN_MS;
    socket.setNoDelay(true);
    socket.setTimeout(0);
    // Read with the first 'data' event, after the caller attached its listeners.
    if (head.length > 0) socket.unshift(head);
    socket.on('data', (chunk: Buffer) => this.parser.push(chunk));
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', (err) => this.emitError(err));
    socket.on('close', () => this.onSocketClose());
  }

  /** Sends one BINARY frame; ignored unless open. */
  send(data: Uint8Array): void {
    if (this.readyState !== ServerWebSocket.OPEN) return;
    this.socket.write(encodeFrame(OPCODE_BINARY, data));
  }

  /** Sends a PONG echoing `data`; ignored unless open. */
  pong(data: Uint8Array): void {
    if (this.readyState !== ServerWebSocket.OPEN) return;
    this.socket.write(encodeFrame(OPCODE_PONG, data));
  }

  /**
   * Sends the server's CLOSE, then ends the connection as `after` says
   * (default 'drain': half-close, input discarded until the client's FIN or
   * `closeDrainMs`). Ignored unless open.
   */
  close(code: number, reason = '', after: AfterClose = 'drain'): void {
    if (this.readyState !== ServerWebSocket.OPEN) return;
    this.readyState = ServerWebSocket.CLOSING;
    this.closeCode = code;
    this.closeReason = Buffer.from(reason, 'utf8');
    this.socket.write(encodeCloseFrame(code, reason));
    if (after === 'teardown') {
      this.parser.stop();
      this.finish();
      return;
    }
    if (after === 'await-echo') this.awaitingEcho = true;
    else this.parser.stop();
    this.socket.end();
    this.drainTimer = setTimeout(() => this.socket.destroy(), this.closeDrainMs);
    this.drainTimer.unref();
  }

  /** Cuts the TCP connection at once, without a CLOSE. */
  terminate(): void {
    if (this.readyState === ServerWebSocket.CLOSED) return;
    this.readyState = ServerWebSocket.CLOSING;
    this.parser.stop();
    this.socket.destroy();
  }

  /** @internal FrameSink: a complete frame from the parser. */
  frame(opcode: number, fin: boolean, payload: Buffer): void {
    if (this.awaitingEcho) {
      // Only the echo counts; everything before it is discarded unanswered.
      if (opcode === OPCODE_CLOSE) {
        this.parser.stop();
        this.socket.destroy();
      }
      return;
    }
    switch (opcode) {
      case OPCODE_BINARY:
        if (fin) this.emit('message', payload, true);
        else this.emit('fragment', opcode);
        break;
      case OPCODE_TEXT:
        this.emit('message', payload, false);
        break;
      case OPCODE_CONTINUATION:
        this.emit('fragment', opcode);
        break;
      case OPCODE_PING:
        this.emit('ping', payload);
        break;
      case OPCODE_PONG:
        this.emit('pong', payload);
        break;
      case OPCODE_CLOSE:
        this.onPeerClose(payload);
        break;
    }
  }

  /** @internal FrameSink: a header over maxFrameBytes. */
  oversize(frameBytes: number): void {
    // Frame sync is lost while awaiting the echo: the rest is only drained.
    if (this.awaitingEcho) return;
    this.emit('oversize', frameBytes);
  }

  /** @internal FrameSink: a frame QuestDB's parser refuses. */
  malformed(reason: string): void {
    if (this.awaitingEcho) return;
    this.emitError(new WebSocketFrameError(`malformed WebSocket frame: ${reason}`));
    this.endWithoutClose();
  }

  /** A client CLOSE: the pending answers, then QuestDB's CLOSE code without a reason, then the end. */
  private onPeerClose(payload: Buffer): void {
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : -1;
    this.closeCode = code === -1 ? CLOSE_NO_STATUS : code;
    this.closeReason = payload.length > 2 ? payload.subarray(2) : EMPTY;
    this.parser.stop();
    this.emit('closing');
    if (this.readyState !== ServerWebSocket.OPEN) return;
    this.socket.write(encodeCloseFrame(closeResponseCode(code), ''));
    this.readyState = ServerWebSocket.CLOSING;
    this.finish();
  }

  private onPeerEnd(): void {
    if (this.readyState === ServerWebSocket.OPEN) {
      this.endWithoutClose();
    } else {
      // The client's FIN ends the post-CLOSE drain (or a teardown under way).
      this.finish();
    }
  }

  /** A last flush for listeners, then FIN and the end of the connection, no CLOSE frame. */
  private endWithoutClose(): void {
    this.parser.stop();
    this.emit('closing');
    if (this.readyState !== ServerWebSocket.OPEN) return;
    this.readyState = ServerWebSocket.CLOSING;
    this.finish();
  }

  /** Ends the write side, and destroys the socket once what was written has been flushed. */
  private finish(): void {
    if (this.ending) return;
    this.ending = true;
    const socket = this.socket;
    if (!socket.writableEnded) socket.end();
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private onSocketClose(): void {
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.parser.stop();
    this.readyState = ServerWebSocket.CLOSED;
    this.emit('close', this.closeCode, this.closeReason);
  }
}
