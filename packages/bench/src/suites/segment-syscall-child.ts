/**
 * Child process of the segment-append suite's syscall count, run under
 * `strace -f` by segment-syscalls.ts: opens a log (argv[2] = 'sf' or
 * 'memory'), warms the append path up, then appends WINDOW_FRAMES 512-byte
 * frames between two marker stat() calls. The segment is large enough that
 * no rotation happens in the window: it is the steady state.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlot, SegmentManager, SegmentRing } from '@qwp/segment-log';
import { MARK_END, MARK_START, WINDOW_FRAMES } from './segment-syscalls.js';

const SEGMENT = 8 * 2 ** 20;

function mark(path: string): void {
  try {
    statSync(path);
  } catch {
    // ENOENT is expected: the stat call itself is the marker in the trace.
  }
}

const dir = mkdtempSync(join(tmpdir(), 'qwp-bench-syscalls-'));
try {
  let ring: SegmentRing;
  let close: () => void;
  if (process.argv[2] === 'memory') {
    const manager = new SegmentManager({ segmentSize: SEGMENT, autoService: false });
    ring = new SegmentRing({ segments: [manager.createFirst(0)], provider: manager });
    close = () => ring.close();
  } else {
    const slot = openSlot({
      sfDir: dir,
      senderId: 'probe',
      segmentSize: SEGMENT,
      autoService: false,
    });
    ring = slot.ring;
    close = () => slot.close();
  }
  const payload = new Uint8Array(512).fill(7);
  for (let i = 0; i < 3000; i++) ring.tryAppend(payload); // warm the JIT up
  await new Promise((r) => setTimeout(r, 200)); // let the optimizing compiler settle
  const base = ring.activeSegment!.baseSeq;
  mark(MARK_START);
  for (let i = 0; i < WINDOW_FRAMES; i++) ring.tryAppend(payload);
  mark(MARK_END);
  if (ring.activeSegment!.baseSeq !== base) throw new Error('a rotation happened in the window');
  close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
