import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { run, server, tempDir } from './run.js';

it('sf-restart.mjs: rows stored while the server is down survive a kill -9 and arrive on the next run', async () => {
  const s = await server();
  const sfDir = tempDir();
  const slot = join(sfDir, 'sf-example');
  const env = { QWP_ADDR: `127.0.0.1:${s.port}`, QWP_SF_DIR: sfDir };
  await s.stop(); // the server is down for the whole first run

  const first = await run('sf-restart.mjs', ['--crash'], env);
  expect(first.signal).toBe('SIGKILL');
  expect(first.stdout).toContain('recovered 0 unacknowledged frame(s)');
  expect(first.stdout).toContain('stored 1000 rows');
  expect(readdirSync(slot).some((f) => f.endsWith('.sfa'))).toBe(true);
  expect(s.rows('readings')).toHaveLength(0);

  await s.start();
  const second = await run('sf-restart.mjs', [], env);
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(/recovered [1-9]\d* unacknowledged frame\(s\)/);
  expect(second.stdout).toContain('everything acknowledged');

  // Both runs' rows, each exactly once.
  const byRun = new Map<string, number[]>();
  for (const row of s.rows('readings')) {
    const seqs = byRun.get(row.run as string) ?? [];
    seqs.push(Number(row.seq));
    byRun.set(row.run as string, seqs);
  }
  const all = Array.from({ length: 1000 }, (_, i) => i);
  expect([...byRun.values()]).toEqual([all, all]);
  // A fully acknowledged close leaves only the lock files.
  expect(readdirSync(slot).sort()).toEqual(['.lock', '.lock.pid']);
});
