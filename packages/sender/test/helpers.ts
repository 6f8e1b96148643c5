import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestServerOptions } from '@qwp/test-server';
import { afterEach } from 'vitest';
import { type RowWriter, Sender, type SenderOptions } from '../src/index.js';

/** Everything a test opened, closed after it whatever happened. */
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // The test already failed or passed on its own assertions; a clean-up error must not mask it.
    }
  }
});

/** A test server on a free loopback port, closed after the test. */
export async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** A connect string for `s` with extra keys. */
export function confFor(s: { port: number }, extra = ''): string {
  return `ws::addr=127.0.0.1:${s.port};${extra}`;
}

/** A sender closed after the test (its close errors ignored there). */
export async function sender(conf: string, options: SenderOptions = {}): Promise<Sender> {
  const s = await Sender.fromConfig(conf, { on: { error: () => {} }, ...options });
  cleanups.push(() => s.close());
  return s;
}

/** A fresh temporary directory, removed after the test. */
export function tempDir(prefix = 'qwp-sender-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Registers a clean-up step. */
export function onCleanup(step: () => Promise<void> | void): void {
  cleanups.push(step);
}

/** Polls `check` until it returns true, up to `timeoutMs`. */
export async function until(
  check: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Writes `n` trades rows (sym, px, qty, ts) with ids from `from`; the qty column carries the id. */
export function writeTrades(w: RowWriter, from: number, n: number): void {
  const syms = ['ETH-USD', 'BTC-USD', 'SOL-USD'];
  for (let i = from; i < from + n; i++) {
    w.table('trades')
      .symbol('sym', syms[i % 3]!)
      .floatColumn('px', 100 + i / 8)
      .intColumn('qty', i)
      .at(1_700_000_000_000_000 + i, 'us');
  }
}
