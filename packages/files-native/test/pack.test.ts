import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot, tempDir } from './helpers.js';

const PNPM = ['-y', 'pnpm@10.34.9'];
const STEP_TIMEOUT = 60_000;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('the packed tarball', () => {
  it('installs into an empty project without scripts, loads its prebuild and maps a file', {
    timeout: 180_000,
  }, () => {
    const prebuilds = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
    if (!existsSync(prebuilds) || readdirSync(prebuilds).length === 0) {
      run('npx', [...PNPM, 'run', 'build'], packageRoot);
    } else if (!existsSync(join(packageRoot, 'dist', 'index.js'))) {
      run('npx', ['tsc', '-p', 'tsconfig.build.json'], packageRoot);
    }
    const { dir, cleanup } = tempDir('qwp-files-pack-');
    try {
      run('npx', [...PNPM, 'pack', '--pack-destination', dir], packageRoot);
      const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
      expect(tarball).toBeDefined();

      const app = join(dir, 'app');
      run('mkdir', ['-p', app], dir);
      writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}\n');
      run(
        'npm',
        [
          'install',
          '--ignore-scripts',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          join(dir, tarball!),
        ],
        app,
      );
      const installed = join(app, 'node_modules', '@qwp', 'files-native');
      const shipped = readdirSync(installed);
      expect(shipped).toEqual(expect.arrayContaining(['dist', 'prebuilds', 'binding.gyp', 'src']));
      expect(readdirSync(join(installed, 'src')).sort()).toEqual(
        ['binding.c', 'platform.h', 'posix.c', 'win32.c'].sort(),
      );
      expect(existsSync(join(installed, 'build'))).toBe(false);

      const script = `
        import { openSync, closeSync } from 'node:fs';
        import { addonPath, defaultFiles, mmap, munmap, pageSize, selfCheck } from '@qwp/files-native';
        const fd = openSync('data.bin', 'w+');
        defaultFiles.fallocate(fd, 0, pageSize());
        const view = new Uint8Array(mmap(fd, 0, pageSize(), 'rw'));
        view.set([1, 2, 3]);
        munmap(view.buffer);
        closeSync(fd);
        console.log(JSON.stringify({ addonPath: addonPath(), selfCheck: selfCheck().ok, after: view.length }));
      `;
      const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], app));
      expect(out.selfCheck).toBe(true);
      expect(out.after).toBe(0);
      expect(out.addonPath.startsWith(join(installed, 'prebuilds'))).toBe(true);
    } finally {
      cleanup();
    }
  });
});
