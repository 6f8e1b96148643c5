import type { Crc32cImplementation } from './binding.js';

/** What selfCheck found. */
export interface SelfCheckResult {
  ok: boolean;
  /** The kernel crc32c/crc32cRange use. */
  implementation: string;
  /** One line per kernel: its name and either 'ok' or what failed. */
  details: string;
}

function filled(length: number, at: (i: number) => number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = at(i);
  return out;
}

// The standard check value and the RFC 3720 appendix B.4 vectors.
const VECTORS: [string, Uint8Array, number][] = [
  ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
  ['32 x 0x00', filled(32, () => 0), 0x8a9136aa],
  ['32 x 0xff', filled(32, () => 0xff), 0x62a8ab43],
  ['0..31', filled(32, (i) => i), 0x46dd794e],
  ['31..0', filled(32, (i) => 31 - i), 0x113fdb5c],
];

function problems(
  impl: Crc32cImplementation,
  reference: Crc32cImplementation,
  long: Uint8Array,
): string[] {
  const found: string[] = [];
  for (const [label, bytes, want] of VECTORS) {
    const got = impl.crc32c(bytes);
    if (got !== want)
      found.push(`${label} gave 0x${got.toString(16)}, want 0x${want.toString(16)}`);
    const ranged = impl.crc32cRange(bytes.buffer, bytes.byteOffset, bytes.length);
    if (ranged !== want) found.push(`range ${label} gave 0x${ranged.toString(16)}`);
  }
  const whole = impl.crc32cRange(long, 3, long.length - 3);
  const chained = impl.crc32cRange(
    long,
    3 + 777,
    long.length - 780,
    impl.crc32cRange(long, 3, 777),
  );
  if (chained !== whole) found.push('chaining disagrees with one pass');
  const want = reference.crc32cRange(long, 3, long.length - 3);
  if (whole !== want) found.push(`20008 bytes disagree with ${reference.name}`);
  return found;
}

/** Verifies the check values on every kernel and that all kernels agree. */
export function runSelfCheck(
  all: readonly Crc32cImplementation[],
  active: Crc32cImplementation,
): SelfCheckResult {
  const reference = all[0]!;
  // A long pseudo-random buffer, so the interleaved and folding paths run too.
  const long = filled(20_011, (i) => (Math.imul(i + 1, 0x9e3779b1) >>> 13) & 0xff);
  let ok = true;
  const lines: string[] = [];
  for (const impl of all) {
    const found = problems(impl, reference, long);
    if (found.length > 0) ok = false;
    lines.push(`${impl.name}: ${found.length === 0 ? 'ok' : found.join('; ')}`);
  }
  return { ok, implementation: active.name, details: lines.join('\n') };
}
