import { connect as netConnect, type Socket } from 'node:net';
import { requestText, upgradeHeaders } from './client.js';

/**
 * Byte-level WebSocket tools for tests of framing and close mechanics,
 * written from RFC 6455 independently of the server's own framing code.
 */

export interface ClientFrameOptions {
  /** FIN bit (default true). */
  fin?: boolean;
  /** RSV1-3 bits, as 0x40 / 0x20 / 0x10 of the first byte (default 0). */
  rsv?: number;
  /** Whether the frame is masked (default true, as a client must). */
  masked?: boolean;
  /** The 4 mask bytes (default 37 fa 21 3d, RFC 6455's example). */
  mask?: readonly number[];
  /** Payload length to announce instead of the payload's own (a header-only frame). */
  announce?: number;
  /** Length form: the smallest that fits (default), or a wider one. */
  lengthForm?: 7 | 16 | 64;
}

/** A client frame carrying `payload`, masked unless told otherwise. */
export function clientFrame(
  opcode: number,
  payload: Uint8Array = Buffer.alloc(0),
  o: ClientFrameOptions = {},
): Buffer {
  const length = o.announce ?? payload.length;
  const form = o.lengthForm ?? (length < 126 ? 7 : length <= 0xffff ? 16 : 64);
  const masked = o.masked ?? true;
  const mask = Buffer.from(o.mask ?? [0x37, 0xfa, 0x21, 0x3d]);
  const head = Buffer.alloc(2 + (form === 16 ? 2 : form === 64 ? 8 : 0));
  head[0] = ((o.fin ?? true) ? 0x80 : 0) | (o.rsv ?? 0) | opcode;
  head[1] = (masked ? 0x80 : 0) | (form === 7 ? length : form === 16 ? 126 : 127);
  if (form === 16) head.writeUInt16BE(length, 2);
  if (form === 64) head.writeBigUInt64BE(BigInt(length), 2);
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i % 4]!;
  return Buffer.concat(masked ? [head, mask, body] : [head, body]);
}

/** A CLOSE payload: the status code, then the reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

/** A server frame as a client reads it (unmasked, FIN set). */
export function serverFrame(opcode: number, payload: Uint8Array): Buffer {
  const n = payload.length;
  const head =
    n < 126
      ? Buffer.from([0x80 | opcode, n])
      : n <= 0xffff
        ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), Buffer.alloc(8)]);
  if (n > 0xffff) head.writeBigUInt64BE(BigInt(n), 2);
  return Buffer.concat([head, payload]);
}

/** One frame the server sent. */
export interface ReadFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Splits server bytes into frames; throws on a trailing partial frame or a masked one. */
export function readServerFrames(bytes: Buffer): ReadFrame[] {
  const out: ReadFrame[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 2) throw new Error(`partial frame header at byte ${at}`);
    const b0 = bytes[at]!;
    const b1 = bytes[at + 1]!;
    if ((b1 & 0x80) !== 0) throw new Error(`masked server frame at byte ${at}`);
    let n = b1 & 0x7f;
    let pos = at + 2;
    if (n === 126) {
      n = bytes.readUInt16BE(pos);
      pos += 2;
    } else if (n === 127) {
      n = Number(bytes.readBigUInt64BE(pos));
      pos += 8;
    }
    if (pos + n > bytes.length) throw new Error(`partial frame payload at byte ${at}`);
    out.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: bytes.subarray(pos, pos + n) });
    at = pos + n;
  }
  return out;
}

/**
 * A WebSocket client on a raw socket: it upgrades, then records every byte
 * after the 101 and when the server half-closed (end) and closed the
 * connection, so a test can assert exact bytes and socket events.
 */
export class RawClient {
  /** The 101 response head (status line and headers). */
  head = '';
  private readonly chunks: Buffer[] = [];
  /** When the server's FIN arrived (ms since epoch), or null. */
  endedAt: number | null = null;
  /** When the connection closed, or null. */
  closedAt: number | null = null;
  /** A socket error (ECONNRESET...), if one happened. */
  error: Error | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly sock: Socket) {}

  /** Connects, sends the upgrade request, and resolves once the 101 head is read. */
  static open(
    port: number,
    headers: Record<string, string> = upgradeHeaders(),
    path = '/write/v4',
  ): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      // The client keeps its write side open after the server's FIN, like a
      // WebSocket client that has not finished its close handshake.
      const sock = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
      sock.setNoDelay(true);
      const client = new RawClient(sock);
      let pre = Buffer.alloc(0);
      let upgraded = false;
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error('no 101 within 3 s'));
      }, 3000);
      sock.on('connect', () => sock.write(requestText(path, headers)));
      sock.on('data', (d: Buffer) => {
        if (upgraded) {
          client.chunks.push(d);
          client.wake();
          return;
        }
        pre = Buffer.concat([pre, d]);
        const split = pre.indexOf('\r\n\r\n');
        if (split < 0) return;
        upgraded = true;
        clearTimeout(timer);
        client.head = pre.subarray(0, split).toString('latin1');
        if (!client.head.startsWith('HTTP/1.1 101 ')) {
          sock.destroy();
          reject(new Error(`upgrade refused: ${client.head.split('\r\n')[0]}`));
          return;
        }
        if (split + 4 < pre.length) client.chunks.push(pre.subarray(split + 4));
        resolve(client);
      });
      sock.on('end', () => {
        client.endedAt = Date.now();
        client.wake();
      });
      sock.on('error', (err) => {
        client.error = err;
      });
      sock.on('close', () => {
        client.closedAt = Date.now();
        clearTimeout(timer);
        if (!upgraded) reject(new Error('closed before the 101'));
        client.wake();
      });
    });
  }

  /** Every byte received after the 101. */
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** The frames received so far. */
  frames(): ReadFrame[] {
    return readServerFrames(this.bytes);
  }

  send(bytes: Uint8Array): void {
    this.sock.write(bytes);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `done()` holds; false when `timeoutMs` passes first. */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Waits for the server's FIN; false when it does not come within `timeoutMs`. */
  waitEnd(timeoutMs = 2000): Promise<boolean> {
    return this.until(() => this.endedAt !== null || this.closedAt !== null, timeoutMs);
  }

  /** Waits for the connection to close; false when it stays open for `timeoutMs`. */
  waitClosed(timeoutMs = 2000): Promise<boolean> {
    return this.until(() => this.closedAt !== null, timeoutMs);
  }

  /** Waits until at least `count` bytes arrived after the 101. */
  waitBytes(count: number, timeoutMs = 2000): Promise<boolean> {
    return this.until(() => this.bytes.length >= count, timeoutMs);
  }

  destroy(): void {
    this.sock.destroy();
  }
}
