/**
 * @qwp/crc32c: CRC32C (Castagnoli) through a Node-API addon. The fastest
 * kernel this CPU supports is chosen at load; QWP_CRC32C_PORTABLE=1 forces
 * the portable slice-by-8 kernel. Where the addon cannot load, importing still
 * works and every call runs the JavaScript kernel ('js'; QWP_CRC32C_JS=1
 * forces it); nativeLoadError() says why.
 */
import { type ByteSource, type Crc32cImplementation, loadBinding } from './binding.js';
import { Crc32cLoadError } from './errors.js';
import { jsKernel } from './js-kernel.js';
import { runSelfCheck, type SelfCheckResult } from './self-check.js';

export type { ByteSource, Crc32cImplementation } from './binding.js';
export { Crc32cErrorCode, Crc32cLoadError, Crc32cRangeError, Crc32cTypeError } from './errors.js';
export type { SelfCheckResult } from './self-check.js';

let loadError: Crc32cLoadError | undefined;
let native: readonly Crc32cImplementation[] = [];
try {
  native = loadBinding().implementations;
} catch (err) {
  // Only a missing or broken build falls back; anything else is a bug to surface.
  if (!(err instanceof Crc32cLoadError)) throw err;
  loadError = err;
}
const all: readonly Crc32cImplementation[] = Object.freeze([jsKernel, ...native]);
// Read here, not in C: process.env takes the lock Node holds against other threads' writes.
const active =
  process.env.QWP_CRC32C_JS === '1' || native.length === 0
    ? jsKernel
    : process.env.QWP_CRC32C_PORTABLE === '1'
      ? native[0]!
      : native.at(-1)!;

/**
 * CRC32C of `data` as an unsigned 32-bit number. Chainable: pass a previous
 * result as `initial` to continue it, so `crc32c(b, crc32c(a)) === crc32c(a ‖ b)`.
 * Throws Crc32cTypeError unless `data` is a Uint8Array (or Buffer), and
 * Crc32cRangeError unless `initial` is an integer in [0, 2^32).
 * @param data the bytes
 * @param initial a previous CRC to continue from (default 0)
 */
export const crc32c: (data: Uint8Array, initial?: number) => number = active.crc32c;

/**
 * CRC32C of bytes [offset, offset + length) of `data` (for a view, relative to
 * its start) without allocating a subarray. Works on ArrayBuffer (also
 * external, e.g. mmap'd), SharedArrayBuffer and any ArrayBufferView; a bare
 * SharedArrayBuffer costs one temporary view per call, so pass a Uint8Array
 * over shared memory on hot paths. Throws Crc32cTypeError / Crc32cRangeError
 * for a bad argument, never reads outside the data.
 * @param data the memory to read
 * @param offset first byte, an integer in [0, byteLength]
 * @param length byte count, an integer in [0, byteLength - offset]
 * @param initial a previous CRC to continue from (default 0)
 */
export const crc32cRange: (
  data: ByteSource,
  offset: number,
  length: number,
  initial?: number,
) => number = active.crc32cRange;

/** Name of the kernel crc32c and crc32cRange use, e.g. 'sse4.2+vpclmulqdq', or 'js' without the addon. */
export function implementation(): string {
  return active.name;
}

/**
 * Why the addon did not load (a Crc32cLoadError naming the platform and the
 * package directory, the loader's error as `cause`), or undefined when it did.
 * Without it every call runs the 'js' kernel: correct, and slower.
 */
export function nativeLoadError(): Crc32cLoadError | undefined {
  return loadError;
}

/** The addon's portable slice-by-8 kernel; the 'js' kernel where the addon did not load. */
export const portable: Crc32cImplementation = native[0] ?? jsKernel;

/**
 * Every kernel that runs here, slowest first: 'js' (always), then the addon's
 * ('portable', then the hardware kernels this CPU supports, fastest last).
 */
export function implementations(): readonly Crc32cImplementation[] {
  return all;
}

/** Verifies the standard check values on every available kernel and that they agree. */
export function selfCheck(): SelfCheckResult {
  return runSelfCheck(all, active);
}
