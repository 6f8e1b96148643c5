/**
 * Child process of the segment-append suite's syscall count, run under
 * `strace -f` by segment-syscalls.ts: opens a log (argv[2] = 'sf', 'memory',
 * or 'sf-ack': SF with `slot.acknowledge()` of the FSN before every 100th
 * frame, ACKs that trim nothing), warms the append path up, then appends
 * WINDOW_FRAMES 512-byte frames between two marker stat() calls. The segment
 * is large enough that no rotation happens in the window: it is the steady
 * state.
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
  let ack: (fsn: number) => void = () => {};
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
    if (process.argv[2] === 'sf-ack') ack = (fsn) => slot.acknowledge(fsn);
  }
  const payload = new Uint8Array(512).fill(7);
  for (let i = 0; i < 3000; i++) {
    const fsn = ring.tryAppend(payload); // warm the JIT up
    if (i % 100 === 99) ack(fsn - 1);
  }
  await new Promise((r) => setTimeout(r, 200)); // let the optimizing compiler settle
  const base = ring.activeSegment!.baseSeq;
  mark(MARK_START);
  for (let i = 0; i < WINDOW_FRAMES; i++) {
    const fsn = ring.tryAppend(payload);
    if (i % 100 === 99) ack(fsn - 1);
  }
  mark(MARK_END);
  if (ring.activeSegment!.baseSeq !== base) throw new Error('a rotation happened in the window');
  close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
