import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from './helpers.js';

// A real msync EIO needs a failing disk, so the addon's msync, madvise and
// munmap are replaced by ones that throw what the addon throws (code, errno,
// syscall, no path: the kernel knows only the address); mmap stays real.
let failWith: string | undefined;
function failing(syscall: string) {
  return () => {
    const code = failWith;
    if (code === undefined) throw new Error('test bug: no failure armed');
    throw Object.assign(new Error(`${code}: i/o error, ${syscall}`), {
      code,
      errno: -5,
      syscall,
    });
  };
}
vi.mock('../src/native.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/native.js')>()),
  msync: failing('msync'),
  madvise: failing('madvise'),
  munmap: failing('munmap'),
}));

const { NodeFiles } = await import('../src/default-files.js');
const native = await import('../src/native.js');
const real = await vi.importActual<typeof import('../src/native.js')>('../src/native.js');

afterEach(() => {
  failWith = undefined;
});

describe('NodeFiles names the mapped file in errors from calls on a mapping', () => {
  it('msync, madvise and munmap errors carry the path the mapping was made from', () => {
    expect(native.msync).not.toBe(real.msync); // the stand-ins are in place
    const { dir, cleanup } = tempDir();
    const files = new NodeFiles();
    const path = join(dir, 'sf-0.sfa');
    const fd = files.open(path, 'w+');
    const page = files.pageSize();
    files.fallocate(fd, 0, page);
    const buf = files.mmap(fd, 0, page, 'rw');
    // A mapping this facade did not make (fd opened elsewhere) has no name to add.
    const foreignFd = openSync(join(dir, 'foreign.bin'), 'w+');
    files.fallocate(foreignFd, 0, page);
    const foreign = files.mmap(foreignFd, 0, page, 'rw');
    try {
      failWith = 'EIO';
      for (const [call, syscall] of [
        [() => files.msync(buf, 0, page, true), 'msync'],
        [() => files.madvise(buf, 0, page, 'willneed'), 'madvise'],
        [() => files.munmap(buf), 'munmap'],
      ] as const) {
        expect(call).toThrow(
          expect.objectContaining({
            code: 'EIO',
            syscall,
            path,
            message: `EIO: i/o error, ${syscall} '${path}'`,
          }),
        );
      }
      let foreignError: (Error & { path?: string }) | undefined;
      try {
        files.msync(foreign, 0, page, true);
      } catch (err) {
        foreignError = err as typeof foreignError;
      }
      expect(foreignError?.message).toBe('EIO: i/o error, msync');
      expect(foreignError?.path).toBeUndefined();
    } finally {
      failWith = undefined;
      // The real munmap, since the facade's is the stand-in.
      real.munmap(buf);
      real.munmap(foreign);
      files.close(fd);
      closeSync(foreignFd);
      cleanup();
    }
  });
});
