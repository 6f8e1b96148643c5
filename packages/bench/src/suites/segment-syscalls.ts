import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Marker paths the child stat()s around its traced window. */
export const MARK_START = '/QWP-BENCH-MARK-START';
export const MARK_END = '/QWP-BENCH-MARK-END';
/** Appends inside the traced window. */
export const WINDOW_FRAMES = 5000;

/** What one traced run found: the producer thread's syscalls around WINDOW_FRAMES appends. */
export interface SyscallCount {
  appends: number;
  /** Syscalls of the producer (main) thread between the markers. */
  syscalls: number;
  /** Their names, at most 10, for the notes when there are any. */
  names: string[];
}

/**
 * Runs segment-syscall-child.js under `strace -f` in `mode` ('sf',
 * 'memory' or 'sf-ack') and counts the main thread's syscalls between the markers.
 * Returns undefined when strace is missing or may not trace here.
 */
export function countAppendSyscalls(mode: 'sf' | 'memory' | 'sf-ack'): SyscallCount | undefined {
  if (spawnSync('strace', ['-o', '/dev/null', 'true']).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'qwp-bench-strace-'));
  try {
    const trace = join(dir, 'trace.txt');
    const child = fileURLToPath(new URL('./segment-syscall-child.js', import.meta.url));
    const run = spawnSync('strace', ['-f', '-o', trace, process.execPath, child, mode], {
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`syscall probe (${mode}) failed: ${run.stderr}`);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const mainPid = lines[0]!.split(' ')[0]!; // the first line is the main thread's execve
    const start = lines.findIndex((l) => l.includes(MARK_START));
    const end = lines.findIndex((l) => l.includes(MARK_END));
    if (start < 0 || end < start)
      throw new Error(`syscall probe (${mode}): markers not in the trace`);
    const mine = lines.slice(start + 1, end).filter((l) => l.startsWith(`${mainPid} `));
    return {
      appends: WINDOW_FRAMES,
      syscalls: mine.length,
      names: mine.slice(0, 10).map((l) => l.slice(mainPid.length + 1).split('(')[0]!),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
