import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultFiles, type FilesFacade } from '@qwp/files-native';

/** The Java-written fixtures beside the checkout (../shared/fixtures/java-sf/). */
export function fixture(name: string): Uint8Array {
  const dir = fileURLToPath(new URL('../../../../shared/fixtures/java-sf/', import.meta.url));
  if (!existsSync(dir)) {
    throw new Error(
      `fixture directory ${dir} is missing: clone the shared repo beside this checkout as ../shared`,
    );
  }
  const hex = readFileSync(join(dir, name), 'utf8').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * Path of a child-process script under test/fixtures/. Children run plain
 * node and import '@qwp/segment-log' from dist/ (the test task builds first);
 * fails clearly when dist/ is missing.
 */
export function childScript(name: string): string {
  requireDist();
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Throws a clear error when dist/, which child processes import, is not built. */
export function requireDist(): void {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  if (!existsSync(dist)) {
    throw new Error(
      `${dist} is missing: run \`npx tsc -p tsconfig.build.json\` in packages/segment-log`,
    );
  }
}

/** A fresh temporary directory; remove it with {@link removeDir}. */
export function tempDir(prefix = 'qwp-seglog-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The seed for a seeded test: QWP_TEST_SEED when set, else `fallback`. */
export function testSeed(fallback: number): number {
  const env = process.env.QWP_TEST_SEED;
  return env !== undefined && env !== '' ? Number(env) : fallback;
}

/** True when QWP_TEST_LONG=1 asks for the long versions of fuzz / crash tests. */
export const LONG = process.env.QWP_TEST_LONG === '1';

/**
 * Lets the event loop turn. A long synchronous test loop must call this now
 * and then: vitest's worker answers its runner over an RPC with a 60 s
 * timeout, and a loop that never yields (the QWP_TEST_LONG runs) fails the
 * run with 'Timeout calling "onTaskUpdate"' even though every test passed.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A payload whose bytes encode `n`, so a replayed frame names itself. */
export function payloadFor(n: number, size: number): Uint8Array {
  const p = new Uint8Array(Math.max(size, 8));
  new DataView(p.buffer).setFloat64(0, n, true);
  for (let i = 8; i < p.length; i++) p[i] = (n + i) & 0xff;
  return p;
}

/** Inverse of {@link payloadFor}. */
export function payloadId(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getFloat64(0, true);
}

/** What `fn` throws; fails the test when it returns instead. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** `inner` with the methods in `overrides` put in place of its own; every other call goes to `inner`. */
export function overriding(inner: FilesFacade, overrides: Partial<FilesFacade>): FilesFacade {
  return new Proxy(inner, {
    get(target, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof FilesFacade];
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** One call a {@link recordingFiles} facade passed on: the method and its arguments. */
export interface RecordedCall {
  op: string;
  args: unknown[];
}

/**
 * A FilesFacade that passes every call to `inner` (default `defaultFiles`)
 * and records it in `calls`, so a test can check which calls were made and
 * in what order. `after` runs after each call returns, before its result is
 * handed back (to change the file under the caller at a chosen moment).
 */
export function recordingFiles(
  inner: FilesFacade = defaultFiles,
  after?: (call: RecordedCall, result: unknown) => unknown,
): { files: FilesFacade; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const files = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const call = { op: String(key), args };
        calls.push(call);
        const result = value.apply(target, args);
        return after === undefined ? result : after(call, result);
      };
    },
  });
  return { files, calls };
}
