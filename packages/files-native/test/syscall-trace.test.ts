import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLocalBuild, compiledCopy, packageRoot, tempDir } from './helpers.js';

// What reaches libc is invisible from JS: MS_SYNC vs MS_ASYNC, which advice,
// LOCK_NB, whether a directory is fsynced, how many times a region is
// unmapped. A child runs the package (compiled to a temp copy) under an
// LD_PRELOAD shim (test/syscall-trace/shim.c) that logs those calls.
const work = tempDir('qwp-files-trace-');
let shim = '';
let copyRoot = '';

beforeAll(() => {
  shim = join(work.dir, 'shim.so');
  execFileSync(
    process.env.CC ?? 'cc',
    [
      '-shared',
      '-fPIC',
      '-O2',
      join(packageRoot, 'test', 'syscall-trace', 'shim.c'),
      '-o',
      shim,
      '-ldl',
    ],
    { timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  copyRoot = join(work.dir, 'pkg');
  compiledCopy(copyRoot);
  addLocalBuild(copyRoot);
}, 120_000);
afterAll(() => work.cleanup());

const ADVICE = ['normal', 'random', 'sequential', 'willneed', 'dontneed'] as const;
// Linux values: MS_ASYNC 1, MS_SYNC 4; MADV_NORMAL..MADV_DONTNEED 0..4;
// LOCK_EX 2 | LOCK_NB 4, LOCK_UN 8; PROT_READ 1 | PROT_WRITE 2.
const MADV = [0, 1, 2, 3, 4];
// A distinct length per advice (in pages) tells its call apart from V8's own madvise calls.
const ADVICE_PAGES = [3, 5, 6, 7, 9];

describe.runIf(process.platform === 'linux')('the libc calls the package makes', () => {
  it('msync flags, madvise advice, mmap protection, one munmap, LOCK_NB, directory fsync', () => {
    const { dir, cleanup } = tempDir();
    const log = join(dir, 'trace.log');
    try {
      const script = `
        import * as f from ${JSON.stringify(join(copyRoot, 'dist', 'index.js'))};
        import { openSync } from 'node:fs';
        const dir = process.argv[1];
        const P = f.pageSize();
        const fd = openSync(dir + '/t.bin', 'w+');
        f.fallocate(fd, 0, 13 * P);
        let buf = f.mmap(fd, 0, 13 * P, 'rw');
        f.msync(buf, P + 5, 1, true);
        f.msync(buf, 0, 13 * P, false);
        f.msync(buf, 3, 0, true);
        const pages = ${JSON.stringify(ADVICE_PAGES)};
        ${JSON.stringify(ADVICE)}.forEach((a, i) => f.madvise(buf, P + 1, pages[i] * P, a));
        f.munmap(buf);
        f.munmap(buf);
        buf = null;
        globalThis.gc();
        await new Promise((r) => setImmediate(r));
        globalThis.gc();
        f.munmap(f.mmap(fd, 0, 11 * P, 'r'));
        const locked = f.tryLock(fd);
        f.unlock(fd);
        f.fsyncDir(dir);
        console.log(JSON.stringify({ fd, P, locked }));
      `;
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', '--input-type=module', '-e', script, '--', dir],
        {
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, LD_PRELOAD: shim, QWP_TRACE_LOG: log },
        },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const { fd, P, locked } = JSON.parse(r.stdout.trim());
      expect(locked).toBe(true);
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      const has = (line: string) => lines.filter((l) => l === line).length;

      expect(has(`fallocate fd=${fd} off=0 len=${13 * P}`)).toBe(1);
      const rw = lines.find((l) =>
        l.startsWith(`mmap len=${13 * P} prot=3 shared=1 fd=${fd} off=0`),
      );
      expect(rw, lines.join('\n')).toBeDefined();
      const base = BigInt(rw!.split('addr=')[1]!);
      const at = (offset: number) => `0x${(base + BigInt(offset)).toString(16)}`;

      // MS_SYNC over the page holding [P + 5, P + 6), MS_ASYNC over all, nothing for length 0.
      expect(has(`msync addr=${at(P)} len=6 flags=4`)).toBe(1);
      expect(has(`msync addr=${at(0)} len=${13 * P} flags=1`)).toBe(1);
      expect(lines.filter((l) => l.startsWith('msync')).length).toBe(2);

      ADVICE.forEach((_, i) => {
        expect(has(`madvise addr=${at(P)} len=${ADVICE_PAGES[i]! * P + 1} advice=${MADV[i]}`)).toBe(
          1,
        );
      });

      // munmap twice and a collection: the region is unmapped once.
      expect(lines.filter((l) => l.startsWith(`munmap addr=${at(0)} `))).toEqual([
        `munmap addr=${at(0)} len=${13 * P}`,
      ]);
      expect(lines.some((l) => l.startsWith(`mmap len=${11 * P} prot=1 shared=1 fd=${fd}`))).toBe(
        true,
      );
      expect(has(`flock fd=${fd} op=6`)).toBe(1);
      expect(has(`flock fd=${fd} op=8`)).toBe(1);
      expect(lines.filter((l) => /^fsync fd=\d+ dir=1$/.test(l)).length).toBe(1);
    } finally {
      cleanup();
    }
  }, 60_000);
});
