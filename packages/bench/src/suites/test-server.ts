import { connect, type Socket } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { QwpBatch, QwpEncoder } from '@qwp/qwp-wire';
import { type ServerModeName, type ServerStats, startTestServer } from '@qwp/test-server';
import { fmt } from '../report.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';

/*
 * How fast @qwp/test-server absorbs frames, per mode, so a client benchmark
 * can show the server was not its bottleneck. The server runs in a worker
 * thread (as `qwp serve` would in its own process); the main thread is a
 * minimal WebSocket client that only writes pre-encoded frames and reads the
 * cumulative OKs, keeping at most WINDOW frames unacknowledged.
 */

const ROWS_PER_FRAME = 1000;
const DISTINCT_FRAMES = 16;
/** The spec's "max in-flight batches". */
const WINDOW = 128;
const SYMBOLS = ['BTC-USD', 'ETH-USD', 'SOL-USD', 'XRP-USD', 'ADA-USD', 'DOGE-USD', 'DOT-USD'];

interface ServerConfig {
  mode: ServerModeName;
  sampleRate: number;
}

interface WorkerRequest {
  qwpBenchTestServer: ServerConfig;
}

/** Worker side: runs the server, reports its port, answers 'stats' and 'close'. */
async function serveInWorker(config: ServerConfig): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const server = await startTestServer({ port: 0, ...config });
  port.on('message', (m: string) => {
    if (m === 'stats') port.postMessage({ stats: server.stats() });
    if (m === 'close') {
      void server.close().then(() => port.close());
    }
  });
  port.postMessage({ port: server.port });
}

const request = workerData as WorkerRequest | null;
if (!isMainThread && request?.qwpBenchTestServer !== undefined) {
  await serveInWorker(request.qwpBenchTestServer);
}

function fillTrades(batch: QwpBatch, next: () => number, ts: bigint): bigint {
  const t = batch.table('trades');
  let at = ts;
  for (let i = 0; i < ROWS_PER_FRAME; i++) {
    at += 1000n;
    t.symbol('sym', SYMBOLS[i % SYMBOLS.length]!)
      .longColumn('qty', 1 + Math.floor(next() * 1000))
      .doubleColumn('px', 1000 + next() * 100)
      .at(at, 'ns');
  }
  return at;
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

/** `DISTINCT_FRAMES` frames of trades rows from one encoder: the first registers the symbols. */
function encodeFrames(): Uint8Array[] {
  const batch = new QwpBatch();
  const enc = new QwpEncoder(batch.symbols);
  const next = lcg(7);
  let ts = 1_700_000_000_000_000_000n;
  const frames: Uint8Array[] = [];
  for (let f = 0; f < DISTINCT_FRAMES; f++) {
    ts = fillTrades(batch, next, ts);
    const out = enc.encode(batch.tables());
    if (out.length !== 1) throw new Error(`expected one frame per batch, got ${out.length}`);
    frames.push(out[0]!);
    batch.clear();
  }
  return frames;
}

/** Rows per second of the row API + encode for the same rows, after a warm-up. */
function encoderRate(batches: number): number {
  const batch = new QwpBatch();
  const enc = new QwpEncoder(batch.symbols);
  const next = lcg(11);
  let ts = 1_700_000_000_000_000_000n;
  const once = () => {
    ts = fillTrades(batch, next, ts);
    enc.encode(batch.tables());
    batch.clear();
  };
  for (let i = 0; i < 20; i++) once();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) once();
  return (batches * ROWS_PER_FRAME) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function startServer(config: ServerConfig): Promise<{ worker: Worker; port: number }> {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { qwpBenchTestServer: config } satisfies WorkerRequest,
  });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { port: number }) => resolve({ worker, port: m.port }));
  });
}

function serverStats(worker: Worker): Promise<ServerStats> {
  return new Promise((resolve) => {
    worker.once('message', (m: { stats: ServerStats }) => resolve(m.stats));
    worker.postMessage('stats');
  });
}

/** A WebSocket binary frame header with an all-zero mask, so the payload goes out as is. */
function wsHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x82, 0x80 | length, 0, 0, 0, 0]);
  if (length <= 0xffff) {
    const h = Buffer.from([0x82, 0x80 | 126, 0, 0, 0, 0, 0, 0]);
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.alloc(14);
  h[0] = 0x82;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

function upgrade(port: number): Promise<{ sock: Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const status = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1');
      if (!status.includes(' 101 ')) {
        sock.destroy();
        reject(new Error(`upgrade refused: ${status}`));
        return;
      }
      resolve({ sock, rest: buf.subarray(end + 4) });
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.write(
        'GET /write/v4 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
          'X-QWP-Max-Version: 1\r\nX-QWP-Client-Id: bench/test-server\r\n\r\n',
      );
    });
  });
}

/**
 * Sends `total` frames (cycling through `frames`) and resolves with the
 * seconds until an OK covers the last one. Any error frame or close fails
 * the run: a benchmark against a server that refuses its frames measures nothing.
 */
