import { GCProfiler } from 'node:v8';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { removeDir, tempDir } from './helpers.js';
import { openSlot, SegmentManager, SegmentRing } from './internals.js';

/**
 * The append path allocates nothing per frame: 2M appends of a small frame
 * into one large segment (no rotation) cause no young-generation GC. A
 * control loop that allocates one small array per append shows the
 * detector sees it.
 */

const FRAMES = 2_000_000;
const SEGMENT = 40 * 2 ** 20; // 2M frames of 8 + 8 bytes, plus warm-up, without a rotation

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

/**
 * Minor (scavenge) GCs while `run` ran. V8's GC profiler records them
 * synchronously, so no wait for asynchronous 'gc' performance entries.
 */
function scavengesDuring(run: () => void): number {
  const profiler = new GCProfiler();
  profiler.start();
  let gcs: { gcType: string }[];
  try {
    run();
  } finally {
    gcs = profiler.stop().statistics;
  }
  return gcs.filter((gc) => gc.gcType === 'Scavenge').length;
}

function appendMany(ring: SegmentRing, payload: Uint8Array, n: number, keep?: unknown[]): void {
  for (let i = 0; i < n; i++) {
    if (ring.tryAppend(payload) < 0) throw new Error('unexpected backpressure or rotation');
    if (keep !== undefined) keep[i & 1023] = [i]; // the control: one small array per append
  }
}

describe('tryAppend allocates nothing per frame', () => {
  const payload = new Uint8Array(8).fill(3);

  test('memory mode: no scavenge over 2M appends; one array per append is seen', () => {
    const manager = new SegmentManager({ segmentSize: SEGMENT * 2, autoService: false });
    const ring = new SegmentRing({ segments: [manager.createFirst(0)], provider: manager });
    appendMany(ring, payload, 50_000); // warm-up: let the JIT optimize the path
    expect(scavengesDuring(() => appendMany(ring, payload, FRAMES))).toBeLessThanOrEqual(1);
    const keep: unknown[] = [];
    expect(scavengesDuring(() => appendMany(ring, payload, FRAMES, keep))).toBeGreaterThan(2);
    ring.close();
  });

  test('SF mode (mapped file): no scavenge over 2M appends', () => {
    const slot = openSlot({ sfDir, senderId: 'alloc', segmentSize: SEGMENT, autoService: false });
    appendMany(slot.ring, payload, 50_000);
    expect(scavengesDuring(() => appendMany(slot.ring, payload, FRAMES))).toBeLessThanOrEqual(1);
    slot.close();
  });
});
