import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addLocalBuild, compiledCopy, tempDir } from './helpers.js';

describe('loading the addon', () => {
  it('a package copy with no prebuild and no build/ throws AddonLoadError with the cause; with build/Release it loads that', {
    timeout: 90_000,
  }, () => {
    const { dir, cleanup } = tempDir('qwp-files-load-');
    try {
      // The compiled JS alone, beside the real node_modules (for node-gyp-build),
      // with neither prebuilds/ nor build/ next to it.
      compiledCopy(dir);
      const script = `
        try {
          await import(${JSON.stringify(join(dir, 'dist', 'index.js'))});
          console.log(JSON.stringify({ loaded: true }));
        } catch (e) {
          console.log(JSON.stringify({ name: e.constructor.name, code: e.code, message: e.message, cause: e.cause instanceof Error }));
        }`;
      const out = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          encoding: 'utf8',
          timeout: 30_000,
        }).trim(),
      );
      expect(out.name).toBe('AddonLoadError');
      expect(out.code).toBe('ERR_QWP_FILES_LOAD');
      expect(out.message).toContain(`${process.platform}-${process.arch}`);
      expect(out.cause).toBe(true);

      // The same copy with a local build and still no prebuild: node-gyp-build's fallback.
      addLocalBuild(dir);
      const local = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(join(dir, 'dist', 'index.js'))});
           console.log(JSON.stringify({ path: m.addonPath, page: m.pageSize() }));`,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      const loaded = JSON.parse(local.trim());
      expect(loaded.path).toBe(join(dir, 'build', 'Release', 'files_native.node'));
      expect(loaded.page).toBeGreaterThanOrEqual(4096);
    } finally {
      cleanup();
    }
  });
});