async function blast(port: number, frames: Uint8Array[], total: number): Promise<number> {
  const { sock, rest } = await upgrade(port);
  const headers = frames.map((f) => wsHeader(f.length));
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = -1;
    let buf = rest;
    const t0 = process.hrtime.bigint();
    const fail = (err: Error) => {
      sock.destroy();
      reject(err);
    };
    // Set while a 'drain' listener is pending: an OK arriving meanwhile must
    // not write into the full buffer nor add a second listener.
    let draining = false;
    const onDrain = () => {
      draining = false;
      pump();
    };
    const pump = () => {
      if (draining) return;
      while (sent < total && sent - acked - 1 < WINDOW) {
        const i = sent % frames.length;
        sock.write(headers[i]!);
        const more = sock.write(frames[i]!);
        sent++;
        if (!more) {
          draining = true;
          sock.once('drain', onDrain);
          return;
        }
      }
    };
    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      // Server frames are unmasked; OKs are small, but read any length.
      while (buf.length >= 2) {
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + len) return;
        const payload = buf.subarray(at, at + len);
        buf = buf.subarray(at + len);
        if (opcode === 0x08) return fail(new Error('server closed the connection'));
        if (opcode !== 0x02 || payload.length === 0) continue;
        const status = payload[0]!;
        if (status === 0x00) {
          acked = Number(payload.readBigInt64LE(1));
          if (acked === total - 1) {
            const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
            sock.destroy();
            resolve(seconds);
            return;
          }
          pump();
        } else if (status !== 0x02 && status !== 0x0e) {
          return fail(new Error(`server answered status 0x${status.toString(16)}`));
        }
      }
    });
    sock.once('error', fail);
    pump();
  });
}

/** Server-side ingest rate of @qwp/test-server in each mode, against the encoder's own rate. */
export const testServerSuite: Suite = {
  name: 'test-server',
  description:
    '@qwp/test-server: frames/s and rows/s it absorbs per mode (server in a worker thread, raw client)',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const frames = encodeFrames();
    const encodeRowsPerSec = encoderRate(options.quick ? 50 : 500);
    const frameBytes = frames.reduce((n, f) => n + f.length, 0) / frames.length;
    const configs: { label: string; config: ServerConfig; frames: number }[] = [
      {
        label: 'throughput, sample 1/64 (benchmark default)',
        config: { mode: 'throughput', sampleRate: 1 / 64 },
        frames: options.quick ? 400 : 4000,
      },
      {
        label: 'throughput, sample 1 (every frame decoded, no rows kept)',
        config: { mode: 'throughput', sampleRate: 1 },
        frames: options.quick ? 200 : 1000,
      },
      {
        label: 'strict (every frame decoded, rows stored)',
        config: { mode: 'strict', sampleRate: 1 },
        frames: options.quick ? 100 : 400,
      },
    ];
    const rows: (string | number)[][] = [];
    const data: unknown[] = [];
    for (const { label, config, frames: total } of configs) {
      const { worker, port } = await startServer(config);
      try {
        const seconds = await blast(port, frames, total);
        const stats = await serverStats(worker);
        if (stats.frames !== total) {
          throw new Error(`server counted ${stats.frames} frames, ${total} sent`);
        }
        const rowsPerSec = (total * ROWS_PER_FRAME) / seconds;
        rows.push([
          label,
          stats.mode,
          fmt(stats.framesDecoded / stats.frames, 3),
          fmt(total / seconds, 0),
          fmt(rowsPerSec / 1e6),
          fmt((total * frameBytes) / seconds / 2 ** 20, 1),
          fmt(rowsPerSec / encodeRowsPerSec, 1),
        ]);
        data.push({ label, ...config, totalFrames: total, seconds, rowsPerSec, stats });
      } finally {
        worker.postMessage('close');
        await new Promise((resolve) => worker.once('exit', resolve));
      }
    }
    return {
      suite: 'test-server',
      notes: [
        `Server mode named per row (the mode the server reported in stats()); ${ROWS_PER_FRAME}-row trades frames (${fmt(frameBytes, 0)} bytes, sym SYMBOL, qty LONG, px DOUBLE, ts TIMESTAMP_NANOS, Gorilla), cumulative OKs, at most ${WINDOW} frames unacknowledged, one connection.`,
        'The server runs in a worker thread, the client on the main thread; the machine has 2 cores shared by producer and server.',
        `"x encoder" is the server's rows/s over this machine's row API + encode rate for the same rows (${fmt(encodeRowsPerSec / 1e6)} M rows/s, measured in this run after a warm-up): above 1, the server outpaces a single producer.`,
      ],
      columns: [
        'server mode',
        'stats().mode',
        'decoded fraction',
        'frames/s',
        'M rows/s',
        'MiB/s',
        'x encoder',
      ],
      rows,
      data: { rowsPerFrame: ROWS_PER_FRAME, frameBytes, encodeRowsPerSec, runs: data },
    };
  },
};
