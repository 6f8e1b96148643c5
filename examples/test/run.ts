import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestServerOptions } from '@qwp/test-server';
import { afterEach } from 'vitest';

const here = new URL('..', import.meta.url).pathname;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) {
    try {
      await step();
    } catch {
      // The test's own assertions decide; a clean-up failure must not mask them.
    }
  }
});

/** A test server on a free loopback port, closed after the test. */
export async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** A temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qwp-examples-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A running example: its process and everything it printed so far. */
export interface Running {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when it exits (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node <example> ...args` as a user would run it (plain Node, the
 * packages' built dist/), with `env` added; killed after the test if still
 * running.
 */
export function start(
  example: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Running {
  const child = spawn(process.execPath, [join(here, example), ...args], {
    cwd: here,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
  };
}

/** Runs an example to its end, within `timeoutMs`. */
export async function run(
  example: string,
  args: string[] = [],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const r = start(example, args, env);
  const result = await within(r.exited, timeoutMs, `${example} to exit`);
  return { ...result, stdout: r.stdout, stderr: r.stderr };
}

/** Resolves with `p`, or rejects after `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until true, up to `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
