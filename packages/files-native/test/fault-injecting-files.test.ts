import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultFiles, FileSystemError } from '../src/index.js';
import { FaultInjectingFiles, InjectedFaultError } from '../src/testing.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let files: FaultInjectingFiles;
let open: number[];

function openFile(name: string): number {
  const fd = files.open(join(dir, name), 'w+');
  open.push(fd);
  return fd;
}

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  files = new FaultInjectingFiles(defaultFiles);
  open = [];
});
afterEach(() => {
  files.clearFaults();
  for (const fd of open) defaultFiles.close(fd);
  cleanup();
});

/** Runs fn and returns what it threw (fails the test if it did not throw). */
function thrown(
  fn: () => unknown,
): Error & { code?: string; errno?: number; syscall?: string; path?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('FaultInjectingFiles', () => {
  it('passes calls through untouched and counts them', () => {
    const fd = openFile('a.bin');
    const data = Buffer.from('abcdef');
    expect(files.pwrite(fd, data, 0, 6, 0)).toBe(6);
    const back = Buffer.alloc(6);
    expect(files.pread(fd, back, 0, 6, 0)).toBe(6);
    expect(back.toString()).toBe('abcdef');
    files.fsync(fd);
    expect(files.calls.open).toBe(1);
    expect(files.calls.pwrite).toBe(1);
    expect(files.calls.pread).toBe(1);
    expect(files.calls.fsync).toBe(1);
    expect(files.calls.unlink).toBe(0);
    expect(files.faultsRaised).toBe(0);
    files.resetCounters();
    expect(files.calls.pwrite).toBe(0);
  });

  it('short write: pwrite writes fewer bytes than asked and says so', () => {
    const fd = openFile('b.bin');
    const fault = files.shortWrite({ next: 1 }, 3);
    expect(files.pwrite(fd, Buffer.from('0123456789'), 0, 10, 0)).toBe(3);
    expect(readFileSync(join(dir, 'b.bin')).toString()).toBe('012');
    expect(fault.hits).toBe(1);
    expect(fault.spent).toBe(true);
    expect(files.pwrite(fd, Buffer.from('0123456789'), 0, 10, 0)).toBe(10);
    files.shortWrite({ nth: 1 });
    expect(files.pwrite(fd, Buffer.from('abcdefgh'), 2, 6, 0)).toBe(3);
    expect(readFileSync(join(dir, 'b.bin')).toString()).toBe('cde3456789');
  });

  it('EIO on fsync, as a real Node-style error naming the file', () => {
    const fd = openFile('c.bin');
    files.eioOnFsync({ next: 2 });
    for (let i = 0; i < 2; i++) {
      const err = thrown(() => files.fsync(fd));
      expect(err).toBeInstanceOf(Error);
      expect(err).toBeInstanceOf(FileSystemError);
      expect(err).toBeInstanceOf(InjectedFaultError);
      expect(err.code).toBe('EIO');
      expect(err.errno).toBe(-5);
      expect(err.syscall).toBe('fsync');
      expect(err.path).toBe(join(dir, 'c.bin'));
      expect(err.message).toBe(`EIO: i/o error, fsync '${join(dir, 'c.bin')}'`);
    }
    files.fsync(fd);
    expect(files.faultsRaised).toBe(2);
    expect(files.calls.fsync).toBe(3);
  });

  it('ENOSPC on fallocate hits only the nth call', () => {
    const fd = openFile('d.bin');
    files.enospcOnFallocate({ nth: 3 });
    files.fallocate(fd, 0, 4096);
    files.fallocate(fd, 0, 8192);
    expect(thrown(() => files.fallocate(fd, 0, 12288)).code).toBe('ENOSPC');
    files.fallocate(fd, 0, 12288);
    expect(files.fstat(fd).size).toBe(12288);
  });

  it('failed mmap, by a predicate on the path', () => {
    const seg = openFile('sf-0.sfa');
    const other = openFile('other.bin');
    files.fallocate(seg, 0, 4096);
    files.fallocate(other, 0, 4096);
    const fault = files.failMmap({ path: (p) => p.endsWith('.sfa') });
    for (let i = 0; i < 3; i++) {
      const err = thrown(() => files.mmap(seg, 0, 4096, 'rw'));
      expect(err.code).toBe('ENOMEM');
      expect(err.syscall).toBe('mmap');
    }
    const buf = files.mmap(other, 0, 4096, 'rw');
    expect(buf.byteLength).toBe(4096);
    files.munmap(buf);
    fault.disarm();
    files.munmap(files.mmap(seg, 0, 4096, 'rw'));
    expect(fault.hits).toBe(3);
  });

  it('calls on a mapping match a path predicate on the file it was mapped from', () => {
    const seg = openFile('sf-1.sfa');
    const other = openFile('other.bin');
    files.fallocate(seg, 0, 4096);
    files.fallocate(other, 0, 4096);
    const segBuf = files.mmap(seg, 0, 4096, 'rw');
    const otherBuf = files.mmap(other, 0, 4096, 'rw');
    const onSegments = (p: string) => p.endsWith('.sfa');
    files.inject('msync', { path: onSegments });
    files.inject('madvise', { path: onSegments, code: 'EINVAL' });
    files.inject('munmap', { next: 1, path: onSegments, code: 'EINVAL' });
    const err = thrown(() => files.msync(segBuf, 0, 4096, true));
    expect(err).toMatchObject({ code: 'EIO', syscall: 'msync', path: join(dir, 'sf-1.sfa') });
    expect(thrown(() => files.madvise(segBuf, 0, 4096, 'willneed'))).toMatchObject({
      code: 'EINVAL',
      syscall: 'madvise',
      path: join(dir, 'sf-1.sfa'),
    });
    files.msync(otherBuf, 0, 4096, true);
    files.madvise(otherBuf, 0, 4096, 'willneed');
    files.munmap(otherBuf);
    expect(thrown(() => files.munmap(segBuf)).path).toBe(join(dir, 'sf-1.sfa'));
    files.munmap(segBuf);
    expect(segBuf.byteLength).toBe(0);
  });

  it('readdir error, with a chosen code', () => {
    files.failReaddir({ next: 1 }, 'EACCES');
    const err = thrown(() => files.readdir(dir));
    expect(err.code).toBe('EACCES');
    expect(err.syscall).toBe('scandir');
    expect(err.path).toBe(dir);
    expect(files.readdir(dir)).toEqual([]);
  });

  it('unlink failure leaves the file in place', () => {
    const fd = openFile('e.bin');
    files.close(fd);
    open.pop();
    const path = join(dir, 'e.bin');
    files.failUnlink({ next: 1 });
    expect(thrown(() => files.unlink(path)).code).toBe('EACCES');
    expect(files.stat(path).isFile).toBe(true);
    files.unlink(path);
    expect(files.readdir(dir)).toEqual([]);
  });

  it('a path predicate counts only matching calls toward nth', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    files.mkdir(a, false);
    files.mkdir(b, false);
    files.failReaddir({ nth: 2, path: (p) => p === b });
    files.readdir(b);
    files.readdir(a);
    files.readdir(a);
    expect(thrown(() => files.readdir(b)).path).toBe(b);
    files.readdir(b);
  });

  it('any method can be faulted with inject, and a faulted close still closes', () => {
    const fd = openFile('f.bin');
    open.pop();
    files.inject('close', { next: 1, code: 'EIO' });
    expect(thrown(() => files.close(fd)).code).toBe('EIO');
    expect(() => defaultFiles.fstat(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    files.inject('rename', { next: 1, code: 'EXDEV', path: (p) => p.endsWith('.to') });
    expect(thrown(() => files.rename(join(dir, 'x'), join(dir, 'x.to'))).code).toBe('EXDEV');
  });

  it('a pwrite fault with a code throws instead of writing short', () => {
    const fd = openFile('g.bin');
    files.inject('pwrite', { next: 1, code: 'ENOSPC' });
    const err = thrown(() => files.pwrite(fd, Buffer.from('x'), 0, 1, 0));
    expect(err.code).toBe('ENOSPC');
    expect(err.syscall).toBe('write');
    expect(files.fstat(fd).size).toBe(0);
  });

  it('rejects triggers that make no sense', () => {
    expect(() => files.inject('fsync', { next: 0 })).toThrow(RangeError);
    expect(() => files.inject('fsync', { nth: 1.5 })).toThrow(RangeError);
    expect(() => files.inject('fsync', { next: 1, nth: 1 })).toThrow(RangeError);
    expect(() => files.shortWrite({}, -1)).toThrow(RangeError);
    expect(() => files.inject('nope' as 'fsync')).toThrow(TypeError);
    expect(() => files.inject('fsync', { next: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_QWP_FILES_OUT_OF_RANGE' }),
    );
    expect(() => files.inject('nope' as 'fsync')).toThrow(
      expect.objectContaining({ code: 'ERR_QWP_FILES_INVALID_ARG_VALUE' }),
    );
  });
});
