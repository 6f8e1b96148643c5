import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from './helpers.js';

// No AArch64 CPU runs these tests, so the arm64 kernel is compiled for this
// host with its two CRC intrinsics emulated in C (test/arm64-emulation/) and
// compared with the portable kernel. That checks the stream splitting and
// joining logic, not the real instructions or the HWCAP detection.
const work = mkdtempSync(join(tmpdir(), 'qwp-crc32c-arm64-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('arm64 kernel under emulated intrinsics', () => {
  it('agrees with the portable kernel and gives the check value', () => {
    const src = join(PACKAGE_ROOT, 'src');
    const here = join(PACKAGE_ROOT, 'test', 'arm64-emulation');
    const exe = join(work, 'arm64-emulated');
    execFileSync(
      process.env.CC ?? 'cc',
      [
        '-std=c11',
        '-O2',
        '-D__aarch64__',
        '-D__ARM_FEATURE_CRC32',
        // Takes the Apple branch of the CPU check, which needs no getauxval.
        '-U__linux__',
        '-D__APPLE__',
        `-I${here}`,
        `-I${src}`,
        join(here, 'main.c'),
        join(src, 'crc32c_arm64.c'),
        join(src, 'crc32c_portable.c'),
        '-o',
        exe,
      ],
      { timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = execFileSync(exe, [], { encoding: 'utf8', timeout: 60_000 }).trim();
    expect(out).toBe('armv8-crc 0 e3069283');
  }, 90_000);
});
