import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@qwp/test-server';
import { demoRow, type ProducerReport } from '../demo/rows.js';
import { bytes, count } from '../format.js';
import type { Command } from '../io.js';
import { parseCommandLine, UsageError } from '../io.js';
import { Progress as ProgressLine } from '../progress.js';

const HELP = `usage: qwp demo [--rows N] [--keep]

Shows store-and-forward at work, with nothing to install: starts a QWP test
server on loopback, streams N rows (default 2,000,000) through a sender whose
buffer is a slot in a temporary directory, restarts the server mid-stream,
kills the producer (SIGKILL) and starts a new one on the same slot, then counts
what arrived: rows sent, rows committed (DEDUP on id) and rows lost, which must
be 0. Exits 0 when nothing was lost or corrupted, 1 otherwise.

  --rows N    rows to send (10,000 .. 100,000,000; default 2,000,000)
  --keep      keep the slot directory and print its path
`;

/**
 * When each disruption happens: the server restarts once this fraction of
 * the rows is acknowledged (or right after the kill, if that came first), the
 * producer is killed once this fraction is in its slot.
 */
const SERVER_RESTART_AT = 0.3;
const PRODUCER_KILL_AT = 0.6;
/** How long the restarted server stays down. */
const SERVER_DOWN_MS = 800;

/** The producer's script and the Node flags to fork it with. */
function producerEntry(): { path: string; execArgv: string[] } {
  if (!import.meta.url.endsWith('.ts')) {
    return {
      path: fileURLToPath(new URL('../demo/producer.js', import.meta.url)),
      execArgv: process.execArgv,
    };
  }
  // Running from TypeScript sources (this package's tests): fork the built
  // dist/ and drop the `source` export condition the test runner adds, so the
  // child resolves every package to its dist/ too.
  const execArgv: string[] = [];
  const inherited = process.execArgv;
  for (let i = 0; i < inherited.length; i++) {
    const arg = inherited[i]!;
    if (arg === '--conditions' || arg === '-C') i++;
    else if (!arg.startsWith('--conditions=')) execArgv.push(arg);
  }
  return { path: fileURLToPath(new URL('../../dist/demo/producer.js', import.meta.url)), execArgv };
}

interface Progress {
  written: number;
  flushedId: number;
  ackedRows: number;
  storeBytes: number;
  connected: boolean;
  phase: string;
}

