/**
 * The file-system surface the segment log uses, in one interface, so tests can
 * swap in a facade that fails on purpose (see fault-injecting-files.ts).
 *
 * Every call is synchronous: the segment log calls these from the producer's
 * thread or from a worker, never from a hot loop, and a synchronous error is
 * far easier to attribute than a rejected Promise. Errors are Node-style:
 * an `Error` with `code` (`ENOSPC`, `EAGAIN`, ...), `errno`, `syscall` and,
 * where a path is involved, `path`.
 */
export interface FileStat {
  size: number;
  isFile: boolean;
  isDirectory: boolean;
  mtimeMs: number;
}

/** How a region is mapped: read-only, or read-write. Always MAP_SHARED. */
export type MapMode = 'r' | 'rw';

/** madvise(2) advice values. */
export type Advice = 'normal' | 'random' | 'sequential' | 'willneed' | 'dontneed';

export interface FilesFacade {
  /** open(2). `flags` as in `fs.openSync` ('r', 'r+', 'wx+', 'w+', ...). Returns the fd. */
  open(path: string, flags: string, mode?: number): number;
  close(fd: number): void;
  /** pread(2): reads up to `length` bytes at file `position` into `buf[offset..]`; returns bytes read. */
  pread(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** pwrite(2): writes `buf[offset..offset+length)` at file `position`; returns bytes written. */
  pwrite(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  ftruncate(fd: number, length: number): void;
  fsync(fd: number): void;
  fstat(fd: number): FileStat;
  stat(path: string): FileStat;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  readdir(path: string): string[];
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
  munmap(buf: ArrayBuffer): void;
  /** msync(2) of a sub-range of a mapping: MS_SYNC when `sync`, else MS_ASYNC. */
  msync(buf: ArrayBuffer, offset: number, length: number, sync: boolean): void;
  madvise(buf: ArrayBuffer, offset: number, length: number, advice: Advice): void;
  /** flock(2) LOCK_EX | LOCK_NB. Returns false when another holder has it; throws on any other error. */
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
  pageSize(): number;
}
