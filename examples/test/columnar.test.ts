import { expect, it } from 'vitest';
import { run, server } from './run.js';

it('columnar.mjs: 200,000 rows from typed arrays, with symbols, nulls and timestamps', async () => {
  const s = await server();
  const r = await run('columnar.mjs', [], { QWP_ADDR: `127.0.0.1:${s.port}` }, 60_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/200000 rows acknowledged/);
  const rows = s.rows('measurements');
  expect(rows).toHaveLength(200_000);
  const sensors = ['s-01', 's-02', 's-03', 's-04'];
  for (const i of [0, 9, 123, 54_321, 199_999]) {
    const row = rows[i]!;
    expect(row.count).toBe(BigInt(i));
    expect(row.sensor).toBe(sensors[i % 4]);
    expect(row.temperature).toBe(i % 10 === 9 ? null : 20 + (i % 100) / 10);
    expect((row.timestamp as bigint) - (rows[0]!.timestamp as bigint)).toBe(BigInt(i));
  }
});
