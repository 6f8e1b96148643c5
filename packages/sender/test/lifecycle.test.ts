import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { server } from './helpers.js';

const run = promisify(execFile);
const CHILD = new URL('./fixtures/idle-exit.mjs', import.meta.url).pathname;

describe('the process lifecycle', () => {
  it('an idle sender (no close()) never keeps the process alive', async () => {
    const s = await server();
    const t0 = Date.now();
    const { stdout } = await run(process.execPath, [CHILD, String(s.port), 'idle'], {
      timeout: 10_000,
    });
    expect(JSON.parse(stdout)).toEqual({ scenario: 'idle', acked: 0 });
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('a pending drain() keeps it alive until the server acknowledged', async () => {
    const s = await server({ faults: { ackDelayMs: 300 } });
    const { stdout } = await run(process.execPath, [CHILD, String(s.port), 'pending-drain'], {
      timeout: 10_000,
    });
    expect(JSON.parse(stdout)).toEqual({ scenario: 'pending-drain', acked: 0 });
    expect(s.rows('t')).toHaveLength(1);
  });
});
