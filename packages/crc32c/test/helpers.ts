import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Plain bitwise CRC32C (reflected 0x82F63B78), chainable like the addon. */
export function referenceCrc32c(bytes: Uint8Array, initial = 0): number {
  let c = ~initial >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    c ^= bytes[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

/** Seed for randomised tests: QWP_TEST_SEED overrides the fixed default. */
export function testSeed(fallback: number): number {
  const env = process.env.QWP_TEST_SEED;
  return env === undefined || env === '' ? fallback : Number.parseInt(env, 10);
}

/** QWP_TEST_LONG=1 selects the long versions of fuzz/property tests. */
export const LONG_RUN = process.env.QWP_TEST_LONG === '1';

/** Small deterministic PRNG (mulberry32) for filling buffers. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** `length` pseudo-random bytes from `seed`. */
export function randomBytes(length: number, seed: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xff;
  return out;
}

/** The package root, where node-gyp-build finds the addon. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The addon file node-gyp-build loads for this package (a prebuild, else build/Release). */
export function addonPath(): string {
  const nodeGypBuild = createRequire(join(PACKAGE_ROOT, 'package.json'))('node-gyp-build') as {
    path(dir: string): string;
  };
  return nodeGypBuild.path(PACKAGE_ROOT);
}
