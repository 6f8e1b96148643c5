import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles, FaultInjectingFiles } from '@qwp/files-native';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  BadArgumentError,
  describeMemoryRing,
  describeSlot,
  type MmapSegment,
  openReader,
  openSlot,
  SegmentIoError,
  SegmentManager,
  SegmentRing,
  segmentFileName,
} from '../src/index.js';
import { payloadFor, payloadId, removeDir, tempDir } from './helpers.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const SEG = 256;

describe('SegmentManager (files)', () => {
  test('keeps a hot spare ready and promotes it under its final name', () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false, inlineProvision: false });
    slot.manager.service();
    expect(slot.manager.hasSpare).toBe(true);
    expect(readdirSync(slot.dir).filter((n) => n.startsWith('spare-')).length).toBe(1);
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
    expect(slot.manager.hasSpare).toBe(false);
    expect(existsSync(join(slot.dir, segmentFileName(3)))).toBe(true);
    // Without inline provisioning and before service runs, the next rotation is backpressure.
    for (let i = 4; i < 6; i++) slot.ring.tryAppend(payloadFor(i, 64));
    expect(slot.ring.tryAppend(payloadFor(6, 64))).toBe(-1);
    slot.manager.service();
    expect(slot.ring.tryAppend(payloadFor(6, 64))).toBe(6);
    slot.close();
    expect(readdirSync(slot.dir).some((n) => n.startsWith('spare-'))).toBe(false);
  });

  test('an unlink failure keeps the segment counted (no spare past the cap) and retries it', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const errors: Error[] = [];
    // Room for two segments and the slot's small files, not for a third segment.
    const slot = openSlot({
      sfDir,
      segmentSize: SEG,
      maxTotalBytes: 2 * SEG + 64,
      autoService: false,
      files,
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 4; i++) slot.ring.tryAppend(payloadFor(i, 64));
    expect(slot.manager.ownedBytes).toBe(2 * SEG);
    files.failUnlink({ next: 1 });
    slot.ring.acknowledge(2);
    slot.manager.service();
    // The undeleted file still counts, so no spare is made on top of it.
    expect(slot.manager.pendingReleases).toBe(1);
    expect(slot.manager.ownedBytes).toBe(2 * SEG);
    expect(slot.manager.hasSpare).toBe(false);
    expect(existsSync(join(slot.dir, segmentFileName(0)))).toBe(true);
    expect(errors[0]).toBeInstanceOf(SegmentIoError);
    expect(errors[0]!.message).toContain(segmentFileName(0));
    // Retried, not forgotten: the next pass deletes it and the freed room becomes a spare.
    slot.manager.service();
    expect(slot.manager.pendingReleases).toBe(0);
    expect(existsSync(join(slot.dir, segmentFileName(0)))).toBe(false);
    expect(slot.manager.hasSpare).toBe(true);
    expect(slot.manager.ownedBytes).toBe(2 * SEG);
    slot.close();
  });

  test('a failed check of a spare name is backpressure with a typed error, then recovers', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false, files });
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    const fault = files.inject('stat', { path: (p) => p.includes('/spare-'), code: 'EIO' });
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(-1);
    const err = slot.manager.lastError as SegmentIoError;
    expect(err).toBeInstanceOf(SegmentIoError);
    expect(err.errno).toBe('EIO');
    expect(err.message).toContain('cannot check spare name');
    fault.disarm();
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
    slot.close();
  });

  test('ENOSPC while making a spare is backpressure with the error kept, then recovers', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false, files });
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    const fault = files.enospcOnFallocate();
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(-1);
    expect((slot.manager.lastError as SegmentIoError).errno).toBe('ENOSPC');
    expect(readdirSync(slot.dir).some((n) => n.startsWith('spare-'))).toBe(false);
    fault.disarm();
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
    slot.close();
  });

  test('sf_max_total_bytes counts every owned file and is never exceeded', () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, maxTotalBytes: 3 * SEG, autoService: false });
    let fsn = 0;
    for (let round = 0; round < 30; round++) {
      while (slot.ring.tryAppend(payloadFor(fsn, 64)) >= 0) fsn++;
      expect(slot.manager.ownedBytes).toBeLessThanOrEqual(3 * SEG);
      const onDisk = readdirSync(slot.dir).filter((n) => n.endsWith('.sfa')).length;
      expect(onDisk * SEG).toBeLessThanOrEqual(3 * SEG);
      slot.ring.acknowledge(fsn - 1 - (round % 4));
      slot.manager.service();
    }
    expect(fsn).toBeGreaterThan(60);
    slot.close();
  });

  test('a cap below one segment, or a segment size that holds no frame, is rejected', () => {
    expect(() => new SegmentManager({ segmentSize: SEG, maxTotalBytes: SEG - 1 })).toThrow(
      BadArgumentError,
    );
    expect(() => new SegmentManager({ segmentSize: 32 })).toThrow(/segment size 32/);
    expect(() => new SegmentManager({ segmentSize: 1.5e3 + 0.5 })).toThrow(BadArgumentError);
  });

  test('memory mode frees released segments', () => {
    const manager = new SegmentManager({ segmentSize: SEG, autoService: false });
    const ring = new SegmentRing({ segments: [manager.createFirst(0)], provider: manager });
    for (let i = 0; i < 9; i++) ring.tryAppend(payloadFor(i, 64));
    const before = manager.ownedBytes;
    ring.acknowledge(5);
    manager.service();
    expect(manager.ownedBytes).toBe(before - 2 * SEG + SEG); // two freed, one new spare
  });

  test('a service timer keeps a spare ready', async () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false, inlineProvision: false });
    expect(slot.manager.hasSpare).toBe(false);
    const stop = slot.manager.startTimer(2);
    try {
      for (let i = 0; i < 100 && !slot.manager.hasSpare; i++)
        await new Promise((r) => setTimeout(r, 5));
      expect(slot.manager.hasSpare).toBe(true);
    } finally {
      stop();
    }
    slot.close();
  });

  test('background service runs by itself after a rotation', async () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, inlineProvision: false });
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 4; i++) slot.ring.tryAppend(payloadFor(i, 64));
    await new Promise((r) => setImmediate(r));
    expect(slot.manager.hasSpare).toBe(true);
    slot.close();
  });
});

