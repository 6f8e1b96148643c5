/**
 * `qwp send --sf-dir` survives a crash: a child `qwp send` is SIGKILLed
 * mid-import (at seeded points, once in CI, three times under
 * QWP_TEST_LONG=1), the same command is run again, and every row must be
 * in the test server's DEDUP view exactly once with its own values.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE } from '../src/send/checkpoint.js';
import { Fixture } from './send-helpers.js';

const SEED = Number(process.env.QWP_TEST_SEED ?? 20261123);
const LONG = process.env.QWP_TEST_LONG === '1';
const ROWS = LONG ? 1_500_000 : 300_000;
const KILLS = LONG ? 3 : 1;
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const T0 = 1_700_000_000_000_000;
const SYMS = ['BTC-USD', 'ETH-USD', 'SOL-USD'];

/** mulberry32: a small seeded uniform [0, 1) source. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function px(id: number): number {
  return 1000 + (id % 997) / 4;
}

async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('id,ts,sym,px\n');
  let chunk = '';
  for (let id = 0; id < rows; id++) {
    chunk += `${id},${T0 + id},${SYMS[id % 3]},${px(id)}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', () => r(undefined)));
      chunk = '';
    }
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(chunk, resolve);
  });
}

interface Child {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

function start(args: string[]): Child {
  const proc = spawn(process.execPath, [BIN, 'send', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { proc, out: () => out, err: () => err, exited };
}

/** Rows the checkpoint says are stored, or -1 while there is none. */
function checkpointRows(path: string): number {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { rows: number }).rows;
  } catch {
    return -1;
  }
}

const fixtures: Fixture[] = [];

afterEach(async () => {
  for (const c of children.splice(0))
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of fixtures.splice(0)) await f.close();
});

describe('qwp send --sf-dir after SIGKILL', () => {
  it(
    `resumes where the checkpoint says and loses no row (seed ${SEED}, ${KILLS} kill(s), ${ROWS} rows)`,
    async () => {
      const random = rng(SEED);
      const f = await Fixture.start({ dedup: { k: ['id'] } });
      fixtures.push(f);
      const csv = f.path('k.csv');
      await writeCsv(csv, ROWS);
      const sf = join(f.dir, 'sf');
      const checkpoint = join(sf, 'qwp-send-k', CHECKPOINT_FILE);
      const args = [
        csv,
        '--table',
        'k',
        '--conf',
        `ws::addr=127.0.0.1:${f.server.port};reconnect_initial_backoff_millis=50;`,
        '--sf-dir',
        sf,
        '--timestamp',
        'ts',
        '--unit',
        'us',
        '--symbols',
        'sym',
      ];
      let killedAt = 0;
      for (let k = 0; k < KILLS; k++) {
        // A kill point past the last one, then a random delay so the kill can
        // land anywhere between a flush and the checkpoint after it.
        // At most 60% in and 50 ms late: an import of a few hundred thousand rows
        // runs at several hundred thousand rows/s here, and must not finish first.
        const span = (ROWS * 0.6 - killedAt) / (KILLS - k);
        const threshold = Math.floor(killedAt + span * (0.2 + 0.8 * random()));
        const delayMs = Math.floor(random() * 50);
        const child = start(args);
        const deadline = Date.now() + 30_000;
        let rows = checkpointRows(checkpoint);
        for (; rows < threshold; rows = checkpointRows(checkpoint)) {
          if (child.proc.exitCode !== null) break;
          if (Date.now() > deadline)
            throw new Error(`no checkpoint past ${threshold} rows in 30 s: ${child.err()}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        await new Promise((r) => setTimeout(r, delayMs));
        child.proc.kill('SIGKILL');
        const end = await child.exited;
        // The import must still have been running: a finished one proves nothing.
        expect(end.signal, `run ${k} ended before the kill: ${child.out()}${child.err()}`).toBe(
          'SIGKILL',
        );
        killedAt = Math.max(killedAt, rows);
        if (k > 0) expect(child.err()).toMatch(/resuming: rows before [\d,]+/);
      }
      const stored = checkpointRows(checkpoint);
      expect(stored).toBeGreaterThan(0);

      const last = start(args);
      const end = await last.exited;
      expect(end.code, last.err()).toBe(0);
      expect(last.err()).toMatch(
        /resuming: rows before [\d,]+ \(through line \d+\) are stored in the slot/,
      );
      // The last run read past the stored rows instead of sending them again.
      const sent = Number(/rows sent\s+([\d,]+)/.exec(last.out())![1]!.replaceAll(',', ''));
      expect(sent).toBe(ROWS - stored);
      expect(last.out()).toMatch(
        new RegExp(`rows acknowledged\\s+${ROWS.toLocaleString('en-US')}\\n`),
      );
      expect(existsSync(checkpoint)).toBe(false);

      // Every row exactly once (DEDUP on ts + id), with its own values.
      const seen = new Uint8Array(ROWS);
      let wrong = 0;
      const all = f.server.rows('k');
      for (const row of all) {
        const id = Number(row.id);
        if (
          row.timestamp !== BigInt(T0 + id) ||
          row.sym !== SYMS[id % 3] ||
          row.px !== px(id) ||
          seen[id] === 1
        ) {
          wrong++;
        } else {
          seen[id] = 1;
        }
      }
      expect(wrong).toBe(0);
      expect(seen.indexOf(0)).toBe(-1);
      expect(all).toHaveLength(ROWS);
    },
    LONG ? 300_000 : 90_000,
  );
});
