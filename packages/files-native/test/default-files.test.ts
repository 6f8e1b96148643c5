import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultFiles as files, selfCheck } from '../src/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

describe('defaultFiles', () => {
  it('does the segment life cycle: create, size, map, write, sync, rename, list, unlink', () => {
    const tmp = join(dir, 'seg.tmp');
    const final = join(dir, 'sf-000000000000002a.sfa');
    const fd = files.open(tmp, 'wx+', 0o644);
    const page = files.pageSize();
    files.fallocate(fd, 0, 4 * page);
    expect(files.fstat(fd)).toMatchObject({ size: 4 * page, isFile: true, isDirectory: false });
    const buf = files.mmap(fd, 0, 4 * page, 'rw');
    files.madvise(buf, 0, 4 * page, 'sequential');
    new Uint8Array(buf).set([0x53, 0x46, 0x30, 0x31]);
    files.msync(buf, 0, 4, true);
    files.munmap(buf);
    const head = new Uint8Array(4);
    expect(files.pread(fd, head, 0, 4, 0)).toBe(4);
    expect(Array.from(head)).toEqual([0x53, 0x46, 0x30, 0x31]);
    expect(files.pwrite(fd, Buffer.from('tail'), 0, 4, 4 * page)).toBe(4);
    files.fsync(fd);
    files.ftruncate(fd, 2 * page);
    expect(files.fstat(fd).size).toBe(2 * page);
    files.close(fd);
    files.rename(tmp, final);
    files.fsyncDir(dir);
    expect(files.readdir(dir)).toEqual(['sf-000000000000002a.sfa']);
    const st = files.stat(final);
    expect(st.isFile).toBe(true);
    expect(st.mtimeMs).toBeGreaterThan(0);
    expect(files.stat(dir).isDirectory).toBe(true);
    files.unlink(final);
    expect(files.readdir(dir)).toEqual([]);
  });

  it('mkdir: recursive creates parents and tolerates existing; plain fails with EEXIST', () => {
    const deep = join(dir, 'a', 'b', 'c');
    files.mkdir(deep, true);
    files.mkdir(deep, true);
    expect(files.stat(deep).isDirectory).toBe(true);
    expect(() => files.mkdir(deep, false)).toThrow(
      expect.objectContaining({ code: 'EEXIST', syscall: 'mkdir', path: deep }),
    );
  });

  it('errors carry code, errno, syscall and path, also for fd-based calls', () => {
    const missing = join(dir, 'missing');
    for (const [call, syscall] of [
      [() => files.open(missing, 'r'), 'open'],
      [() => files.stat(missing), 'stat'],
      [() => files.unlink(missing), 'unlink'],
      [() => files.readdir(missing), 'scandir'],
      [() => files.rename(missing, join(dir, 'x')), 'rename'],
      [() => files.fsyncDir(missing), 'open'],
    ] as const) {
      expect(call).toThrow(
        expect.objectContaining({ code: 'ENOENT', errno: -2, syscall, path: missing }),
      );
    }
    // A read-only fd: the kernel refuses these, and the facade names the file.
    const file = join(dir, 'ro.bin');
    writeFileSync(file, 'x');
    const fd = files.open(file, 'r');
    try {
      expect(() => files.fallocate(fd, 0, 4096)).toThrow(
        expect.objectContaining({ code: 'EBADF', syscall: 'fallocate', path: file }),
      );
      expect(() => files.mmap(fd, 0, 4096, 'rw')).toThrow(
        expect.objectContaining({ code: 'EACCES', syscall: 'mmap', path: file }),
      );
      expect(() => files.pwrite(fd, Buffer.from('y'), 0, 1, 0)).toThrow(
        expect.objectContaining({ code: 'EBADF', syscall: 'write', path: file }),
      );
      let message = '';
      try {
        files.fallocate(fd, 0, 4096);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toBe(`EBADF: bad file descriptor, fallocate '${file}'`);
    } finally {
      files.close(fd);
    }
  });

  it('tryLock is per open file: a second open of the same file is refused until unlock', () => {
    const file = join(dir, '.lock');
    const a = files.open(file, 'w+');
    const b = files.open(file, 'r+');
    try {
      expect(files.tryLock(a)).toBe(true);
      expect(files.tryLock(b)).toBe(false);
      files.unlock(a);
      expect(files.tryLock(b)).toBe(true);
      expect(files.tryLock(a)).toBe(false);
    } finally {
      files.close(a);
      files.close(b);
    }
  });

  it('forgets the path of an fd once it is closed', () => {
    const fd = files.open(join(dir, 'closed.bin'), 'w+');
    files.close(fd);
    let caught: (Error & { code?: string; path?: string }) | undefined;
    try {
      files.fsync(fd);
    } catch (err) {
      caught = err as typeof caught;
    }
    expect(caught?.code).toBe('EBADF');
    expect(caught?.path).toBeUndefined();
  });
});

describe('selfCheck', () => {
  it('maps, writes, unmaps, remaps and reads back on this machine', () => {
    const result = selfCheck();
    expect(result.details).toMatch(/re-read \d+ bytes/);
    expect(result.ok).toBe(true);
  });
});
