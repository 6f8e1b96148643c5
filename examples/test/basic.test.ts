import { expect, it } from 'vitest';
import { run, server } from './run.js';

it('basic.mjs: two rows reach the server, acknowledged, with their values', async () => {
  const s = await server();
  const r = await run('basic.mjs', [], { QWP_ADDR: `127.0.0.1:${s.port}` });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/2 rows acknowledged/);
  const rows = s.rows('trades');
  expect(rows.map(({ symbol, side, price, amount }) => ({ symbol, side, price, amount }))).toEqual([
    { symbol: 'ETH-USD', side: 'sell', price: 2615.54, amount: 3n },
    { symbol: 'BTC-USD', side: 'buy', price: 39269.98, amount: 1n },
  ]);
  expect(rows[0]!.timestamp).toBe(rows[1]!.timestamp);
});

it('basic.mjs: no server, a clear error and exit code 1', async () => {
  const s = await server();
  await s.close(); // nothing listens on its port any more
  const r = await run('basic.mjs', [], { QWP_ADDR: `127.0.0.1:${s.port}` });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/ConnectError: cannot connect to 127\.0\.0\.1:\d+/);
});
