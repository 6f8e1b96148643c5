import { expect, it } from 'vitest';
import { server, start, until, within } from './run.js';

it('failover.mjs: the first server dies mid-stream; the rest goes to the second, nothing lost', async () => {
  const a = await server();
  const b = await server();
  const r = start('failover.mjs', [], { QWP_ADDR: `127.0.0.1:${a.port},127.0.0.1:${b.port}` });
  await until(() => a.rows('events').length >= 500, 20_000, 'rows at the first server');
  await a.stop();
  const end = await within(r.exited, 30_000, 'failover.mjs to exit');
  expect(r.stderr).toBe('');
  expect(end.code).toBe(0);
  expect(r.stdout).toContain(`connected to 127.0.0.1:${a.port}`);
  expect(r.stdout).toContain(`failover: 127.0.0.1:${a.port} -> 127.0.0.1:${b.port}`);
  expect(r.stdout).toMatch(/4000 rows acknowledged after [1-9]\d* reconnect\(s\)/);
  expect(b.rows('events').length).toBeGreaterThan(0);
  // Every id reached one server or the other (frames unacknowledged at the cut were replayed to b).
  const ids = new Set([...a.rows('events'), ...b.rows('events')].map((row) => Number(row.id)));
  expect(ids.size).toBe(4000);
  expect(Math.min(...ids)).toBe(0);
  expect(Math.max(...ids)).toBe(3999);
});
