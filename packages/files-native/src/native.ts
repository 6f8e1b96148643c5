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
// src/ (tests) and dist/ (published) both sit one level below the package root.
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

// The addon loads at the first call that needs it, not at import, so code
// that never maps a file (the sender's memory mode) runs where it cannot load.
/** The loaded addon; null until a call needs it, and for good once loading failed. */
let binding: Binding | null = null;
let loadedPath = '';
let PAGE_SIZE = 0;
/** Why loading failed, once it has. */
let loadFailure: AddonLoadError | undefined;
const REASON =
  `no loadable native build for ${process.platform}-${process.arch} under ${packageRoot}; ` +
  'install Python 3, make and a C compiler, then run `npm rebuild @qwp/files-native`';

/**
 * Loads the addon on first use and returns it. Throws an AddonLoadError
 * when it cannot load, then and at every later call (it is tried once);
 * `what` names the call that needed it.
 */
function load(what?: string): Binding {
  if (binding !== null) return binding;
  if (loadFailure === undefined) {
    try {
      const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
      const path = nodeGypBuild.path(packageRoot);
      // node-gyp-build(dir) is require(path(dir)): load the file found here
      // rather than search prebuilds/ and build/ a second time.
      const loaded = require(path) as Binding;
      PAGE_SIZE = loaded.pageSize();
      loadedPath = path;
      binding = loaded;
      return loaded;
    } catch (err) {
      loadFailure = new AddonLoadError(`@qwp/files-native: ${REASON}`, { cause: err });
    }
  }
  // A fresh error per call, so its stack shows the caller.
  const message =
    what === undefined
      ? loadFailure.message
      : `@qwp/files-native: ${what} needs the native addon, but there is ${REASON}`;
  throw new AddonLoadError(message, { cause: loadFailure.cause });
}

/**
 * Loads the addon now if it is not loaded yet; throws AddonLoadError (code
 * ERR_QWP_FILES_LOAD, naming the platform and the package directory, the
 * loader's error as `cause`) when it cannot load. Call it before relying on
 * mmap, fallocate, tryLock, fsyncDir, … to fail early with a clear reason.
 */
export function loadNative(): void {
  if (binding === null) load();
}

/**
 * Why the addon cannot load (the AddonLoadError `loadNative` would throw),
 * or undefined when it loads. Tries to load it if no call has yet.
 */
export function nativeLoadError(): AddonLoadError | undefined {
  if (binding === null && loadFailure === undefined) {
    try {
      load();
    } catch {
      // Kept in loadFailure, returned below.
    }
  }
  return loadFailure;
}

/** Absolute path of the compiled addon (a prebuild or build/Release); loads it, or throws AddonLoadError. */
export function addonPath(): string {
  if (binding === null) load('addonPath');
  return loadedPath;
}

const ADVICE: Record<Advice, number> = {
  normal: 0,
  random: 1,
  sequential: 2,
  willneed: 3,
  dontneed: 4,
};

/** Size of a virtual-memory page in bytes; mmap offsets must be multiples of it. */
export function pageSize(): number {
  if (PAGE_SIZE === 0) load('pageSize');
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
  const addon = binding ?? load('mmap');
  try {
    return addon.mmap(fd, offset, length, mode === 'rw');
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
  const addon = binding ?? load('munmap');
  try {
    addon.munmap(buf);
  } catch (err) {
    throw fromAddon(err);
  }
}

/**
 * msync(2) of `[offset, offset + length)` of a mapping (start rounded down to a page).
 * @param sync true: MS_SYNC (wait for the write-back); false: MS_ASYNC
 */
export function msync(buf: ArrayBuffer, offset: number, length: number, sync: boolean): void {
  const addon = binding ?? load('msync');
  try {
    addon.msync(buf, offset, length, sync);
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
  const addon = binding ?? load('madvise');
  try {
    addon.madvise(buf, offset, length, value);
  } catch (err) {
    throw fromAddon(err);
  }
}

/**
 * posix_fallocate(3) of `[offset, offset + length)`: real blocks, growing the
 * file if needed, so a full disk fails here (ENOSPC) and not later as SIGBUS.
 */
export function fallocate(fd: number, offset: number, length: number): void {
  const addon = binding ?? load('fallocate');
  try {
    addon.fallocate(fd, offset, length);
  } catch (err) {
    throw fromAddon(err);
  }
}

/** flock(2) LOCK_EX | LOCK_NB: true when taken, false when another holder has it. */
export function tryLock(fd: number): boolean {
  const addon = binding ?? load('tryLock');
  try {
    return addon.tryLock(fd);
  } catch (err) {
    throw fromAddon(err);
  }
}

/** flock(2) LOCK_UN. */
export function unlock(fd: number): void {
  const addon = binding ?? load('unlock');
  try {
    addon.unlock(fd);
  } catch (err) {
    throw fromAddon(err);
  }
}

/** fsync(2) of a directory, so a create, rename or unlink inside it is durable. */
export function fsyncDir(path: string): void {
  const addon = binding ?? load('fsyncDir');
  try {
    addon.fsyncDir(path);
  } catch (err) {
    throw fromAddon(err);
  }
}

/** Counters of mappings made and released in this process (for tests and leak checks). */
export function mappingStats(): MappingStats {
  return (binding ?? load('mappingStats')).stats();
}