/** `qwp demo`: the main job of this repository. */
export const demo: Command = async (argv, io) => {
  const { values } = parseCommandLine({
    args: argv,
    strict: true,
    options: {
      rows: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  const rows = Number(values.rows ?? 2_000_000);
  if (!Number.isInteger(rows) || rows < 10_000 || rows > 100_000_000) {
    throw new UsageError(`--rows must be an integer in [10000, 100000000], got '${values.rows}'`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'qwp-demo-'));
  const status = new Status(io.stdout);
  const server = await startTestServer({ dedup: { demo: ['id'] }, frameLogLimit: 0 });
  try {
    return await run(server, dir, rows, status);
  } finally {
    await server.close();
    if (values.keep === true) status.log(`slot kept in ${join(dir, 'demo')}`);
    else rmSync(dir, { recursive: true, force: true });
  }
};

async function run(server: TestServer, dir: string, rows: number, status: Status): Promise<number> {
  const conf =
    `ws::addr=127.0.0.1:${server.port};sf_dir=${dir};sender_id=demo;` +
    'initial_connect_retry=on;reconnect_initial_backoff_millis=50;reconnect_max_backoff_millis=400;';
  status.log(`qwp demo: ${count(rows)} rows -> test server ${server.url} (strict, DEDUP on id)`);
  status.log(`store-and-forward slot: ${join(dir, 'demo')}`);
  const p: Progress = {
    written: 0,
    flushedId: -1,
    ackedRows: 0,
    storeBytes: 0,
    connected: false,
    phase: 'streaming',
  };
  const flushes: { fsn: number; id: number }[] = [];
  const started = performance.now();
  let restarted = false;
  let killed = false;
  const secs = () => (performance.now() - started) / 1000;
  status.start(
    rows,
    () =>
      `${count(p.written)}/${count(rows)} rows  ` +
      `${(p.written / Math.max(secs(), 0.001) / 1e6).toFixed(2)} M rows/s  ` +
      `acked ${count(p.ackedRows)}  on disk ${bytes(p.storeBytes)}  ` +
      `${p.connected ? 'connected' : 'disconnected'}  | ${p.phase}`,
  );
  const ticker = setInterval(() => status.update(p.written), 100);
  try {
    let producer = startProducer(conf, 0, rows, p, flushes);
    // The kill comes first whenever both are due: a producer that wrote
    // everything is alive only until its last ACK, while the server can
    // restart any time, even under the new producer.
    const killDue = () => p.flushedId + 1 >= rows * PRODUCER_KILL_AT;
    const restartDue = () => killed || p.ackedRows >= rows * SERVER_RESTART_AT;
    const disruptions = (async () => {
      while (!(restarted && killed)) {
        await waitFor(
          () => producer.finished || (!killed && killDue()) || (!restarted && restartDue()),
        );
        if (producer.finished) return;
        if (!killed && killDue()) {
          killed = true;
          status.log(
            `>> SIGKILL of the producer: ${count(p.written)} rows written, ${count(p.ackedRows)} acknowledged, the rest only on disk`,
          );
          await producer.kill();
          const from = p.flushedId + 1;
          p.phase = 'new producer: recovering the slot and replaying';
          status.log(`>> new producer on the same slot, resuming at row ${count(from)}`);
          producer = startProducer(conf, from, rows, p, flushes);
          continue;
        }
        restarted = true;
        const phase = p.phase;
        p.phase = `server restarting (down ${SERVER_DOWN_MS} ms)`;
        status.log(
          `>> restarting the server: ${count(p.written)} rows written, ${count(p.ackedRows)} acknowledged`,
        );
        await server.restart({ keepRows: true, downMs: SERVER_DOWN_MS });
        p.phase = `${phase} (after the server restart)`;
      }
    })();
    await disruptions;
    const code = await producer.exited;
    if (code !== 0) {
      status.log(`producer failed (exit ${code}): ${producer.lastError ?? 'no message'}`);
      return 1;
    }
  } finally {
    clearInterval(ticker);
    status.update(p.written);
    status.stop();
  }
  const elapsed = secs();
  const verdict = verify(server, rows);
  status.log(
    `\nrows sent       ${count(rows)}\n` +
      `rows committed  ${count(verdict.committed)} (DEDUP view)\n` +
      `rows lost       ${count(verdict.lost)}\n` +
      `rows corrupted  ${count(verdict.corrupted)}\n` +
      `server restarts ${restarted ? 1 : 0}, producer kills ${killed ? 1 : 0}, ` +
      `${elapsed.toFixed(1)} s, ${(rows / elapsed / 1e6).toFixed(2)} M rows/s end to end ` +
      '(2 CPU cores shared by producer, its I/O thread and the server)',
  );
  return verdict.lost === 0 && verdict.corrupted === 0 ? 0 : 1;
}

/**
 * The demo's status line (cli-progress: redrawn on a terminal, a plain line
 * every 2 s elsewhere) with its event lines printed above it.
 */
class Status {
  private progress: ProgressLine | null = null;

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean }) {}

  start(total: number, text: () => string): void {
    this.progress = new ProgressLine(this.out as never, { format: (s) => `[${s.bar}] ${text()}` });
    this.progress.start(total);
  }

  update(written: number): void {
    this.progress?.update(written);
  }

  log(text: string): void {
    if (this.progress !== null) this.progress.log(text);
    else this.out.write(`${text}\n`);
  }

  stop(): void {
    this.progress?.stop();
    this.progress = null;
  }
}

interface RunningProducer {
  readonly exited: Promise<number>;
  readonly finished: boolean;
  readonly lastError: string | undefined;
  kill(): Promise<void>;
}

function startProducer(
  conf: string,
  first: number,
  end: number,
  p: Progress,
  flushes: { fsn: number; id: number }[],
): RunningProducer {
  const entry = producerEntry();
  const child: ChildProcess = fork(entry.path, [conf, String(first), String(end)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: entry.execArgv,
  });
  let finished = false;
  let lastError: string | undefined;
  child.on('message', (m: ProducerReport) => {
    switch (m.type) {
      case 'flushed':
        p.flushedId = Math.max(p.flushedId, m.id);
        p.written = Math.max(p.written, m.id + 1);
        flushes.push({ fsn: m.fsn, id: m.id });
        return;
      case 'stats': {
        p.written = Math.max(p.written, m.written);
        p.storeBytes = m.storeBytes;
        p.connected = m.connected;
        let acked = -1;
        for (const f of flushes) if (f.fsn <= m.ackedFsn && f.id > acked) acked = f.id;
        p.ackedRows = acked + 1;
        return;
      }
      case 'done':
        finished = true;
        return;
      case 'error':
        lastError = m.message;
        return;
    }
  });
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      finished = true;
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
  return {
    exited,
    get finished() {
      return finished;
    },
    get lastError() {
      return lastError;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function waitFor(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (check()) {
        clearInterval(t);
        resolve();
      }
    }, 10);
  });
}

/** Counts the committed rows: ids missing from 0..rows-1, and rows whose values are not their id's. */
function verify(
  server: TestServer,
  rows: number,
): { committed: number; lost: number; corrupted: number } {
  const seen = new Uint8Array(rows);
  let corrupted = 0;
  const stored = server.rows('demo');
  for (const row of stored) {
    const id = Number(row.id);
    const want = Number.isInteger(id) && id >= 0 && id < rows ? demoRow(id) : undefined;
    if (
      want === undefined ||
      row.sym !== want.sym ||
      row.px !== want.px ||
      row.qty !== BigInt(want.qty) ||
      row.timestamp !== BigInt(want.ts)
    ) {
      corrupted++;
      continue;
    }
    seen[id] = 1;
  }
  let lost = 0;
  for (let i = 0; i < rows; i++) if (seen[i] === 0) lost++;
  return { committed: stored.length, lost, corrupted };
}
