import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { markSlotFailed } from '@qwp/segment-log';
import { Sender } from '@qwp/sender';
import { startTestServer, type TestServer } from '@qwp/test-server';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  const code = await main(['sf', 'drain', ...args], { stdin: new PassThrough(), stdout, stderr });
  return { code, out, err };
}

/** A slot with `rows` rows the server never acknowledged (closed without waiting). */
async function leftOver(server: TestServer, dir: string, id: string, rows: number): Promise<void> {
  server.neverAck(true);
  const s = await Sender.fromConfig(
    `ws::addr=127.0.0.1:${server.port};sf_dir=${dir};sender_id=${id};auto_flush=off;close_flush_timeout_millis=0;`,
  );
  for (let i = 0; i < rows; i++)
    s.table('t')
      .intColumn('v', i)
      .at(1000 + i, 'us');
  await s.flush();
  await s.close();
  server.neverAck(false);
}

describe('qwp sf drain', () => {
  it('sends what a slot holds, reports progress and cleans the slot up', async () => {
    const server = await startTestServer({ dedup: { t: ['v'] } });
    cleanups.push(() => server.close());
    const dir = mkdtempSync(join(tmpdir(), 'qwp-sf-drain-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await leftOver(server, dir, 'gone', 500);
    await server.restart({ keepRows: false });
    const r = await run([
      join(dir, 'gone'),
      '--conf',
      `ws::addr=127.0.0.1:${server.port};sf_dir=/elsewhere;`,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/drained: every frame of .*gone is acknowledged/);
    expect(r.err).toMatch(/acknowledged \d+\/\d+ frames/);
    expect(server.rows('t')).toHaveLength(500);
    expect(readdirSync(join(dir, 'gone')).sort()).toEqual(['.lock', '.lock.pid']);
  });

  it('refuses a slot marked .failed, and qwp sf alone lists its commands', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    const dir = mkdtempSync(join(tmpdir(), 'qwp-sf-drain-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await leftOver(server, dir, 'bad', 10);
    markSlotFailed(join(dir, 'bad'), 'a test said so');
    const r = await run([join(dir, 'bad'), '--conf', `ws::addr=127.0.0.1:${server.port};`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/marked failed \(a test said so\); fix the cause, remove .*\.failed/);
    expect(server.rows('t')).toHaveLength(10); // only the first, unacknowledged copy: nothing re-sent
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (d) => {
      out += d;
    });
    const code = await main(['sf', '--help'], {
      stdin: new PassThrough(),
      stdout,
      stderr: new PassThrough(),
    });
    expect(code).toBe(0);
    expect(out).toMatch(/sf inspect PATH/);
    expect(out).toMatch(/sf drain SLOT/);
  });

  it('leaves a slot another process holds (exit 3), and refuses a bad command line', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    const dir = mkdtempSync(join(tmpdir(), 'qwp-sf-drain-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const holder = await Sender.fromConfig(
      `ws::addr=127.0.0.1:${server.port};sf_dir=${dir};sender_id=held;`,
    );
    cleanups.push(() => holder.close());
    const r = await run([join(dir, 'held'), '--conf', `ws::addr=127.0.0.1:${server.port};`]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/held by another process/);
    expect((await run([join(dir, 'held')])).code).toBe(2);
    expect((await run([join(dir, 'held'), '--conf', 'http::addr=x;'])).code).toBe(2);
  });
});
