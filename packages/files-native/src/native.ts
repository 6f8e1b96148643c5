import { constants as bufferConstants } from 'node:buffer';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  AddonLoadError,
  describeReceived,
  fromAddon,
  InvalidArgumentError,
  OutOfRangeError,
} from './errors.js';
import type { Advice, MapMode } from './facade.js';

/**
 * The addon's own surface (src/binding.c). Validation of every argument
 * happens in C too; every call goes through fromAddon so what it throws is
 * one of the package's error classes or a completed system error.
 */
interface Binding {
  pageSize(): number;
  mmap(fd: number, offset: number, length: number, writable: boolean): ArrayBuffer;
  munmap(buf: ArrayBuffer): void;
  msync(buf: ArrayBuffer, offset: number, length: number, sync: boolean): void;
  madvise(buf: ArrayBuffer, offset: number, length: number, advice: number): void;
  fallocate(fd: number, offset: number, length: number): void;
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
  fsyncDir(path: string): void;
  stats(): MappingStats;
}

/** Process-wide mapping counters, across every thread that loaded the addon. */
export interface MappingStats {
  /** Regions mapped by `mmap`. */
  mapped: number;
  /** Regions unmapped by an explicit `munmap`. */
  unmappedByCall: number;
  /** Regions unmapped because their ArrayBuffer was garbage-collected first. */
  unmappedByGc: number;
  /** Bookkeeping records freed (one per mapping, after its ArrayBuffer is gone or detached). */
  released: number;
}

const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
// src/ (tests) and dist/ (published) both sit one level below the package root.
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

function loadAddon(): { path: string; binding: Binding } {
  try {
    const path = nodeGypBuild.path(packageRoot);
    // node-gyp-build(dir) is require(path(dir)): load the file found here
    // rather than search prebuilds/ and build/ a second time.
    return { path, binding: require(path) as Binding };
  } catch (err) {
    throw new AddonLoadError(
      `@qwp/files-native: no loadable native build for ${process.platform}-${process.arch} under ${packageRoot}; ` +
        'install a C toolchain and run `npx node-gyp rebuild` in the package',
      { cause: err },
    );
  }
}

const addon = loadAddon();
/** Absolute path of the compiled addon that was loaded (a prebuild or build/Release). */
export const addonPath: string = addon.path;
const binding = addon.binding;

const PAGE_SIZE = binding.pageSize();
const ADVICE: Record<Advice, number> = {
  normal: 0,
  random: 1,
  sequential: 2,
  willneed: 3,
  dontneed: 4,
};

/** Size of a virtual-memory page in bytes; mmap offsets must be multiples of it. */
export function pageSize(): number {
  return PAGE_SIZE;
}

/**
 * mmap(2) MAP_SHARED of `[offset, offset + length)` of `fd` as an ArrayBuffer.
 * `offset` must be a multiple of `pageSize()`; `length` may exceed the file
 * size, but touching a page past the end of the file raises SIGBUS, and
 * writing through an 'r' mapping raises SIGSEGV: size the file first
 * (`fallocate`) and map 'rw' to write. The region is unmapped exactly once, by
 * `munmap` or when the buffer is garbage-collected.
 * @param fd an open file descriptor (readable; also writable for 'rw')
 * @param offset byte offset in the file, page-aligned
 * @param length bytes to map, >= 1
 * @param mode 'r' or 'rw'
 */
export function mmap(fd: number, offset: number, length: number, mode: MapMode): ArrayBuffer {
  if (mode !== 'r' && mode !== 'rw') {
    throw new InvalidArgumentError(
      `The argument 'mode' must be 'r' or 'rw'. Received ${describeReceived(mode)}`,
    );
  }
  // Node cannot wrap more than this in one ArrayBuffer; refuse before mapping.
  if (typeof length === 'number' && length > bufferConstants.MAX_LENGTH) {
    throw new OutOfRangeError(
      `The value of "length" is out of range. It must be <= ${bufferConstants.MAX_LENGTH}. Received ${length}`,
    );
  }
  try {
    return binding.mmap(fd, offset, length, mode === 'rw');
  } catch (err) {
    throw fromAddon(err);
  }
}

/**
 * Unmaps a buffer returned by `mmap`: detaches it first (every view then has
 * length 0), then munmap(2). Calling it again on the same buffer is a no-op.
 * @param buf an ArrayBuffer returned by `mmap`
 */
export function munmap(buf: ArrayBuffer): void {
  try {
    binding.munmap(buf);
  } catch (err) {
    throw fromAddon(err);
  }
}

/**
 * msync(2) of `[offset, offset + length)` of a mapping (start rounded down to a page).
 * @param sync true: MS_SYNC (wait for the write-back); false: MS_ASYNC
 */
export function msync(buf: ArrayBuffer, offset: number, length: number, sync: boolean): void {
  try {
    binding.msync(buf, offset, length, sync);
  } catch (err) {
    throw fromAddon(err);
  }
}

/** madvise(2) of `[offset, offset + length)` of a mapping (start rounded down to a page). */
export function madvise(buf: ArrayBuffer, offset: number, length: number, advice: Advice): void {
  const value =
    typeof advice === 'string' && Object.hasOwn(ADVICE, advice) ? ADVICE[advice] : undefined;
  if (value === undefined) {
    throw new InvalidArgumentError(
      `The argument 'advice' must be one of ${Object.keys(ADVICE).join(', ')}. Received ${describeReceived(advice)}`,
    );
  }
  try {
    binding.madvise(buf, offset, length, value);
  } catch (err) {
    throw fromAddon(err);
  }
}

/**
 * posix_fallocate(3) of `[offset, offset + length)`: real blocks, growing the
 * file if needed, so a full disk fails here (ENOSPC) and not later as SIGBUS.
 */
export function fallocate(fd: number, offset: number, length: number): void {
  try {
    binding.fallocate(fd, offset, length);
  } catch (err) {
    throw fromAddon(err);
  }
}

/** flock(2) LOCK_EX | LOCK_NB: true when taken, false when another holder has it. */
export function tryLock(fd: number): boolean {
  try {
    return binding.tryLock(fd);
  } catch (err) {
    throw fromAddon(err);
  }
}

/** flock(2) LOCK_UN. */
export function unlock(fd: number): void {
  try {
    binding.unlock(fd);
  } catch (err) {
    throw fromAddon(err);
  }
}

/** fsync(2) of a directory, so a create, rename or unlink inside it is durable. */
export function fsyncDir(path: string): void {
  try {
    binding.fsyncDir(path);
  } catch (err) {
    throw fromAddon(err);
  }
}

/** Counters of mappings made and released in this process (for tests and leak checks). */
export function mappingStats(): MappingStats {
  return binding.stats();
}
