import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { failures, type SmokeResult } from '../src/smoke.js';

/*
 * The smoke guard inside the test command: a few seconds of the headline
 * ratios in a child process running the built bench (dist/, as `pnpm bench`
 * runs it; the test task builds first). It fails only when a ratio's median
 * falls under a floor set far below today's figure (src/smoke.ts FLOORS).
 */

const bench = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function runSmoke(): Promise<{ stdout: string; code: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [bench, '--smoke'],
      { timeout: 60_000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') {
          reject(
            new Error(`bench --smoke did not finish: ${err.message}; ${stderr}`, { cause: err }),
          );
          return;
        }
        resolve({ stdout, code: err === null ? 0 : (err.code as number) });
      },
    );
  });
}

describe('bench smoke guard', () => {
  it('keeps every headline ratio above its floor', { timeout: 90_000 }, async () => {
    const { stdout, code } = await runSmoke();
    const last = stdout.trim().split('\n').at(-1) ?? '';
    expect(last.startsWith('SMOKE '), `no SMOKE line in: ${stdout}`).toBe(true);
    const result = JSON.parse(last.slice('SMOKE '.length)) as SmokeResult;
    // The measured ratios belong in the test output, floor or not.
    console.log(stdout.slice(0, stdout.length - last.length - 1));
    expect(result.ratios.map((r) => r.name)).toEqual([
      'sender rows/s vs ILP',
      'crc32c GB/s at 64 KiB vs best peer',
      'encode rows/s vs ILP buffer',
    ]);
    for (const r of result.ratios) {
      expect(r.ratio.values.length).toBeGreaterThanOrEqual(5);
      expect(Number.isFinite(r.ratio.median)).toBe(true);
    }
    expect(failures(result)).toEqual([]);
    expect(code).toBe(0);
  });
});
