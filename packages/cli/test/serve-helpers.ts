import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { decodeResponse, type Response } from '@qwp/qwp-wire/codec';
import { main } from '../src/index.js';

/** A `qwp serve` run in-process: its output, its URL once listening, and how to stop it. */
export interface Running {
  stdout: () => string;
  stderr: () => string;
  url: Promise<string>;
  stop: () => void;
  exit: Promise<number>;
}

/** Runs `qwp serve ARGS` in this process until `stop()`. */
export function runServe(args: string[]): Running {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  const ac = new AbortController();
  const io = { stdin: new PassThrough(), stdout, stderr, signal: ac.signal };
  const exit = main(['serve', ...args], io);
  const url = new Promise<string>((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const poll = () => {
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
      else if (Date.now() > deadline) reject(new Error(`no listening line in: ${out}${err}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
  return { stdout: () => out, stderr: () => err, url, stop: () => ac.abort(), exit };
}

/** The upgrade request a WebSocket client sends for `url`, with `headers` added. */
export function upgradeRequest(url: URL, headers: Record<string, string> = {}): string {
  let req = `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.hostname}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`;
  req += 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`;
  return `${req}\r\n`;
}

/**
 * A minimal WebSocket client over a raw socket (the cli package has no ws
 * dependency) that keeps everything the server sends: decoded responses,
 * PONGs and the CLOSE. Every wait is bounded.
 */
export class RawClient {
  readonly responses: Response[] = [];
  readonly pongs: string[] = [];
  close: { code: number; reason: string } | null = null;
  /** Set when the TCP connection ended (with or without a CLOSE). */
  ended = false;
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private barriers = 0;

  private constructor(private readonly sock: Socket) {}

  /** Upgrades; rejects with the status line when the answer is not 101. */
  static open(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
      const sock = connect(Number(target.port), target.hostname);
      const client = new RawClient(sock);
      let head = Buffer.alloc(0);
      let upgraded = false;
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error('no upgrade response'));
      }, 3000);
      sock.on('connect', () => sock.write(upgradeRequest(target, headers)));
      sock.on('data', (d: Buffer) => {
        if (upgraded) {
          client.feed(d);
          return;
        }
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) {
          sock.destroy();
          reject(new Error(status));
          return;
        }
        upgraded = true;
        resolve(client);
        client.feed(head.subarray(end + 4));
      });
      sock.on('close', () => {
        client.ended = true;
        client.notify();
      });
      sock.on('error', (e) => {
        clearTimeout(timer);
        if (!upgraded) reject(e);
      });
    });
  }

  /** Sends one masked frame (binary by default). */
  send(payload: Buffer, opcode = 0x2): void {
    const mask = Buffer.from([7, 1, 9, 4]);
    let head: Buffer;
    if (payload.length < 126) head = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
    else {
      head = Buffer.from([0x80 | opcode, 0x80 | 126, 0, 0]);
      head.writeUInt16BE(payload.length, 2);
    }
    const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    this.sock.write(Buffer.concat([head, mask, body]));
  }

  /** Sends a PING carrying `data`. */
  ping(data: string): void {
    this.send(Buffer.from(data), 0x9);
  }

  /**
   * A PING/PONG barrier: the server flushes what it owes before it answers
   * a PING, so once the PONG is back nothing earlier is still in flight.
   */
  async barrier(): Promise<void> {
    const token = `barrier-${++this.barriers}`;
    this.ping(token);
    await this.until(() => this.pongs.includes(token), `the PONG of ${token}`);
  }

  /** Waits until `done()` holds, failing after `timeoutMs` or when the connection ends first. */
  async until(done: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.ended) throw new Error(`connection ended waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Waits for the server's CLOSE (or the end of the connection). */
  async closed(timeoutMs = 3000): Promise<{ code: number; reason: string } | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.close === null && !this.ended && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.close;
  }

  destroy(): void {
    this.sock.destroy();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Parses server frames (unmasked; 7-bit or 16-bit lengths suffice here). */
  private feed(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) break;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) break;
        len = this.buf.readUInt16BE(2);
        at = 4;
      }
      if (this.buf.length < at + len) break;
      const opcode = this.buf[0]! & 0x0f;
      const payload = this.buf.subarray(at, at + len);
      this.buf = this.buf.subarray(at + len);
      if (opcode === 0x2) this.responses.push(decodeResponse(payload));
      else if (opcode === 0xa) this.pongs.push(payload.toString());
      else if (opcode === 0x8) {
        this.close = {
          code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
          reason: payload.subarray(2).toString(),
        };
      }
    }
    this.notify();
  }
}

/** One QWP message: table `table`, columns v LONG and the designated timestamp. */
export function frame(table: string, v: bigint, ts: bigint): Buffer {
  const name = Buffer.from(table);
  const body = Buffer.concat([
    Buffer.from([name.length]),
    name,
    Buffer.from([1, 2, 1]),
    Buffer.from('v'),
    Buffer.from([0x05, 0, 0x0a, 0]),
    Buffer.alloc(8),
    Buffer.from([0]),
    Buffer.alloc(8),
  ]);
  body.writeBigInt64LE(v, name.length + 9);
  body.writeBigInt64LE(ts, name.length + 18);
  const head = Buffer.alloc(12);
  head.write('QWP1', 0, 'latin1');
  head[4] = 1;
  head.writeUInt16LE(1, 6);
  head.writeUInt32LE(body.length, 8);
  return Buffer.concat([head, body]);
}
