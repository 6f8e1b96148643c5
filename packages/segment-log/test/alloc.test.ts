import {
  constants,
  type PerformanceEntry,
  PerformanceObserver,
  performance,
} from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openSlot, SegmentManager, SegmentRing } from '../src/index.js';
import { removeDir, tempDir } from './helpers.js';

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

/** Minor (scavenge) GCs that started while `run` ran. */
async function scavengesDuring(run: () => void): Promise<number> {
  const seen: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  run();
  const t1 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries arrive asynchronously
  observer.disconnect();
  return seen.filter(
    (e) =>
      e.startTime >= t0 &&
      e.startTime <= t1 &&
      (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MINOR,
  ).length;
}

function appendMany(ring: SegmentRing, payload: Uint8Array, n: number, keep?: unknown[]): void {
  for (let i = 0; i < n; i++) {
    if (ring.tryAppend(payload) < 0) throw new Error('unexpected backpressure or rotation');
    if (keep !== undefined) keep[i & 1023] = [i]; // the control: one small array per append
  }
}

describe('tryAppend allocates nothing per frame', () => {
  const payload = new Uint8Array(8).fill(3);

  test('memory mode: no scavenge over 2M appends; one array per append is seen', async () => {
    const manager = new SegmentManager({ segmentSize: SEGMENT * 2, autoService: false });
    const ring = new SegmentRing({ segments: [manager.createFirst(0)], provider: manager });
    appendMany(ring, payload, 50_000); // warm-up: let the JIT optimize the path
    expect(await scavengesDuring(() => appendMany(ring, payload, FRAMES))).toBeLessThanOrEqual(1);
    const keep: unknown[] = [];
    expect(await scavengesDuring(() => appendMany(ring, payload, FRAMES, keep))).toBeGreaterThan(2);
    ring.close();
  });

  test('SF mode (mapped file): no scavenge over 2M appends', async () => {
    const slot = openSlot({ sfDir, senderId: 'alloc', segmentSize: SEGMENT, autoService: false });
    appendMany(slot.ring, payload, 50_000);
    expect(await scavengesDuring(() => appendMany(slot.ring, payload, FRAMES))).toBeLessThanOrEqual(
      1,
    );
    slot.close();
  });
});
