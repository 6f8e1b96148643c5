export { defaultFiles, NodeFiles } from './default-files.js';
export {
  AddonLoadError,
  FileSystemError,
  InjectedFaultError,
  InvalidArgumentError,
  InvalidArgumentTypeError,
  InvalidStateError,
  OutOfRangeError,
} from './errors.js';
export type { Advice, FileStat, FilesFacade, MapMode } from './facade.js';
export {
  type Fault,
  FaultInjectingFiles,
  type FaultOp,
  type FaultOptions,
  type FaultTrigger,
} from './fault-injecting-files.js';
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