describe('readers from a transferable description', () => {
  test('file mode: maps segments read-only and follows rotations, never past published', () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false });
    const desc = structuredClone(describeSlot(slot));
    const { reader } = openReader(desc, { fromFsn: 0 });
    expect(reader.next()).toBe(false);
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    const seen: number[] = [];
    while (reader.next()) {
      expect(payloadId(reader.payload())).toBe(reader.fsn);
      seen.push(reader.fsn);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    slot.ring.tryAppend(payloadFor(7, 64));
    expect(reader.next()).toBe(true);
    expect(reader.fsn).toBe(7);
    reader.seek(4);
    expect(reader.next() && reader.fsn).toBe(4);
    reader.close();
    slot.close();
  });

  test('file mode: acks written by the reader side are seen by the ring and trim', () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false });
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    const { control } = openReader(describeSlot(slot));
    control.acknowledge(5);
    expect(slot.ring.trim()).toBe(2);
    expect(slot.ring.firstFsn).toBe(6);
    slot.close();
  });

  test('memory mode: shared buffers plus segments added after the description', () => {
    const manager = new SegmentManager({ segmentSize: SEG, autoService: false });
    const added: MmapSegment[] = [];
    const ring = new SegmentRing({
      segments: [manager.createFirst(0)],
      provider: manager,
      onActivate: (s) => added.push(s),
    });
    const opened = openReader(describeMemoryRing(ring), { fromFsn: 0 });
    for (let i = 0; i < 8; i++) ring.tryAppend(payloadFor(i, 64));
    const seen: number[] = [];
    const drain = () => {
      while (opened.reader.next()) seen.push(payloadId(opened.reader.payload()));
    };
    drain();
    expect(seen).toEqual([0, 1, 2]); // successor not posted yet: stops, never guesses
    expect(opened.reader.stalled).toBe(true);
    for (const s of added) opened.addSegment(s.baseSeq, s.buffer as SharedArrayBuffer);
    drain();
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(opened.reader.stalled).toBe(false);
  });

  test('waitForPublish wakes on a publish', async () => {
    const manager = new SegmentManager({ segmentSize: SEG, autoService: false });
    const ring = new SegmentRing({ segments: [manager.createFirst(0)], provider: manager });
    const { control } = openReader(describeMemoryRing(ring));
    const waiting = control.waitForPublish(-1, 5000);
    setTimeout(() => ring.tryAppend(payloadFor(0, 8)), 10);
    expect(await waiting).toBe(0);
    expect(await control.waitForPublish(0, 20)).toBe(0); // times out, nothing new
  });
});
