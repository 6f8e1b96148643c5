import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultFiles } from '../src/index.js';
import { FaultInjectingFiles } from '../src/testing.js';
import { inSmallTmpfs, prelude, tempDir } from './helpers.js';

describe('fallocate on a full file system', () => {
  it('reports ENOSPC from a real 256 KiB tmpfs', (ctx) => {
    const { dir, cleanup } = tempDir();
    try {
      const result = inSmallTmpfs(dir, [
        process.execPath,
        '-e',
        `${prelude}
        const fd = fs.openSync(process.argv[1] + '/seg.sfa', 'w+');
        b.fallocate(fd, 0, 64 * 1024);
        let error = null;
        try { b.fallocate(fd, 0, 4 * 1024 * 1024); } catch (e) {
          error = { code: e.code, errno: e.errno, syscall: e.syscall, message: e.message };
        }
        // A full-size sparse file (a recovered segment) must fail here too, not at a store.
        const sparse = fs.openSync(process.argv[1] + '/sparse.sfa', 'w+');
        fs.ftruncateSync(sparse, 4 * 1024 * 1024);
        let sparseError = null;
        try { b.fallocate(sparse, 0, 4 * 1024 * 1024); } catch (e) { sparseError = e.code; }
        console.log(JSON.stringify({ size: fs.fstatSync(fd).size, error, sparseError }));
        `,
        '--',
        dir,
      ]);
      if (result === null) {
        console.warn(
          'skipped: cannot mount a tmpfs here (unshare/mount refused); see the fault-facade test',
        );
        ctx.skip();
        return;
      }
      expect(result.stderr).toBe('');
      const out = JSON.parse(result.stdout);
      expect(out.size).toBe(64 * 1024);
      expect(out.error).toEqual({
        code: 'ENOSPC',
        errno: -28,
        syscall: 'fallocate',
        message: 'ENOSPC: no space left on device, fallocate',
      });
      expect(out.sparseError).toBe('ENOSPC');
    } finally {
      cleanup();
    }
  });

  it('reports ENOSPC, naming the file, through the fault facade on any machine', () => {
    const { dir, cleanup } = tempDir();
    const files = new FaultInjectingFiles(defaultFiles);
    const path = join(dir, 'seg.sfa');
    const fd = files.open(path, 'w+');
    try {
      files.enospcOnFallocate({ nth: 2 });
      files.fallocate(fd, 0, 4096);
      expect(() => files.fallocate(fd, 0, 8192)).toThrow(
        expect.objectContaining({ code: 'ENOSPC', errno: -28, syscall: 'fallocate', path }),
      );
      expect(files.fstat(fd).size).toBe(4096);
    } finally {
      files.close(fd);
      cleanup();
    }
  });
});
