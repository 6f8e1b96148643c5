/**
 * What `node:fs` lacks for a crash-safe log: mmap, msync, madvise,
 * fallocate, flock and directory fsync through a Node-API addon that loads
 * at first use, and {@link FilesFacade}, the file-system interface the
 * segment log takes, with {@link defaultFiles} as its real implementation.
 * Fault injection for tests is `@qwp/files-native/testing`.
 *
 * @module @qwp/files-native
 */

export { defaultFiles, NodeFiles } from './default-files.js';
export {
  AddonLoadError,
  FileSystemError,
  InvalidArgumentError,
  InvalidArgumentTypeError,
  InvalidStateError,
  OutOfRangeError,
} from './errors.js';
export type { Advice, FileStat, FilesFacade, MapMode } from './facade.js';
export {
  addonPath,
  fallocate,
  fsyncDir,
  loadNative,
  type MappingStats,
  madvise,
  mappingStats,
  mmap,
  msync,
  munmap,
  nativeLoadError,
  pageSize,
  tryLock,
  unlock,
} from './native.js';
export { type SelfCheckResult, selfCheck } from './self-check.js';
