import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { inspectSegmentFile, SegmentCorruptError, type Slot } from './internals.js';

/** A file the Java client wrote, kept in test/fixtures/java-sf/ (see the README there). */
export function fixture(name: string): Uint8Array {
  const path = fileURLToPath(new URL(`./fixtures/java-sf/${name}`, import.meta.url));
  const hex = readFileSync(path, 'utf8').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * Every readable `*.sfa` in `dir` as its header says: name, baseSeq,
 * frames, flags; by baseSeq, then name. Files that are not segments (debris
 * a failed create left, which recovery quarantines) are skipped.
 */
export function segmentsOnDisk(
  dir: string,
): { name: string; baseSeq: number; frames: number; flags: number }[] {
  const out: { name: string; baseSeq: number; frames: number; flags: number }[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.sfa')) continue;
    let s: ReturnType<typeof inspectSegmentFile>;
    try {
      s = inspectSegmentFile(join(dir, name));
    } catch (err) {
      if (err instanceof SegmentCorruptError) continue;
      throw err;
    }
    out.push({ name, baseSeq: s.baseSeq, frames: s.frameCount, flags: s.flags });
  }
  return out.sort((a, b) => a.baseSeq - b.baseSeq || (a.name < b.name ? -1 : 1));
}

/**
 * Drops an open slot as a process crash would: nothing is closed or
 * synced, only what the kernel does at death is done (the flock released,
 * the descriptors the slot holds closed; mappings stay, their pages are in
 * the page cache). A loop of thousands of simulated crashes would otherwise
 * run out of descriptors.
 */
export function crashSlot(slot: Slot): void {
  slot.lock.close();
  slot.dict.close();
  slot.manifest.close();
}

/** The files of a slot directory, sorted. */
export function slotFiles(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * A QWP message: the 12-byte header, then (with `delta`) the symbol delta
 * section `[varint start][varint count][(varint len, utf8)...]`, then `body`
 * bytes standing for table blocks (`tables` of them).
 */
export function qwpMessage(options: {
  defer?: boolean;
  delta?: { start: number; symbols: string[] };
  tables?: number;
  body?: number;
}): Uint8Array {
  const parts: number[] = [];
  const varint = (v: number) => {
    let x = v;
    while (x >= 0x80) {
      parts.push((x & 0x7f) | 0x80);
      x >>>= 7;
    }
    parts.push(x);
  };
  if (options.delta !== undefined) {
    varint(options.delta.start);
    varint(options.delta.symbols.length);
    for (const sym of options.delta.symbols) {
      const b = Buffer.from(sym, 'utf8');
      varint(b.length);
      parts.push(...b);
    }
  }
  for (let i = 0; i < (options.body ?? 16); i++) parts.push((i * 7 + 1) & 0xff);
  const flags = (options.defer === true ? 0x01 : 0) | (options.delta !== undefined ? 0x08 : 0);
  const out = new Uint8Array(12 + parts.length);
  out.set([0x51, 0x57, 0x50, 0x31, 1, flags]);
  const view = new DataView(out.buffer);
  view.setUint16(6, options.tables ?? 1, true);
  view.setUint32(8, parts.length, true);
  out.set(parts, 12);
  return out;
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

/**
 * A FilesFacade that passes every call to `inner` and logs it as one line
 * naming the file by its base name (fd- and mapping-based calls included):
 * `open(wx+) sf-0000000000000000.sfa`, `msync sf-0000000000000000.sfa 0+24`,
 * `fsync sf-manifest.bin`, `fsyncDir s`, `pwrite .lock.pid@0`, ... so a test
 * can check the order of the steps that make a slot crash-safe.
 */
export function tracingFiles(inner: FilesFacade = defaultFiles): {
  files: FilesFacade;
  events: string[];
} {
  const events: string[] = [];
  const byFd = new Map<number, string>();
  const byBuffer = new WeakMap<ArrayBuffer, string>();
  const base = (p: string) => p.split('/').pop()!;
  const { files } = recordingFiles(inner, (call, result) => {
    const a = call.args;
    switch (call.op) {
      case 'open':
        byFd.set(result as number, base(a[0] as string));
        events.push(`open(${a[1]}) ${base(a[0] as string)}`);
        break;
      case 'mmap':
        byBuffer.set(result as ArrayBuffer, byFd.get(a[0] as number) ?? '?');
        break;
      case 'msync':
        events.push(`msync ${byBuffer.get(a[0] as ArrayBuffer)} ${a[1]}+${a[2]}`);
        break;
      case 'pwrite':
        events.push(`pwrite ${byFd.get(a[0] as number)}@${a[4]}`);
        break;
      case 'fsync':
      case 'fallocate':
      case 'ftruncate':
        events.push(`${call.op} ${byFd.get(a[0] as number)}`);
        break;
      case 'unlink':
      case 'fsyncDir':
      case 'mkdir':
        events.push(`${call.op} ${base(a[0] as string)}`);
        break;
      case 'rename':
        events.push(`rename ${base(a[0] as string)} ${base(a[1] as string)}`);
        break;
      default:
        break;
    }
    return result;
  });
  return { files, events };
}

/** Index of the first event matching `pattern` at or after `from`; -1 when none. */
export function eventIndex(events: readonly string[], pattern: RegExp, from = 0): number {
  for (let i = from; i < events.length; i++) if (pattern.test(events[i]!)) return i;
  return -1;
}
