import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inSmallTmpfs, packageRoot, tempDir } from './helpers.js';

// macOS has no posix_fallocate; src/posix.c reserves there with F_PREALLOCATE
// and fills holes by writing. No Mac runs these tests, so that path is built
// for this host (QWP_FALLOCATE_BY_WRITES, without F_PREALLOCATE, which is
// macOS-only) and run by the C program in test/fallocate-by-writes/. It checks
// the hole filling, growth and ENOSPC, not the macOS calls themselves.
const work = tempDir('qwp-files-fbw-');
afterAll(() => work.cleanup());

function build(): string {
  const exe = join(work.dir, 'fallocate-by-writes');
  execFileSync(
    process.env.CC ?? 'cc',
    [
      '-std=c11',
      '-O2',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-DQWP_FALLOCATE_BY_WRITES',
      `-I${join(packageRoot, 'src')}`,
      join(packageRoot, 'test', 'fallocate-by-writes', 'main.c'),
      join(packageRoot, 'src', 'posix.c'),
      '-o',
      exe,
    ],
    { timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return exe;
}

describe('fallocate by writes (the macOS path, built for this host)', () => {
  const exe = build();

  it('fills holes, grows the file and keeps its bytes', () => {
    const { dir, cleanup } = tempDir();
    try {
      const r = spawnSync(exe, ['basic', dir], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stdout.trim()).toBe('basic ok');
      expect(r.status).toBe(0);
    } finally {
      cleanup();
    }
  });

  it('reports ENOSPC at allocation on a full 256 KiB tmpfs, also for a sparse file', (ctx) => {
    const { dir, cleanup } = tempDir();
    try {
      const r = inSmallTmpfs(dir, [exe, 'enospc', dir]);
      if (r === null) {
        console.warn('skipped: cannot mount a tmpfs here (unshare/mount refused)');
        ctx.skip();
        return;
      }
      expect(r.stdout.trim()).toBe('enospc ok');
      expect(r.status).toBe(0);
    } finally {
      cleanup();
    }
  });
});
