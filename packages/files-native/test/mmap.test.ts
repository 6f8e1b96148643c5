import {
  closeSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fallocate,
  fsyncDir,
  InvalidArgumentError,
  InvalidArgumentTypeError,
  InvalidStateError,
  madvise,
  mappingStats,
  mmap,
  msync,
  munmap,
  OutOfRangeError,
  pageSize,
  tryLock,
  unlock,
} from '../src/index.js';
import { tempDir } from './helpers.js';

const PAGE = pageSize();
let dir: string;
let cleanup: () => void;
let fds: number[];

function openFile(name: string, size: number, flags = 'w+'): number {
  const fd = openSync(join(dir, name), flags);
  fds.push(fd);
  if (size > 0) ftruncateSync(fd, size);
  return fd;
}

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  fds = [];
});
afterEach(() => {
  for (const fd of fds) closeSync(fd);
  cleanup();
});

describe('mmap round trip', () => {
  it('page size is a power of two of at least 4 KiB', () => {
    expect(PAGE).toBeGreaterThanOrEqual(4096);
    expect(PAGE & (PAGE - 1)).toBe(0);
  });

  it('writes through a rw mapping reach the file, and a new mapping reads them back', () => {
    const fd = openFile('a.bin', 0);
    fallocate(fd, 0, 3 * PAGE);
    const buf = mmap(fd, 0, 3 * PAGE, 'rw');
    expect(buf.byteLength).toBe(3 * PAGE);
    const view = new Uint8Array(buf);
    for (let i = 0; i < view.length; i++) view[i] = (i * 7) & 0xff;
    msync(buf, 0, buf.byteLength, true);
    munmap(buf);

    const onDisk = readFileSync(join(dir, 'a.bin'));
    expect(onDisk.length).toBe(3 * PAGE);
    for (let i = 0; i < onDisk.length; i += 997) expect(onDisk[i]).toBe((i * 7) & 0xff);

    const again = new Uint8Array(mmap(fd, 0, 3 * PAGE, 'r'));
    expect(Buffer.from(again).equals(onDisk)).toBe(true);
    munmap(again.buffer as ArrayBuffer);
  });

  it('maps at a page-aligned offset and sees the bytes written with node:fs', () => {
    const file = join(dir, 'b.bin');
    const content = Buffer.alloc(4 * PAGE);
    content.write('second page', PAGE);
    content.write('fourth page', 3 * PAGE);
    writeFileSync(file, content);
    const fd = openFile('b.bin', 0, 'r');
    const view = new Uint8Array(mmap(fd, PAGE, 3 * PAGE, 'r'));
    expect(Buffer.from(view.subarray(0, 11)).toString()).toBe('second page');
    expect(Buffer.from(view.subarray(2 * PAGE, 2 * PAGE + 11)).toString()).toBe('fourth page');
    munmap(view.buffer as ArrayBuffer);
  });

  it('two mappings of one file are separate buffers over the same bytes', () => {
    const fd = openFile('c.bin', PAGE);
    const a = new Uint8Array(mmap(fd, 0, PAGE, 'rw'));
    const b = new Uint8Array(mmap(fd, 0, PAGE, 'rw'));
    expect(a.buffer).not.toBe(b.buffer);
    a[100] = 42;
    expect(b[100]).toBe(42);
    munmap(a.buffer as ArrayBuffer);
    expect(b[100]).toBe(42);
    munmap(b.buffer as ArrayBuffer);
  });

  it('a mapping longer than the file is allowed (pages inside the file are usable)', () => {
    const fd = openFile('d.bin', PAGE);
    const view = new Uint8Array(mmap(fd, 0, 16 * PAGE, 'rw'));
    expect(view.length).toBe(16 * PAGE);
    view[PAGE - 1] = 9;
    munmap(view.buffer as ArrayBuffer);
    expect(readFileSync(join(dir, 'd.bin'))[PAGE - 1]).toBe(9);
  });
});

