import type { FilesFacade } from '@qwp/files-native';
import { reasonOf, SegmentIoError, suppress } from './errors.js';

/**
 * open(2) of `path`, failing as a {@link SegmentIoError} `cannot <action>
 * <path>: <reason>` (its `errno` lets a caller treat ENOENT as "absent").
 */
export function openFile(
  files: FilesFacade,
  path: string,
  flags: string,
  action: string,
  mode?: number,
): number {
  try {
    return files.open(path, flags, mode);
  } catch (err) {
    throw new SegmentIoError(`cannot ${action} ${path}: ${reasonOf(err)}`, path, err);
  }
}

/** {@link openFile}, or undefined when `path` does not exist (ENOENT). */
export function openFileIfExists(
  files: FilesFacade,
  path: string,
  flags: string,
  action: string,
): number | undefined {
  try {
    return openFile(files, path, flags, action);
  } catch (err) {
    if ((err as SegmentIoError).errno === 'ENOENT') return undefined;
    throw err;
  }
}

/** mmap(2) of the first `size` bytes of `fd` (read-only or read-write), as a typed error on failure. */
export function mapFile(
  files: FilesFacade,
  fd: number,
  path: string,
  size: number,
  readOnly: boolean,
): ArrayBuffer {
  try {
    return files.mmap(fd, 0, size, readOnly ? 'r' : 'rw');
  } catch (err) {
    throw new SegmentIoError(`cannot map segment ${path}: ${reasonOf(err)}`, path, err);
  }
}

/**
 * Runs `use` on the already open `fd` of `path`, then closes it. A failure of
 * `use` is thrown with any close failure attached as its cause; a close
 * failure after success is a {@link SegmentIoError}.
 */
export function useThenClose<T>(
  files: FilesFacade,
  fd: number,
  path: string,
  use: (fd: number) => T,
): T {
  let result: T;
  try {
    result = use(fd);
  } catch (err) {
    closeQuietlyInto(files, fd, err);
    throw err;
  }
  try {
    files.close(fd);
  } catch (err) {
    throw new SegmentIoError(`cannot close ${path}: ${reasonOf(err)}`, path, err);
  }
  return result;
}

/** Reads the whole open file `fd` into a new buffer (its size by fstat). */
export function readWhole(files: FilesFacade, fd: number, path: string): Uint8Array {
  const image = new Uint8Array(sizeOf(files, fd, path));
  readFully(files, fd, path, image, 0, image.length, 0);
  return image;
}

/**
 * Reads exactly `length` bytes at `position` into `buf[offset..]` with
 * positioned reads. A read that returns 0 early (the file shrank under us)
 * is an error, never a silent zero fill.
 */
export function readFully(
  files: FilesFacade,
  fd: number,
  path: string,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): void {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = files.pread(fd, buf, offset + done, length - done, position + done);
    } catch (err) {
      throw new SegmentIoError(`cannot read ${path} at offset ${position + done}`, path, err);
    }
    if (n <= 0) {
      throw new SegmentIoError(
        `short read of ${path}: ${length - done} bytes missing at offset ${position + done}`,
        path,
      );
    }
    done += n;
  }
}

/**
 * Writes exactly `length` bytes of `buf[offset..]` at `position`. A short
 * write is retried for the remainder; a write of 0 bytes is an error.
 */
export function writeFully(
  files: FilesFacade,
  fd: number,
  path: string,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): void {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = files.pwrite(fd, buf, offset + done, length - done, position + done);
    } catch (err) {
      throw new SegmentIoError(`cannot write ${path} at offset ${position + done}`, path, err);
    }
    if (n <= 0) {
      throw new SegmentIoError(
        `short write to ${path}: ${length - done} bytes not written at offset ${position + done}`,
        path,
      );
    }
    done += n;
  }
}

/**
 * Throws {@link SegmentIoError} unless the open file is still `expected`
 * bytes long: a file truncated by someone else while it was scanned or
 * mapped would fault with SIGBUS where the mapping runs past its new end.
 */
export function expectSize(
  files: FilesFacade,
  fd: number,
  path: string,
  expected: number,
  when: string,
): void {
  const size = sizeOf(files, fd, path);
  if (size !== expected) {
    throw new SegmentIoError(`${path} changed size ${when} (${expected} -> ${size} bytes)`, path);
  }
}

/**
 * Unmaps `buffer` (when there is one) after `primary` was thrown, so the
 * unmap never replaces it: a failure is {@link suppress}ed on `primary`.
 */
export function unmapQuietlyInto(
  files: FilesFacade,
  buffer: ArrayBuffer | undefined,
  primary: unknown,
): void {
  if (buffer === undefined) return;
  try {
    files.munmap(buffer);
  } catch (err) {
    suppress(primary, err);
  }
}

/** fstat(2) size of an open file, as a typed error on failure. */
export function sizeOf(files: FilesFacade, fd: number, path: string): number {
  try {
    return files.fstat(fd).size;
  } catch (err) {
    throw new SegmentIoError(`cannot stat ${path}`, path, err);
  }
}

/**
 * Closes `fd` after `primary` was thrown, so the close never replaces it: a
 * close failure becomes `primary`'s cause when it has none yet, else one of
 * its `suppressed` errors (see {@link suppress}).
 */
export function closeQuietlyInto(files: FilesFacade, fd: number, primary: unknown): void {
  try {
    files.close(fd);
  } catch (err) {
    suppress(primary, err);
  }
}

/**
 * fsync(2) of a directory, so a create, rename or unlink inside it survives
 * an OS crash. Throws {@link SegmentIoError} naming the directory.
 */
export function syncDirectory(files: FilesFacade, dir: string): void {
  try {
    files.fsyncDir(dir);
  } catch (err) {
    throw new SegmentIoError(
      `cannot fsync directory ${dir}: ${err instanceof Error ? err.message : String(err)}`,
      dir,
      err,
    );
  }
}
