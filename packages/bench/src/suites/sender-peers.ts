/**
 * What the sender suites share: the two servers, each in its own child
 * process (`qwp serve --mode throughput` for @qwp/sender, a 204 HTTP sink
 * for the ILP client), the trades rows both clients write, and how each
 * client is opened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sender as IlpSender } from '@questdb/nodejs-client';
import { Sender } from '@qwp/sender';
import { fmt } from '../report.js';

/** A server running in a child process. */
export interface ChildServer {
  port: number;
  /** The line it printed when it started listening. */
  banner: string;
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** Runs `node script ...args` and resolves once it prints a line `ready` matches (group 1: the port). */
function startChild(script: string, args: string[], ready: RegExp): Promise<ChildServer> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The bench process must never leave a server behind, whatever ends it.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      kill();
      process.off('exit', kill);
      reject(new Error(`${script} did not report listening within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      process.off('exit', kill);
      reject(new Error(`${script} exited (code ${code}) before listening; stdout: ${out}`));
    };
    child.once('exit', onExit);
    child.stdout!.setEncoding('utf8');
    const onData = (chunk: string) => {
      out += chunk;
      for (const line of out.split('\n')) {
        const m = ready.exec(line);
        if (m === null) continue;
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // later lines (row counts) are read and dropped
        resolve({ port: Number(m[1]), banner: line.trim(), close: () => stop(child, kill) });
        return;
      }
    };
    child.stdout!.on('data', onData);
  });
}

async function stop(child: ChildProcess, kill: () => void): Promise<void> {
  process.off('exit', kill);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!inTime) {
    kill();
    await exited;
  }
}

/** The `qwp` command's entry point, from the workspace's @qwp/cli. */
function qwpBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@qwp/cli/package.json')), 'dist', 'bin.js');
}

/** The server's mode as `qwp serve` announced it, e.g. "throughput, sample 0.015625". */
export interface QwpServer extends ChildServer {
  mode: string;
}

/** `qwp serve --port 0 --mode throughput` in a child process. */
export async function startQwpServer(): Promise<QwpServer> {
  const server = await startChild(
    qwpBin(),
    ['serve', '--port', '0', '--mode', 'throughput', '--report-interval', '60000'],
    /^listening on ws:\/\/[^:]+:(\d+)\//,
  );
  const mode = /\(mode ([^)]*)\)/.exec(server.banner)?.[1] ?? 'unknown';
  return { ...server, mode };
}

/** The 204 HTTP sink (http-sink-child.js) in a child process. */
export function startHttpSink(): Promise<ChildServer> {
  const script = fileURLToPath(new URL('./http-sink-child.js', import.meta.url));
  return startChild(script, [], /^listening on http:\/\/[^:]+:(\d+)\//);
}

/** What the sink has read so far. */
export async function sinkStats(port: number): Promise<{ bytes: number; requests: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/bench-stats`);
  return (await res.json()) as { bytes: number; requests: number };
}

// ---- the rows ----

/** Rows per explicit flush in the throughput and RSS runs (both clients). */
export const FLUSH_ROWS = 65_536;
/** Distinct input rows, cycled; a power of two so the index is a mask. */
const BLOCK = 65_536;
const SYMBOLS = [
  'BTC-USD',
  'ETH-USD',
  'SOL-USD',
  'XRP-USD',
  'ADA-USD',
  'DOGE-USD',
  'DOT-USD',
  'AVAX-USD',
  'LINK-USD',
  'LTC-USD',
];
/** First timestamp, in microseconds (row i is at TS0 + i). */
const TS0 = 1_700_000_000_000_000;

/**
 * Deterministic trades(sym, px, qty) values, generated before any timing:
 * for the row API (sym, px, qty) and the same values as columns (symIdx
 * into SYMBOLS, px, qtyLong).
 */
export interface Trades {
  sym: string[];
  px: Float64Array;
  qty: Float64Array;
  /** Row k's symbol as an index into {@link symbolDictionary}. */
  symIdx: Uint8Array;
  /** qty as the BigInt64Array a LONG column takes. */
  qtyLong: BigInt64Array;
}

/** The symbol values, in the order symIdx refers to them. */
export const symbolDictionary: readonly string[] = SYMBOLS;

export function trades(): Trades {
  const out: Trades = {
    sym: [],
    px: new Float64Array(BLOCK),
    qty: new Float64Array(BLOCK),
    symIdx: new Uint8Array(BLOCK),
    qtyLong: new BigInt64Array(BLOCK),
  };
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  for (let i = 0; i < BLOCK; i++) {
    out.symIdx[i] = i % SYMBOLS.length;
    out.sym.push(SYMBOLS[out.symIdx[i]!]!);
    out.px[i] = 1000 + next() * 100;
    out.qty[i] = 1 + Math.floor(next() * 1000);
    out.qtyLong[i] = BigInt(out.qty[i]!);
  }
  return out;
}

/**
 * The designated timestamps (µs) of rows 0..n-1 as one BigInt64Array, the
 * values qwpRow() writes: a columnar caller holds its timestamps in an
 * array already, so they are built before any timing.
 */
export function timestampsUs(n: number): BigInt64Array {
  const out = new BigInt64Array(n);
  const t0 = BigInt(TS0);
  for (let i = 0; i < n; i++) out[i] = t0 + BigInt(i);
  return out;
}

/**
 * Writes rows start..end-1 (the rows qwpRow() writes one at a time) through
 * sender.columns(), one call per stretch of the cycled input: sym
 * dictionary-encoded, px a Float64Array, qty a BigInt64Array, the
 * timestamps a slice of `ts` (from {@link timestampsUs}). Views only, no
 * per-row work here.
 */
export function qwpColumns(
  s: Sender,
  d: Trades,
  ts: BigInt64Array,
  start: number,
  end: number,
): void {
  for (let i = start; i < end; ) {
    const k = i & (BLOCK - 1);
    const n = Math.min(end - i, BLOCK - k);
    s.columns(
      'trades',
      [
        {
          name: 'sym',
          type: 'SYMBOL',
          values: { dictionary: SYMBOLS, indices: d.symIdx.subarray(k, k + n) },
        },
        { name: 'px', type: 'DOUBLE', values: d.px.subarray(k, k + n) },
        { name: 'qty', type: 'LONG', values: d.qtyLong.subarray(k, k + n) },
      ],
      { timestamps: ts.subarray(i, i + n), unit: 'us' },
    );
    i += n;
  }
}

/** Writes row `i` (of any run) through @qwp/sender's row API. */
export function qwpRow(s: Sender, d: Trades, i: number): void {
  const k = i & (BLOCK - 1);
  s.table('trades')
    .symbol('sym', d.sym[k]!)
    .floatColumn('px', d.px[k]!)
    .intColumn('qty', d.qty[k]!)
    .at(TS0 + i, 'us');
}

/**
 * Writes row `i` through the ILP client. Its at() is async (it may
 * auto-flush); with auto_flush=off it never waits, so the promise is not
 * awaited: the peer's best case, no microtask per row.
 */
export function ilpRow(s: IlpSender, d: Trades, i: number): void {
  const k = i & (BLOCK - 1);
  void s
    .table('trades')
    .symbol('sym', d.sym[k]!)
    .floatColumn('px', d.px[k]!)
    .intColumn('qty', d.qty[k]!)
    .at(TS0 + i, 'us');
}

// ---- the clients ----

/** Extra connect-string keys of each `sf_durability` case. */
export const DURABILITY_MODES = ['memory', 'periodic', 'flush', 'append'] as const;
export type DurabilityMode = (typeof DURABILITY_MODES)[number];
/** sf_sync_interval_millis of the periodic case: short enough for several msyncs per run. */
export const PERIODIC_SYNC_MS = 100;

/** Where a @qwp/sender keeps its frames: memory, or an SF slot with one durability. */
export type QwpBuffer = { kind: 'memory' } | { kind: 'sf'; durability: DurabilityMode };

export function bufferLabel(b: QwpBuffer): string {
  return b.kind === 'memory' ? 'memory' : `sf, sf_durability=${b.durability}`;
}

/** The connect string of a QWP sender for `b` (explicit flushes only). */
export function qwpConf(port: number, b: QwpBuffer, sfDir?: string): string {
  let conf = `ws::addr=127.0.0.1:${port};auto_flush=off;`;
  if (b.kind === 'sf') {
    conf += `sf_dir=${sfDir};sender_id=bench;sf_durability=${b.durability};`;
    if (b.durability === 'periodic') conf += `sf_sync_interval_millis=${PERIODIC_SYNC_MS};`;
  }
  return conf;
}

/** A connected QWP sender for `b`; its close() also removes its temporary sf_dir. */
export async function openQwp(
  port: number,
  b: QwpBuffer,
): Promise<{ sender: Sender; close: () => Promise<void> }> {
  const dir = b.kind === 'sf' ? mkdtempSync(join(tmpdir(), 'qwp-bench-sf-')) : undefined;
  const cleanup = () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  let sender: Sender;
  try {
    sender = await Sender.fromConfig(qwpConf(port, b, dir));
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    sender,
    close: async () => {
      try {
        await sender.close();
      } finally {
        cleanup();
      }
    },
  };
}

/** The ILP client over HTTP into the sink: protocol v2 (binary doubles), explicit flushes only. */
export function openIlp(port: number): Promise<IlpSender> {
  return IlpSender.fromConfig(
    `http::addr=127.0.0.1:${port};protocol_version=2;auto_flush=off;init_buf_size=${8 * 1024 * 1024}`,
  );
}

/** The ILP client's version, read from its package.json. */
export function ilpVersion(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@questdb/nodejs-client');
  // dist/cjs/index.js sits three levels below the package root.
  const pkg = require(join(dirname(main), '..', '..', 'package.json')) as { version: string };
  return pkg.version;
}

/** "1-min load average 2.31 before, 1.90 after", for the notes. */
export function loadNote(before: number): string {
  return `1-min load average ${fmt(before)} before, ${fmt(loadavg()[0]!)} after (above ~1, other work shared the 2 cores).`;
}

export function loadNow(): number {
  return loadavg()[0]!;
}

/** The note every sender table carries about who shares the cores. */
export const CORES_NOTE =
  "The machine has 2 cores, shared by the producer (main thread), the sender's I/O worker thread and the server process (and the ILP client's HTTP stack on the main thread).";