describe('fallocate', () => {
  it('reserves real blocks, unlike ftruncate, which leaves a hole', () => {
    const reserved = openFile('blocks.bin', 0);
    fallocate(reserved, 0, 64 * PAGE);
    const st = fstatSync(reserved);
    expect(st.size).toBe(64 * PAGE);
    // st_blocks counts 512-byte units actually allocated to the file.
    expect(st.blocks * 512).toBeGreaterThanOrEqual(64 * PAGE);
    const sparse = openFile('hole.bin', 64 * PAGE);
    expect(fstatSync(sparse).blocks * 512).toBeLessThan(64 * PAGE);
  });

  it('fills the holes of a sparse file without changing its bytes or shrinking it', () => {
    const fd = openFile('sparse.bin', 0);
    ftruncateSync(fd, 32 * PAGE);
    const buf = mmap(fd, 0, 32 * PAGE, 'rw');
    new Uint8Array(buf).set([1, 2, 3], 5 * PAGE + 7);
    munmap(buf);
    fallocate(fd, 4 * PAGE, 8 * PAGE);
    fallocate(fd, 0, 32 * PAGE);
    const st = fstatSync(fd);
    expect(st.size).toBe(32 * PAGE);
    expect(st.blocks * 512).toBeGreaterThanOrEqual(32 * PAGE);
    const bytes = readFileSync(join(dir, 'sparse.bin'));
    expect(Array.from(bytes.subarray(5 * PAGE + 6, 5 * PAGE + 11))).toEqual([0, 1, 2, 3, 0]);
    expect(bytes.subarray(0, 5 * PAGE).every((b) => b === 0)).toBe(true);
  });
});

describe('after munmap', () => {
  it('the buffer and every view read as zero-length', () => {
    const fd = openFile('e.bin', 2 * PAGE);
    const buf = mmap(fd, 0, 2 * PAGE, 'rw');
    const whole = new Uint8Array(buf);
    const part = new Uint8Array(buf, PAGE, 16);
    const dv = new DataView(buf);
    whole[0] = 1;
    munmap(buf);
    expect(buf.byteLength).toBe(0);
    expect(whole.length).toBe(0);
    expect(part.length).toBe(0);
    expect(whole[0]).toBeUndefined();
    expect(() => dv.getUint8(0)).toThrow(TypeError);
    whole[0] = 5; // silently ignored by a detached view: no memory is touched
    expect(whole[0]).toBeUndefined();
    expect(readFileSync(join(dir, 'e.bin'))[0]).toBe(1);
  });

  it('a second munmap is a no-op, and counters show exactly one unmap', () => {
    const fd = openFile('f.bin', PAGE);
    const before = mappingStats();
    const buf = mmap(fd, 0, PAGE, 'rw');
    munmap(buf);
    munmap(buf);
    munmap(buf);
    const after = mappingStats();
    expect(after.mapped - before.mapped).toBe(1);
    expect(after.unmappedByCall - before.unmappedByCall).toBe(1);
  });

  it('msync and madvise on an unmapped buffer throw ERR_QWP_FILES_INVALID_STATE', () => {
    const fd = openFile('g.bin', PAGE);
    const buf = mmap(fd, 0, PAGE, 'rw');
    munmap(buf);
    expect(() => msync(buf, 0, PAGE, true)).toThrow(
      expect.objectContaining({ code: 'ERR_QWP_FILES_INVALID_STATE' }),
    );
    expect(() => madvise(buf, 0, PAGE, 'willneed')).toThrow(
      expect.objectContaining({ code: 'ERR_QWP_FILES_INVALID_STATE' }),
    );
  });
});

