import { connect as netConnect } from 'node:net';
import { decodeResponse, type Response } from '@qwp/qwp-wire/codec';
import WebSocket from 'ws';

/** A test client: a ws connection with a queue of decoded responses, every wait bounded. */
export class TestClient {
  readonly responses: Response[] = [];
  readonly raw: Buffer[] = [];
  private waiters: (() => void)[] = [];
  closeCode: number | null = null;
  closeReason = '';
  private closedPromise: Promise<void>;
  upgradeHeaders: Record<string, string | string[] | undefined> = {};
  private barriers = 0;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.raw.push(data);
      try {
        this.responses.push(decodeResponse(data));
      } catch {
        // kept in `raw`; tests of malformed ACKs look there
      }
      this.wake();
    });
    ws.on('upgrade', (res) => {
      this.upgradeHeaders = res.headers;
    });
    ws.on('error', () => {});
    this.closedPromise = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve();
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(frame: Uint8Array | string): void {
    this.ws.send(frame);
  }

  /**
   * Waits until `done()` holds, woken by each response; fails when the
   * connection closes or `timeoutMs` passes first, `waiting` saying what for.
   */
  private async waitUntil(done: () => boolean, waiting: () => string, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.closeCode !== null) {
        throw new Error(`closed (${this.closeCode} ${this.closeReason}) ${waiting()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out ${waiting()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves once `count` raw response frames have arrived. */
  async waitForRaw(count: number, timeoutMs = 3000): Promise<Buffer[]> {
    await this.waitUntil(
      () => this.raw.length >= count,
      () => `with ${this.raw.length}/${count} responses`,
      timeoutMs,
    );
    return this.raw.slice(0, count);
  }

  /** Resolves once `count` decodable responses have arrived. */
  async waitFor(count: number, timeoutMs = 3000): Promise<Response[]> {
    await this.waitUntil(
      () => this.responses.length >= count,
      () => `with ${this.responses.length}/${count} responses`,
      timeoutMs,
    );
    return this.responses.slice(0, count);
  }

  /**
   * Resolves once an OK covering sequence `seq` (cumulative: an OK covers
   * every sequence up to its own) or any error has arrived.
   */
  async waitForAck(seq: bigint | number, timeoutMs = 3000): Promise<Response[]> {
    const want = BigInt(seq);
    await this.waitUntil(
      () =>
        this.responses.some((r) => (r.kind === 'ok' && r.sequence >= want) || r.kind === 'error'),
      () => `before sequence ${want} was acked`,
      timeoutMs,
    );
    return [...this.responses];
  }

  /**
   * A PING/PONG barrier: QuestDB (and this server) flushes the pending OK
   * and the DURABLE_ACKs due before it answers a PING, so once the PONG is
   * back every response the frames sent before it could produce has
   * arrived. Use it instead of a sleep for "nothing more arrives" checks.
   */
  async barrier(timeoutMs = 3000): Promise<void> {
    const token = Buffer.from(`barrier-${++this.barriers}`);
    let ponged = false;
    const onPong = (data: Buffer) => {
      if (data.equals(token)) ponged = true;
      this.wake();
    };
    this.ws.on('pong', onPong);
    try {
      this.ws.ping(token);
      await this.waitUntil(
        () => ponged,
        () => 'waiting for the PONG of a barrier',
        timeoutMs,
      );
    } finally {
      this.ws.off('pong', onPong);
    }
  }

  /** Waits for the close, bounded. */
  async closed(timeoutMs = 3000): Promise<{ code: number | null; reason: string }> {
    await Promise.race([this.closedPromise, new Promise((r) => setTimeout(r, timeoutMs))]);
    return { code: this.closeCode, reason: this.closeReason };
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    }
    await this.closed(1000);
  }
}

/** What a run of cumulative OKs acknowledged. */
export interface AckCoverage {
  /** Sequences of the OKs, in arrival order. */
  sequences: bigint[];
  /** Highest sequence acknowledged (-1 when none). */
  highest: bigint;
  /** Latest seqTxn per table over all the OKs. */
  tables: Record<string, bigint>;
}

/**
 * Folds the OKs of `responses` as a client must: each OK acknowledges every
 * sequence up to its own and carries the tables committed since the last OK.
 * Throws if the OK sequences do not strictly increase (a server bug).
 */
export function ackCoverage(responses: readonly Response[]): AckCoverage {
  const out: AckCoverage = { sequences: [], highest: -1n, tables: {} };
  for (const r of responses) {
    if (r.kind !== 'ok') continue;
    if (r.sequence <= out.highest) {
      throw new Error(`OK sequence ${r.sequence} does not pass the previous ${out.highest}`);
    }
    out.sequences.push(r.sequence);
    out.highest = r.sequence;
    for (const t of r.tables) out.tables[t.name] = t.seqTxn;
  }
  return out;
}

/** Opens a QWP connection; rejects with the HTTP status on a refused upgrade. */
export function connect(
  url: string,
  headers: Record<string, string> = { 'X-QWP-Max-Version': '1', 'X-QWP-Client-Id': 'test/0' },
): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 3000 });
    const client = new TestClient(ws);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      const err = Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
        status: res.statusCode,
        headers: res.headers,
      });
      res.resume();
      ws.terminate();
      reject(err);
    });
    ws.once('error', (err) => reject(err));
  });
}

/**
 * Sends a GET with exactly `headers` over a raw socket (node's HTTP client
 * rewrites or hangs up on some upgrade headers) and parses the answer.
 */
export async function rawRequest(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const text = await rawExchange(port, requestText(path, headers, `127.0.0.1:${port}`));
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const out: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1] ?? 0),
    headers: out,
    body: split < 0 ? '' : text.slice(split + 4),
  };
}

/** The bytes of a request (GET unless told) for `path` with a Host and exactly `headers`, for a raw socket. */
export function requestText(
  path: string,
  headers: Record<string, string>,
  host = 'x',
  method = 'GET',
): string {
  let req = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`;
  return `${req}\r\n`;
}

/** Writes raw bytes to the port and collects what comes back until the peer closes (bounded). */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  timeoutMs = 2000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, timeoutMs);
    s.on('connect', () => s.write(bytes));
    s.on('data', (d) => {
      out += d.toString('latin1');
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      if (out !== '') resolve(out);
      else reject(err);
    });
  });
}

/** A valid 24-character Sec-WebSocket-Key. */
export const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The minimal upgrade headers a WebSocket client sends. */
export function upgradeHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': WS_KEY,
    ...extra,
  };
}
