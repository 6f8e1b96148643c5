import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addLocalBuild, compiledCopy, tempDir } from './helpers.js';

/** What a child reports about one call: null when it returned, else its error. */
interface Thrown {
  name: string;
  code: string;
  message: string;
  cause: boolean;
  typed: boolean;
}

/**
 * A child script importing the package copy at `dir` without its addon: what
 * the import, each native call (direct and through defaultFiles) and the
 * node:fs calls of defaultFiles do, with files under `work`.
 */
function withoutAddonScript(dir: string, work: string): string {
  return `
    import { join } from 'node:path';
    const m = await import(${JSON.stringify(join(dir, 'dist', 'index.js'))});
    const described = (e) => e == null ? null : ({
      name: e.constructor.name, code: e.code, message: e.message,
      cause: e.cause instanceof Error, typed: e instanceof m.AddonLoadError,
    });
    const thrown = (f) => { try { f(); return null; } catch (e) { return described(e); } };
    const work = ${JSON.stringify(work)};
    const f = m.defaultFiles;
    const report = { loadError: described(m.nativeLoadError()), loadNative: thrown(() => m.loadNative()) };

    const fd = f.open(join(work, 'a.bin'), 'w+');
    const buf = new ArrayBuffer(4096);
    report.direct = {
      mmap: thrown(() => m.mmap(fd, 0, 4096, 'rw')),
      munmap: thrown(() => m.munmap(buf)),
      msync: thrown(() => m.msync(buf, 0, 1, true)),
      madvise: thrown(() => m.madvise(buf, 0, 1, 'normal')),
      fallocate: thrown(() => m.fallocate(fd, 0, 4096)),
      tryLock: thrown(() => m.tryLock(fd)),
      unlock: thrown(() => m.unlock(fd)),
      fsyncDir: thrown(() => m.fsyncDir(work)),
      pageSize: thrown(() => m.pageSize()),
      mappingStats: thrown(() => m.mappingStats()),
      addonPath: thrown(() => m.addonPath()),
    };
    report.facade = {
      mmap: thrown(() => f.mmap(fd, 0, 4096, 'rw')),
      munmap: thrown(() => f.munmap(buf)),
      msync: thrown(() => f.msync(buf, 0, 1, true)),
      madvise: thrown(() => f.madvise(buf, 0, 1, 'normal')),
      fallocate: thrown(() => f.fallocate(fd, 0, 4096)),
      tryLock: thrown(() => f.tryLock(fd)),
      unlock: thrown(() => f.unlock(fd)),
      fsyncDir: thrown(() => f.fsyncDir(work)),
      pageSize: thrown(() => f.pageSize()),
    };
    // Argument checks made in JS come first, addon or not.
    report.badMode = thrown(() => m.mmap(fd, 0, 4096, 'x'));

    // Everything node:fs does for defaultFiles.
    const written = f.pwrite(fd, Buffer.from('hello world'), 0, 11, 0);
    f.fsync(fd);
    f.ftruncate(fd, 5);
    const back = Buffer.alloc(5);
    const read = f.pread(fd, back, 0, 5, 0);
    const size = f.fstat(fd).size;
    f.close(fd);
    f.mkdir(join(work, 'sub', 'deeper'), true);
    f.rename(join(work, 'a.bin'), join(work, 'sub', 'b.bin'));
    const listing = f.readdir(join(work, 'sub')).sort();
    const isFile = f.stat(join(work, 'sub', 'b.bin')).isFile;
    f.unlink(join(work, 'sub', 'b.bin'));
    report.plain = { written, read, text: back.toString(), size, listing, isFile, after: f.readdir(join(work, 'sub')) };
    report.selfCheck = m.selfCheck();
    console.log(JSON.stringify(report));`;
}

describe('loading the addon', () => {
  it('without a prebuild or build/, the import works, native calls throw AddonLoadError with the cause and node:fs calls work; with build/Release it loads that', {
    timeout: 90_000,
  }, () => {
    const { dir, cleanup } = tempDir('qwp-files-load-');
    try {
      // The compiled JS alone, beside the real node_modules (for node-gyp-build),
      // with neither prebuilds/ nor build/ next to it.
      compiledCopy(dir);
      const work = join(dir, 'work');
      mkdirSync(work);
      const out = JSON.parse(
        execFileSync(
          process.execPath,
          ['--input-type=module', '-e', withoutAddonScript(dir, work)],
          {
            encoding: 'utf8',
            timeout: 30_000,
          },
        ).trim(),
      );
      const platform = `${process.platform}-${process.arch}`;
      const loadError = {
        name: 'AddonLoadError',
        code: 'ERR_QWP_FILES_LOAD',
        cause: true,
        typed: true,
      };
      expect(out.loadError).toMatchObject(loadError);
      expect(out.loadError.message).toContain(platform);
      expect(out.loadError.message).toContain(dir);
      expect(out.loadNative).toEqual(out.loadError);
      for (const [group, calls] of Object.entries(out as Record<string, Record<string, Thrown>>)) {
        if (group !== 'direct' && group !== 'facade') continue;
        expect(Object.keys(calls).length).toBeGreaterThanOrEqual(9);
        for (const [call, e] of Object.entries(calls)) {
          expect(e, `${group} ${call}`).toMatchObject(loadError);
          // Named after the call (defaultFiles' methods share the names of the addon's).
          expect(e.message).toContain(`@qwp/files-native: ${call} needs the native addon`);
          expect(e.message).toContain(platform);
        }
      }
      expect(out.badMode).toMatchObject({
        name: 'InvalidArgumentError',
        code: 'ERR_QWP_FILES_INVALID_ARG_VALUE',
      });
      expect(out.plain).toEqual({
        written: 11,
        read: 5,
        text: 'hello',
        size: 5,
        listing: ['b.bin', 'deeper'],
        isFile: true,
        after: ['deeper'],
      });
      expect(out.selfCheck.ok).toBe(false);
      expect(out.selfCheck.details).toMatch(/^ERR_QWP_FILES_LOAD: .*no loadable native build/);

      // The same copy with a local build and still no prebuild: node-gyp-build's fallback.
      addLocalBuild(dir);
      const local = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(join(dir, 'dist', 'index.js'))});
           console.log(JSON.stringify({ error: m.nativeLoadError() ?? null, path: m.addonPath(), page: m.pageSize() }));`,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      const loaded = JSON.parse(local.trim());
      expect(loaded.error).toBeNull();
      expect(loaded.path).toBe(join(dir, 'build', 'Release', 'files_native.node'));
      expect(loaded.page).toBeGreaterThanOrEqual(4096);
    } finally {
      cleanup();
    }
  });
});
