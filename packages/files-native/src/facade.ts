/** What `fstat` and `stat` report. */
export interface FileStat {
  /** Size in bytes. */
  size: number;
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** Last modification, in ms since the epoch. */
  mtimeMs: number;
}

/** How a region is mapped: read-only, or read-write. Always MAP_SHARED. */
export type MapMode = 'r' | 'rw';

/** madvise(2) advice values. */
export type Advice = 'normal' | 'random' | 'sequential' | 'willneed' | 'dontneed';

/**
 * The file-system surface the segment log uses, in one interface, so tests can
 * swap in a facade that fails on purpose ({@link testing!FaultInjectingFiles}).
 *
 * Every call is synchronous: the segment log calls these from the producer's
 * thread or from a worker, never from a hot loop, and a synchronous error is
 * far easier to attribute than a rejected Promise. Errors are Node-style:
 * an `Error` with `code` (`ENOSPC`, `EAGAIN`, ...), `errno`, `syscall` and,
 * where a path is involved, `path`.
 */
export interface FilesFacade {
  /** open(2). `flags` as in `fs.openSync` ('r', 'r+', 'wx+', 'w+', ...). Returns the fd. */
  open(path: string, flags: string, mode?: number): number;
  /** close(2). */
  close(fd: number): void;
  /** pread(2): reads up to `length` bytes at file `position` into `buf[offset..]`; returns bytes read. */
  pread(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** pwrite(2): writes `buf[offset..offset+length)` at file `position`; returns bytes written. */
  pwrite(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** ftruncate(2): sets the file's size, zero-filling any growth. */
  ftruncate(fd: number, length: number): void;
  /** fsync(2): the file's data and metadata reach stable storage. */
  fsync(fd: number): void;
  /** fstat(2) of an open file. */
  fstat(fd: number): FileStat;
  /** stat(2), following symbolic links. */
  stat(path: string): FileStat;
  /** rename(2): atomic within one file system, replacing `to`. */
  rename(from: string, to: string): void;
  /** unlink(2). */
  unlink(path: string): void;
  /** The names in a directory, without `.` and `..`. */
  readdir(path: string): string[];
  /** mkdir(2); with `recursive`, the missing parents too and no error when it exists. */
  mkdir(path: string, recursive: boolean): void;
  /** fsync(2) on a directory, so a create, rename or unlink inside it is durable. */
  fsyncDir(path: string): void;
  /** posix_fallocate(3): real blocks, so a full disk fails here and never as SIGBUS later. */
  fallocate(fd: number, offset: number, length: number): void;
  /**
   * mmap(2) MAP_SHARED of `[offset, offset+length)` of `fd`. The returned
   * ArrayBuffer is unmapped exactly once: by `munmap`, or when it is
   * garbage-collected. `munmap` detaches it first, so any later access sees
   * a zero-length buffer instead of unmapped memory.
   */
  mmap(fd: number, offset: number, length: number, mode: MapMode): ArrayBuffer;
  /** munmap(2) of a buffer `mmap` returned, detaching it first; again on the same buffer does nothing. */
  munmap(buf: ArrayBuffer): void;
  /** msync(2) of a sub-range of a mapping: MS_SYNC when `sync`, else MS_ASYNC. */
  msync(buf: ArrayBuffer, offset: number, length: number, sync: boolean): void;
  /** madvise(2) of a sub-range of a mapping. */
  madvise(buf: ArrayBuffer, offset: number, length: number, advice: Advice): void;
  /** flock(2) LOCK_EX | LOCK_NB. Returns false when another holder has it; throws on any other error. */
  tryLock(fd: number): boolean;
  /** flock(2) LOCK_UN. */
  unlock(fd: number): void;
  /** The system page size: mapping offsets are multiples of it. */
  pageSize(): number;
}
