import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SlotLockedError } from '@qwp/segment-log';
import { describe, expect, it } from 'vitest';
import { Sender } from '../src/index.js';
import { confFor, onCleanup, sender, server, tempDir, until, writeTrades } from './helpers.js';

const LONG = process.env.QWP_TEST_LONG === '1';
const SEED = Number(process.env.QWP_TEST_SEED ?? 20261202);
const PRODUCER = new URL('./fixtures/sf-producer.mjs', import.meta.url).pathname;

/** mulberry32: a small seeded generator, so a failing crash schedule can be replayed. */
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

function ids(rows: readonly Record<string, unknown>[]): number[] {
  return rows.map((r) => Number(r.qty)).sort((a, b) => a - b);
}

describe('store-and-forward mode', () => {
  it('keeps frames on disk across a restart and replays those never acknowledged', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const dir = tempDir();
    const conf = confFor(
      s,
      `sf_dir=${dir};sender_id=app;auto_flush=off;close_flush_timeout_millis=0;`,
    );
    const first = await Sender.fromConfig(conf, { on: { error: () => {} } });
    expect(first.stats().mode).toBe('sf');
    writeTrades(first, 0, 20);
    await first.drain(5000);
    s.neverAck(true);
    writeTrades(first, 20, 20);
    await first.flush();
    await until(() => s.rows('trades').length === 40, 5000, 'rows committed without an OK');
    await first.close(); // SF mode: no DataLossError, the frame stays in the slot
    s.resetFaults();
    await s.restart({ keepRows: false });

    const second = await sender(conf);
    await second.drain(5000);
    // The unacknowledged frame came back; the acknowledged one did not have to.
    expect(ids(s.rows('trades'))).toEqual(Array.from({ length: 20 }, (_, i) => 20 + i));
    expect(second.stats().publishedFsn).toBe(1);
    writeTrades(second, 40, 1);
    expect(await second.flush()).toBe(2); // FSNs continue where the slot left off
  });

  it('a second sender on the same slot fails, naming the holder', async () => {
    const s = await server();
    const dir = tempDir();
    const conf = confFor(s, `sf_dir=${dir};sender_id=shared;`);
    await sender(conf);
    const err = await Sender.fromConfig(conf).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlotLockedError);
    expect((err as SlotLockedError).holderPid).toBe(process.pid);
    expect((err as Error).message).toContain(String(process.pid));
  });

  it('a fully acknowledged close leaves a slot that reopens empty', async () => {
    const s = await server();
    const dir = tempDir();
    const conf = confFor(s, `sf_dir=${dir};sender_id=clean;auto_flush=off;`);
    const a = await Sender.fromConfig(conf);
    writeTrades(a, 0, 10);
    await a.close();
    expect(existsSync(`${dir}/clean`)).toBe(true);
    const frames = s.stats().frames;
    const b = await sender(conf);
    await b.drain(5000);
    expect(s.stats().frames).toBe(frames); // nothing re-sent
    expect(readdirSync(`${dir}/clean`)).toContain('.lock');
  });

  it(`SIGKILLed producers (${LONG ? 100 : 10} kills, seed ${SEED}) lose nothing flushed, corrupt nothing, re-send nothing acknowledged`, async () => {
    const random = rng(SEED);
    let generation = 0;
    const arrivals: { generation: number; ids: number[] }[] = [];
    const s = await server({
      dedup: { trades: ['qty'] },
      onCommit: (_t, rows) => arrivals.push({ generation, ids: rows.map((r) => Number(r.qty)) }),
    });
    const dir = tempDir();
    const conf = confFor(
      s,
      `sf_dir=${dir};sender_id=crash;auto_flush_rows=100;auto_flush_interval=off;initial_connect_retry=on;close_flush_timeout_millis=0;`,
    );
    let confirmed = -1; // the highest id whose flush() resolved: promised to survive
    const flushedAt = new Map<number, number>(); // fsn -> highest id in frames <= fsn
    let acked = -1; // highest acked FSN any producer reported
    const ackedIdsBefore: number[] = []; // per generation: ids acknowledged before it started

    const run = (mode: 'write' | 'drain', count: number) => {
      const child: ChildProcess = spawn(
        process.execPath,
        [PRODUCER, conf, String(confirmed + 1), String(count), mode],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      onCleanup(() => {
        child.kill('SIGKILL');
      });
      const lines = createInterface({ input: child.stdout! });
      let sawFlush = false;
      lines.on('line', (line) => {
        const m = JSON.parse(line) as { flushed?: number; fsn?: number; acked?: number };
        if (m.flushed !== undefined) {
          confirmed = Math.max(confirmed, m.flushed);
          flushedAt.set(m.fsn!, m.flushed);
          sawFlush = true;
        }
        if (m.acked !== undefined) acked = Math.max(acked, m.acked);
      });
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => resolve(code)),
      );
      return { child, exited, flushed: () => sawFlush };
    };
    const ackedIds = () => {
      let best = -1;
      for (const [fsn, id] of flushedAt) if (fsn <= acked && id > best) best = id;
      return best;
    };

    const kills = LONG ? 100 : 10;
    for (generation = 0; generation < kills; generation++) {
      ackedIdsBefore[generation] = ackedIds();
      const p = run('write', 1_000_000);
      await until(p.flushed, 20_000, `generation ${generation} flushing`);
      await new Promise((r) => setTimeout(r, 20 + Math.floor(random() * 300)));
      p.child.kill('SIGKILL');
      expect(await p.exited).toBe(null);
    }
    ackedIdsBefore[generation] = ackedIds();
    const last = run('drain', 0);
    expect(await last.exited).toBe(0);

    const stored = ids(s.rows('trades'));
    // Every flushed row is there once (DEDUP view), with its own values.
    expect(stored.slice(0, confirmed + 1)).toEqual(
      Array.from({ length: confirmed + 1 }, (_, i) => i),
    );
    for (const row of s.rows('trades')) {
      const id = Number(row.qty);
      expect(row.px).toBe(id * 0.5);
      expect(row.sym).toBe(['ETH-USD', 'BTC-USD', 'SOL-USD'][id % 3]);
      expect(row.timestamp).toBe(BigInt(1_700_000_000_000_000 + id));
    }
    // No producer re-sent a row acknowledged before it started.
    for (const a of arrivals) {
      const floor = ackedIdsBefore[a.generation] ?? -1;
      const resent = a.ids.filter((id) => id <= floor);
      expect(resent, `generation ${a.generation} re-sent acknowledged ids`).toEqual([]);
    }
    expect(confirmed).toBeGreaterThan(kills * 10);
  }, 120_000);
});
