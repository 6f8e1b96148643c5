import * as fs from 'node:fs';
import { completeSystemError } from './errors.js';
import type { Advice, FileStat, FilesFacade, MapMode } from './facade.js';
import * as native from './native.js';

function toFileStat(st: fs.Stats): FileStat {
  return {
    size: st.size,
    isFile: st.isFile(),
    isDirectory: st.isDirectory(),
    mtimeMs: st.mtimeMs,
  };
}

/**
 * The real file system: synchronous node:fs calls plus the addon (mmap,
 * munmap, msync, madvise, fallocate, tryLock, unlock, fsyncDir, pageSize;
 * where it cannot load, those throw AddonLoadError and the rest work). It keeps
 * the path each fd was opened with, and the path each mapping was made from,
 * so an error from an fd-based call or a call on a mapping (an EIO from
 * msync) names the file.
 */
export class NodeFiles implements FilesFacade {
  readonly #paths = new Map<number, string>();
  // Weak: a mapping dropped without munmap must not be kept alive by its name.
  // (WeakMap.get of a non-object, a caller's bad argument, is just undefined.)
  readonly #mapped = new WeakMap<ArrayBuffer, string>();

  open(path: string, flags: string, mode?: number): number {
    const fd = fs.openSync(path, flags, mode);
    this.#paths.set(fd, path);
    return fd;
  }

  close(fd: number): void {
    const path = this.#paths.get(fd);
    this.#paths.delete(fd);
    try {
      fs.closeSync(fd);
    } catch (err) {
      throw completeSystemError(err, path);
    }
  }

  pread(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    try {
      return fs.readSync(fd, buf, offset, length, position);
    } catch (err) {
      throw completeSystemError(err, this.#paths.get(fd));
    }
  }

  pwrite(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    try {
      return fs.writeSync(fd, buf, offset, length, position);
    } catch (err) {
      throw completeSystemError(err, this.#paths.get(fd));
    }
  }

  ftruncate(fd: number, length: number): void {
    try {
      fs.ftruncateSync(fd, length);
    } catch (err) {
      throw completeSystemError(err, this.#paths.get(fd));
    }
  }

  fsync(fd: number): void {
    try {
      fs.fsyncSync(fd);
    } catch (err) {
      throw completeSystemError(err, this.#paths.get(fd));
    }
  }

  fstat(fd: number): FileStat {
    try {
      return toFileStat(fs.fstatSync(fd));
    } catch (err) {
      throw completeSystemError(err, this.#paths.get(fd));
    }
  }

  stat(path: string): FileStat {
    return toFileStat(fs.statSync(path));
  }

  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }

  unlink(path: string): void {
    fs.unlinkSync(path);
  }

  readdir(path: string): string[] {
    return fs.readdirSync(path);
  }

  mkdir(path: string, recursive: boolean): void {
    fs.mkdirSync(path, { recursive });
  }

  fsyncDir(path: string): void {
    native.fsyncDir(path);
  }

  fallocate(fd: number, offset: number, length: number): void {
    try {
      native.fallocate(fd, offset, length);
    } catch (err) {
      throw completeSystemError(err, this.#paths.get(fd));
    }
  }

  mmap(fd: number, offset: number, length: number, mode: MapMode): ArrayBuffer {
    const path = this.#paths.get(fd);
    let buf: ArrayBuffer;
    try {
      buf = native.mmap(fd, offset, length, mode);
    } catch (err) {
      throw completeSystemError(err, path);
    }
    if (path !== undefined) this.#mapped.set(buf, path);
    return buf;
  }

  munmap(buf: ArrayBuffer): void {
    try {
      native.munmap(buf);
    } catch (err) {
      throw completeSystemError(err, this.#mapped.get(buf));
    }
  }

  msync(buf: ArrayBuffer, offset: number, length: number, sync: boolean): void {
    try {
      native.msync(buf, offset, length, sync);
    } catch (err) {
      throw completeSystemError(err, this.#mapped.get(buf));
    }
  }

  madvise(buf: ArrayBuffer, offset: number, length: number, advice: Advice): void {
    try {
      native.madvise(buf, offset, length, advice);
    } catch (err) {
      throw completeSystemError(err, this.#mapped.get(buf));
    }
  }

  tryLock(fd: number): boolean {
    try {
      return native.tryLock(fd);
    } catch (err) {
      throw completeSystemError(err, this.#paths.get(fd));
    }
  }

  unlock(fd: number): void {
    try {
      native.unlock(fd);
    } catch (err) {
      throw completeSystemError(err, this.#paths.get(fd));
    }
  }

  pageSize(): number {
    return native.pageSize();
  }
}

/** The FilesFacade over the real file system, shared by every caller in this thread. */
export const defaultFiles: FilesFacade = new NodeFiles();
