import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { removeDir, requireDist, tempDir } from './helpers.js';

/**
 * The producer's append path must make no syscall in the steady state (no
 * rotation): scripts/syscall-probe.mjs appends 5000 frames between two
 * marker stat() calls, under strace. Skipped where strace cannot trace.
 */

const probe = fileURLToPath(new URL('../scripts/syscall-probe.mjs', import.meta.url));
const straceWorks =
  spawnSync('strace', ['-o', '/dev/null', 'true'], { timeout: 10_000 }).status === 0;

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => removeDir(dir));

/** Syscalls the probe's main thread made between its two markers. */
function syscallsBetweenMarkers(extra: string[] = []): string[] {
  requireDist(); // the probe imports the built package
  const trace = join(dir, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-o', trace, process.execPath, probe, ...extra], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    // spawnSync blocks the event loop, so vitest's own timeout could never end a hung child.
    timeout: 30_000,
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toContain('appended 8000 frames');
  const lines = readFileSync(trace, 'utf8').split('\n');
  const mainPid = lines[0]!.split(' ')[0]!; // the first line is the main thread's execve
  const start = lines.findIndex((l) => l.includes('QWP-MARK-START'));
  const end = lines.findIndex((l) => l.includes('QWP-MARK-END'));
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  return lines.slice(start + 1, end).filter((l) => l.startsWith(`${mainPid} `));
}

describe.skipIf(!straceWorks)('append makes no syscall in the steady state', () => {
  test('5000 appends of 512 bytes: none on the producer thread', () => {
    expect(syscallsBetweenMarkers()).toEqual([]);
  });

  test('the check can fail: one fstat inside the window is seen', () => {
    const seen = syscallsBetweenMarkers(['--with-syscall']);
    expect(seen.some((l) => /\bfstat|statx|newfstatat/.test(l))).toBe(true);
  });
});
