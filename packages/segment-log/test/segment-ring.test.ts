import { describe, expect, test } from 'vitest';
import { payloadFor, payloadId } from './helpers.js';
import { FrameTooLargeError, MmapSegment, SegmentManager, SegmentRing } from './internals.js';

/** A memory-mode ring of 256-byte segments; 64-byte payloads fit 3 per segment. */
function memoryRing(maxTotalBytes = Number.POSITIVE_INFINITY, firstBase = 0) {
  const manager = new SegmentManager({ segmentSize: 256, maxTotalBytes, autoService: false });
  const first = manager.createFirst(firstBase);
  const ring = new SegmentRing({ segments: [first], provider: manager });
  return { manager, ring };
}

function readAll(ring: SegmentRing, from?: number): number[] {
  const r = ring.reader(from);
  const out: number[] = [];
  while (r.next()) {
    expect(payloadId(r.payload())).toBe(r.fsn);
    out.push(r.fsn);
  }
  return out;
}

describe('SegmentRing', () => {
  test('memory mode reuses a released segment buffer, zeroed: no stale frame is read back', () => {
    const { ring, manager } = memoryRing();
    const buffers = new Set<SharedArrayBuffer>();
    let fsn = 0;
    for (let round = 0; round < 20; round++) {
      // Longer payloads first, then shorter ones: a stale longer frame would
      // follow the new ones if the reused buffer were not zeroed.
      const size = round % 2 === 0 ? 64 : 20;
      for (let i = 0; i < 3; i++) expect(ring.tryAppend(payloadFor(fsn, size))).toBe(fsn++);
      for (const s of ring.segments()) buffers.add(s.buffer as SharedArrayBuffer);
      expect(readAll(ring, ring.ackedFsn + 1)).toEqual(
        Array.from({ length: fsn - ring.ackedFsn - 1 }, (_, k) => ring.ackedFsn + 1 + k),
      );
      ring.acknowledge(fsn - 1);
      manager.service();
    }
    // 20 rounds of 3 frames rotate through ~20 segments on a handful of buffers.
    expect(buffers.size).toBeLessThanOrEqual(4);
  });

  test('rotates across segments with monotonic FSNs', () => {
    const { ring } = memoryRing();
    for (let i = 0; i < 10; i++) expect(ring.tryAppend(payloadFor(i, 64))).toBe(i);
    expect(ring.sealedSegments.length).toBe(3);
    expect(ring.activeSegment!.baseSeq).toBe(9);
    expect(ring.sealedSegments.map((s) => s.baseSeq)).toEqual([0, 3, 6]);
    expect(ring.control.publishedFsn).toBe(9);
    expect(readAll(ring)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('findSegmentContaining and a reader from any FSN', () => {
    const { ring } = memoryRing();
    for (let i = 0; i < 10; i++) ring.tryAppend(payloadFor(i, 64));
    expect(ring.findSegmentContaining(4)!.baseSeq).toBe(3);
    expect(ring.findSegmentContaining(9)!.baseSeq).toBe(9);
    expect(ring.findSegmentContaining(10)).toBeNull();
    for (let from = 0; from <= 10; from++) {
      expect(readAll(ring, from)).toEqual(Array.from({ length: 10 - from }, (_, k) => from + k));
    }
  });

  test('a reader never passes the published FSN and resumes as frames arrive', () => {
    const { ring } = memoryRing();
    const r = ring.reader(0);
    expect(r.next()).toBe(false);
    ring.tryAppend(payloadFor(0, 64));
    expect(r.next()).toBe(true);
    expect(r.next()).toBe(false);
    for (let i = 1; i < 5; i++) ring.tryAppend(payloadFor(i, 64));
    const seen: number[] = [];
    while (r.next()) seen.push(r.fsn);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  test('ACKs trim fully-acked sealed segments only', () => {
    const { ring, manager } = memoryRing();
    for (let i = 0; i < 10; i++) ring.tryAppend(payloadFor(i, 64));
    expect(ring.acknowledge(4)).toBe(1); // segment [0..2] trimmed, [3..5] not yet
    expect(ring.firstFsn).toBe(3);
    expect(manager.pendingReleases).toBe(1);
    expect(ring.acknowledge(100)).toBe(2); // clamped to 9; [3..5], [6..8] trimmed
    expect(ring.ackedFsn).toBe(9);
    expect(ring.firstFsn).toBe(9);
    manager.service();
    expect(manager.pendingReleases).toBe(0);
    expect(readAll(ring, 9)).toEqual([9]);
  });

  test('a frame larger than a segment is refused and nothing is written', () => {
    const { ring } = memoryRing();
    ring.tryAppend(payloadFor(0, 64));
    const before = ring.activeSegment!.bytes.slice();
    expect(() => ring.tryAppend(new Uint8Array(ring.maxPayload + 1))).toThrow(FrameTooLargeError);
    expect(ring.activeSegment!.bytes).toEqual(before);
    expect(ring.nextFsn).toBe(1);
    expect(ring.tryAppend(new Uint8Array(ring.maxPayload - 100))).toBe(1);
  });

  test('the byte cap gives backpressure until ACKs free a segment', () => {
    const { ring, manager } = memoryRing(512);
    for (let i = 0; i < 6; i++) expect(ring.tryAppend(payloadFor(i, 64))).toBe(i);
    expect(manager.ownedBytes).toBe(512);
    expect(ring.tryAppend(payloadFor(6, 64))).toBe(-1);
    expect(ring.tryAppend(payloadFor(6, 64))).toBe(-1);
    ring.acknowledge(2);
    expect(ring.tryAppend(payloadFor(6, 64))).toBe(6);
    expect(manager.ownedBytes).toBeLessThanOrEqual(512);
    expect(readAll(ring, 3)).toEqual([3, 4, 5, 6]);
  });

  test('a single-segment cap never deadlocks: the fully-acked active is dropped', () => {
    const { ring, manager } = memoryRing(256);
    for (let round = 0; round < 5; round++) {
      const base = round * 3;
      for (let i = base; i < base + 3; i++) expect(ring.tryAppend(payloadFor(i, 64))).toBe(i);
      expect(ring.tryAppend(payloadFor(base + 3, 64))).toBe(-1); // full, un-acked
      ring.acknowledge(base + 2);
      expect(manager.ownedBytes).toBe(256);
    }
    expect(ring.tryAppend(payloadFor(15, 64))).toBe(15);
    expect(ring.activeSegment!.baseSeq).toBe(15);
    expect(readAll(ring, 15)).toEqual([15]);
  });

  test('rejects segments that are not FSN-contiguous', () => {
    const a = MmapSegment.createInMemory(0, 256);
    a.tryAppend(new Uint8Array(1));
    const b = MmapSegment.createInMemory(5, 256);
    const manager = new SegmentManager({ segmentSize: 256, autoService: false });
    expect(() => new SegmentRing({ segments: [a, b], provider: manager })).toThrow(/contiguous/);
  });

  test('onActivate sees every promoted spare rebased to the next FSN', () => {
    const manager = new SegmentManager({ segmentSize: 256, autoService: false });
    const seen: number[] = [];
    const ring = new SegmentRing({
      segments: [manager.createFirst(100)],
      provider: manager,
      onActivate: (s) => seen.push(s.baseSeq),
    });
    for (let i = 0; i < 7; i++) ring.tryAppend(payloadFor(100 + i, 64));
    expect(seen).toEqual([103, 106]);
    expect(ring.firstFsn).toBe(100);
    expect(ring.ackedFsn).toBe(99);
  });
});