describe('msync and madvise ranges', () => {
  it('accept any in-range sub-range, rounding the start down to a page', () => {
    const fd = openFile('h.bin', 4 * PAGE);
    const buf = mmap(fd, 0, 4 * PAGE, 'rw');
    new Uint8Array(buf)[PAGE + 5] = 77;
    // Unaligned start: without rounding the kernel would answer EINVAL.
    msync(buf, PAGE + 5, 1, true);
    msync(buf, 3, 0, false);
    msync(buf, 4 * PAGE, 0, true);
    for (const advice of ['normal', 'random', 'sequential', 'willneed', 'dontneed'] as const) {
      madvise(buf, 17, PAGE, advice);
    }
    expect(readFileSync(join(dir, 'h.bin'))[PAGE + 5]).toBe(77);
    // MS_ASYNC over real, partly unaligned ranges (the calls above with length 0 do nothing).
    new Uint8Array(buf)[3 * PAGE + 1] = 78;
    msync(buf, 0, 4 * PAGE, false);
    msync(buf, 3 * PAGE + 1, PAGE - 1, false);
    expect(readFileSync(join(dir, 'h.bin'))[3 * PAGE + 1]).toBe(78);
    // dontneed drops the pages from this mapping; a shared mapping refaults them from the file.
    expect(new Uint8Array(buf)[PAGE + 5]).toBe(77);
    munmap(buf);
  });

  it('reject ranges outside the mapping with ERR_QWP_FILES_OUT_OF_RANGE', () => {
    const fd = openFile('i.bin', 2 * PAGE);
    const buf = mmap(fd, 0, 2 * PAGE, 'rw');
    const outside: [number, number][] = [
      [0, 2 * PAGE + 1],
      [2 * PAGE, 1],
      [2 * PAGE + 1, 0],
      [-1, 10],
      [0.5, 10],
      [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ];
    for (const [offset, length] of outside) {
      expect(() => msync(buf, offset, length, true)).toThrow(RangeError);
      expect(() => madvise(buf, offset, length, 'normal')).toThrow(
        expect.objectContaining({ code: 'ERR_QWP_FILES_OUT_OF_RANGE' }),
      );
    }
    expect(() => madvise(buf, 0, 1, 'bogus' as 'normal')).toThrow(
      expect.objectContaining({ code: 'ERR_QWP_FILES_INVALID_ARG_VALUE' }),
    );
    expect(() => msync(buf, 0, 1, 1 as unknown as boolean)).toThrow(TypeError);
    munmap(buf);
  });
});

describe('bad arguments never crash', () => {
  const bad: [string, unknown[], string][] = [
    ['zero length', [0, 0], 'ERR_QWP_FILES_OUT_OF_RANGE'],
    ['negative length', [0, -4096], 'ERR_QWP_FILES_OUT_OF_RANGE'],
    ['fractional length', [0, 4096.5], 'ERR_QWP_FILES_OUT_OF_RANGE'],
    ['NaN length', [0, Number.NaN], 'ERR_QWP_FILES_OUT_OF_RANGE'],
    ['infinite length', [0, Number.POSITIVE_INFINITY], 'ERR_QWP_FILES_OUT_OF_RANGE'],
    ['length past MAX_SAFE_INTEGER', [0, 2 ** 60], 'ERR_QWP_FILES_OUT_OF_RANGE'],
    ['string length', [0, '4096'], 'ERR_QWP_FILES_INVALID_ARG_TYPE'],
    ['bigint length', [0, 4096n], 'ERR_QWP_FILES_INVALID_ARG_TYPE'],
    ['unaligned offset', [100, 4096], 'ERR_QWP_FILES_OUT_OF_RANGE'],
    ['negative offset', [-4096, 4096], 'ERR_QWP_FILES_OUT_OF_RANGE'],
    ['offset past MAX_SAFE_INTEGER', [2 ** 60, 4096], 'ERR_QWP_FILES_OUT_OF_RANGE'],
    ['null offset', [null, 4096], 'ERR_QWP_FILES_INVALID_ARG_TYPE'],
  ];
  it.each(bad)('mmap with %s throws %s', (_name, [offset, length], code) => {
    const fd = openFile('j.bin', PAGE);
    expect(() => mmap(fd, offset as number, length as number, 'rw')).toThrow(
      expect.objectContaining({ code }),
    );
  });

  it('mmap with a bad fd, mode or a huge length fails with a typed error', () => {
    const fd = openFile('k.bin', PAGE);
    expect(() => mmap(-1, 0, PAGE, 'rw')).toThrow(RangeError);
    expect(() => mmap(1.5, 0, PAGE, 'rw')).toThrow(RangeError);
    expect(() => mmap('3' as unknown as number, 0, PAGE, 'rw')).toThrow(TypeError);
    expect(() => mmap(fd, 0, PAGE, 'w' as 'rw')).toThrow(
      expect.objectContaining({ code: 'ERR_QWP_FILES_INVALID_ARG_VALUE' }),
    );
    // Larger than Node can wrap in one buffer: refused before any mapping is made.
    expect(() => mmap(fd, 0, Number.MAX_SAFE_INTEGER, 'rw')).toThrow(RangeError);
    const closed = openSync(join(dir, 'closed.bin'), 'w+');
    closeSync(closed);
    expect(() => mmap(closed, 0, PAGE, 'rw')).toThrow(
      expect.objectContaining({ code: 'EBADF', errno: -9, syscall: 'mmap' }),
    );
  });

  it('a rw mapping of a read-only fd fails with EACCES from the kernel', () => {
    openFile('l.bin', PAGE);
    const ro = openFile('l.bin', 0, 'r');
    let caught: (Error & { code?: string; errno?: number; syscall?: string }) | undefined;
    try {
      mmap(ro, 0, PAGE, 'rw');
    } catch (err) {
      caught = err as typeof caught;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught?.code).toBe('EACCES');
    expect(getSystemErrorName(caught?.errno ?? 0)).toBe('EACCES');
    expect(caught?.syscall).toBe('mmap');
    expect(caught?.message).toBe('EACCES: permission denied, mmap');
  });

  it('munmap, msync and madvise reject anything but a buffer from mmap', () => {
    const plain = new ArrayBuffer(PAGE);
    for (const value of [plain, new Uint8Array(PAGE), null, undefined, 7, 'x', {}]) {
      expect(() => munmap(value as ArrayBuffer)).toThrow(TypeError);
      expect(() => msync(value as ArrayBuffer, 0, 1, true)).toThrow(TypeError);
      expect(() => madvise(value as ArrayBuffer, 0, 1, 'normal')).toThrow(TypeError);
    }
    expect(plain.byteLength).toBe(PAGE);
  });

  it("the addon's argument and state errors are the package's classes, the original as cause", () => {
    const fd = openFile('classes.bin', PAGE);
    const buf = mmap(fd, 0, PAGE, 'rw');
    munmap(buf);
    const cases: [() => unknown, new (...args: never[]) => Error, string, RegExp][] = [
      [
        () => mmap(fd, 0, '1' as never, 'rw'),
        InvalidArgumentTypeError,
        'ERR_QWP_FILES_INVALID_ARG_TYPE',
        /"length"/,
      ],
      [() => mmap(fd, 0, 0, 'rw'), OutOfRangeError, 'ERR_QWP_FILES_OUT_OF_RANGE', /"length"/],
      [() => fallocate(-1, 0, 1), OutOfRangeError, 'ERR_QWP_FILES_OUT_OF_RANGE', /"fd"/],
      [
        () => munmap(new ArrayBuffer(8)),
        InvalidArgumentError,
        'ERR_QWP_FILES_INVALID_ARG_VALUE',
        /'buf'/,
      ],
      [() => fsyncDir('a\0b'), InvalidArgumentError, 'ERR_QWP_FILES_INVALID_ARG_VALUE', /'path'/],
      [() => msync(buf, 0, 1, true), InvalidStateError, 'ERR_QWP_FILES_INVALID_STATE', /msync/],
      [
        () => tryLock(null as never),
        InvalidArgumentTypeError,
        'ERR_QWP_FILES_INVALID_ARG_TYPE',
        /"fd"/,
      ],
    ];
    for (const [call, Class, code, names] of cases) {
      let caught: (Error & { code?: string }) | undefined;
      try {
        call();
      } catch (err) {
        caught = err as typeof caught;
      }
      expect(caught).toBeInstanceOf(Class);
      expect(caught?.code).toBe(code);
      expect(caught?.message).toMatch(names);
      expect((caught?.cause as { code?: string } | undefined)?.code).toBe(code);
    }
  });

  it('fallocate, tryLock, unlock and fsyncDir validate their arguments', () => {
    const fd = openFile('m.bin', 0);
    expect(() => fallocate(fd, 0, 0)).toThrow(RangeError);
    expect(() => fallocate(fd, -1, 10)).toThrow(RangeError);
    expect(() => fallocate(fd, 0, '10' as unknown as number)).toThrow(TypeError);
    expect(() => fallocate(123456, 0, 10)).toThrow(
      expect.objectContaining({ code: 'EBADF', syscall: 'fallocate' }),
    );
    expect(() => tryLock(-2)).toThrow(RangeError);
    expect(() => tryLock(123456)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => unlock(undefined as unknown as number)).toThrow(TypeError);
    expect(() => fsyncDir(42 as unknown as string)).toThrow(TypeError);
    expect(() => fsyncDir('a\0b')).toThrow(
      expect.objectContaining({ code: 'ERR_QWP_FILES_INVALID_ARG_VALUE' }),
    );
    const missing = join(dir, 'missing');
    expect(() => fsyncDir(missing)).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'open', path: missing }),
    );
    expect(() => fsyncDir(join(dir, 'm.bin'))).toThrow(
      expect.objectContaining({ code: 'ENOTDIR' }),
    );
    fsyncDir(dir);
  });
});
