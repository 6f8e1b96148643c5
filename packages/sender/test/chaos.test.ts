import type { TestServer } from '@qwp/test-server';
import { describe, expect, it } from 'vitest';
import { confFor as oneServer, sender, server, tempDir } from './helpers.js';

const LONG = process.env.QWP_TEST_LONG === '1';
const SEED = Number(process.env.QWP_TEST_SEED ?? 20261202);
const DURATION_MS = LONG ? 10 * 60_000 : 60_000;
const SYMS = ['ETH-USD', 'BTC-USD', 'SOL-USD'];

/** mulberry32, seeded so a failing schedule can be replayed. */
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

describe('chaos', () => {
  it(
    `three servers restarting, dropping and changing roles for ${DURATION_MS / 1000} s (seed ${SEED}): every row exactly once, none lost`,
    async () => {
      const random = rng(SEED);
      // The union of what every server committed, by row id: a cluster's DEDUP view.
      const committed = new Map<number, Record<string, unknown>>();
      let commits = 0;
      const servers: TestServer[] = [];
      for (let i = 0; i < 3; i++) {
        servers.push(
          await server({
            dedup: { trades: ['qty'] },
            frameLogLimit: 0,
            onCommit: (_t, rows) => {
              commits++;
              for (const r of rows) committed.set(Number(r.qty), r);
            },
          }),
        );
      }
      const addr = servers.map((s) => `127.0.0.1:${s.port}`).join(',');
      const dir = tempDir();
      const errors: Error[] = [];
      const snd = await sender(
        `${oneServer(servers[0]!).replace(/addr=[^;]*;/, `addr=${addr};`)}sf_dir=${dir};sender_id=chaos;` +
          'auto_flush_rows=500;auto_flush_interval=20;reconnect_initial_backoff_millis=20;reconnect_max_backoff_millis=200;',
        { on: { error: (e) => errors.push(e) } },
      );

      const events: string[] = [];
      const roles: string[] = servers.map(() => 'PRIMARY');
      let stop = false;
      const chaos = (async () => {
        while (!stop) {
          await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 400)));
          if (stop) break;
          const k = Math.floor(random() * servers.length);
          const s = servers[k]!;
          const roll = random();
          if (roll < 0.25) {
            events.push(`restart ${k}`);
            await s.restart({ keepRows: true, downMs: Math.floor(random() * 300) });
          } else if (roll < 0.5) {
            events.push(`drop ${k}`);
            s.dropConnections();
          } else if (roll < 0.7) {
            events.push(`replica ${k}`);
            s.setRole('REPLICA');
            roles[k] = 'REPLICA';
          } else if (roll < 0.85) {
            events.push(`primary ${k}`);
            s.setRole('PRIMARY');
            roles[k] = 'PRIMARY';
          } else {
            events.push(`flaky ${k}`);
            s.dropAtRandom(0.05, Math.floor(random() * 1e9));
            setTimeout(() => s.resetFaults(), 300);
          }
          // A cluster always gets a primary back eventually.
          if (!roles.includes('PRIMARY') && random() < 0.5) {
            const p = Math.floor(random() * servers.length);
            events.push(`promote ${p}`);
            servers[p]!.setRole('PRIMARY');
            roles[p] = 'PRIMARY';
          }
        }
      })();

      let id = 0;
      const t0 = Date.now();
      while (Date.now() - t0 < DURATION_MS) {
        for (let i = 0; i < 200; i++, id++) {
          snd
            .table('trades')
            .symbol('sym', SYMS[id % 3]!)
            .floatColumn('px', id / 4)
            .intColumn('qty', id)
            .at(1_700_000_000_000_000 + id, 'us');
        }
        await snd.flush();
        await new Promise((r) => setTimeout(r, 10));
      }
      stop = true;
      await chaos;
      for (const s of servers) {
        s.resetFaults();
        s.setRole('PRIMARY');
      }
      await snd.drain(60_000);

      const missing: number[] = [];
      let corrupt = 0;
      for (let i = 0; i < id; i++) {
        const row = committed.get(i);
        if (row === undefined) {
          missing.push(i);
          continue;
        }
        if (
          row.px !== i / 4 ||
          row.sym !== SYMS[i % 3] ||
          row.timestamp !== BigInt(1_700_000_000_000_000 + i)
        ) {
          corrupt++;
        }
      }
      expect(missing.slice(0, 10), `missing of ${id} (events: ${events.join(', ')})`).toEqual([]);
      expect(corrupt).toBe(0);
      expect(committed.size).toBe(id);
      const stats = snd.stats();
      // The chaos really happened: connections were lost and frames replayed.
      expect(stats.reconnects).toBeGreaterThan(5);
      expect(commits).toBeGreaterThan(0);
      // Incidents were reported, none terminal (drain() would have thrown it).
      expect(errors.every((e) => (e as { policy?: string }).policy !== 'terminal')).toBe(true);
    },
    DURATION_MS + 120_000,
  );
});
