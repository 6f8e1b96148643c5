import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { FaultInjectingFiles } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { payloadFor, payloadId, removeDir, segmentsOnDisk, tempDir, thrown } from './helpers.js';
import {
  BadArgumentError,
  describeMemoryRing,
  describeSlot,
  type MmapSegment,
  openReader,
  openSlot,
  SegmentCorruptError,
  SegmentIoError,
  SegmentManager,
  SegmentRing,
  segmentFileName,
} from './internals.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const SEG = 256;

describe('SegmentManager (files)', () => {
  test('keeps a hot spare ready (next generation, provisional baseSeq) and re-stamps it at rotation, never renaming it', () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false, inlineProvision: false });
    slot.manager.service();
    expect(slot.manager.hasSpare).toBe(true);
    expect(segmentsOnDisk(slot.dir).map((s) => [s.name, s.baseSeq, s.flags])).toEqual([
      [segmentFileName(0), 0, 1],
      [segmentFileName(1), 0, 1], // provisional: the next FSN when it was made
    ]);
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
    expect(slot.manager.hasSpare).toBe(false);
    expect(segmentsOnDisk(slot.dir).map((s) => [s.name, s.baseSeq])).toEqual([
      [segmentFileName(0), 0],
      [segmentFileName(1), 3],
    ]);
    expect(slot.manager.nextGeneration).toBe(2);
    // Without inline provisioning and before service runs, the next rotation is backpressure.
    for (let i = 4; i < 6; i++) slot.ring.tryAppend(payloadFor(i, 64));
    expect(slot.ring.tryAppend(payloadFor(6, 64))).toBe(-1);
    slot.manager.service();
    expect(slot.ring.tryAppend(payloadFor(6, 64))).toBe(6);
    slot.close();
    // Not drained (nothing acked): every segment with frames stays; the spare went.
    expect(segmentsOnDisk(slot.dir).every((s) => s.frames > 0)).toBe(true);
  });

  test("flush-ahead: a service pass starts the active segment's fdatasync on a libuv thread (default facade only)", async () => {
    const size = 64 * 1024;
    for (const files of [undefined, new FaultInjectingFiles(defaultFiles)]) {
      const slot = openSlot({
        sfDir,
        senderId: files === undefined ? 'a' : 'b',
        segmentSize: size,
        autoService: false,
        files,
      });
      const active = slot.ring.activeSegment!;
      while (active.publishedOffset < size / 2) slot.ring.tryAppend(payloadFor(0, 500));
      const published = active.publishedOffset;
      expect(active.durableOffset).toBe(24);
      slot.manager.service();
      for (let i = 0; i < 200 && active.durableOffset < published; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      // With a test's facade every sync must go through it: no flush-ahead.
      expect(active.durableOffset).toBe(files === undefined ? published : 24);
      slot.close();
    }
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

  test('a generation name already taken (a copied-in file) is skipped, never overwritten', () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false });
    writeFileSync(join(slot.dir, segmentFileName(1)), 'not ours');
    writeFileSync(join(slot.dir, segmentFileName(2)), 'not ours either');
    slot.manager.service();
    expect(slot.manager.hasSpare).toBe(true);
    expect(readFileSync(join(slot.dir, segmentFileName(1)), 'utf8')).toBe('not ours');
    expect(existsSync(join(slot.dir, segmentFileName(3)))).toBe(true);
    slot.close();
  });

  test('a failed spare header sync is backpressure with a typed error, then recovers', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false, files });
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    const fault = files.inject('msync', { code: 'EIO' });
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(-1);
    const err = slot.manager.lastError as SegmentIoError;
    expect(err).toBeInstanceOf(SegmentIoError);
    expect(err.errno).toBe('EIO');
    expect(err.message).toContain('cannot msync the header');
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
    expect(segmentsOnDisk(slot.dir).length).toBe(1); // the half-made spare was unlinked
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

  test('file mode: segments are found by header (names carry no FSN), posted to the reader or not', () => {
    const activated: { baseSeq: number; path: string }[] = [];
    const slot = openSlot({
      sfDir,
      segmentSize: SEG,
      autoService: false,
      onActivate: (s) => activated.push({ baseSeq: s.baseSeq, path: s.path }),
    });
    const desc = structuredClone(describeSlot(slot));
    expect(desc).toMatchObject({ kind: 'file', segments: [{ baseSeq: 0 }] });
    const posted = openReader(desc, { fromFsn: 0 });
    const found = openReader(desc, { fromFsn: 0 });
    for (let i = 0; i < 10; i++) slot.ring.tryAppend(payloadFor(i, 64));
    expect(activated.map((a) => a.baseSeq)).toEqual([3, 6, 9]);
    for (const s of activated) posted.addSegment(s.baseSeq, s.path);
    for (const { reader } of [posted, found]) {
      const seen: number[] = [];
      while (reader.next()) seen.push(payloadId(reader.payload()));
      expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      reader.close();
    }
    slot.close();
  });

  test('file mode: a reader left behind segments acknowledged and trimmed meanwhile moves on to the first unacknowledged frame', () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false });
    for (let i = 0; i < 8; i++) slot.ring.tryAppend(payloadFor(i, 64));
    const { reader } = openReader(describeSlot(slot), { fromFsn: 1 });
    expect(reader.next() && reader.fsn).toBe(1);
    reader.close(); // not holding a mapping, as a reader between reconnects
    slot.acknowledge(5); // trims the segments holding 0..5
    slot.manager.service(); // and unlinks them
    reader.seek(2);
    expect(reader.next() && reader.fsn).toBe(6);
    expect(reader.next() && reader.fsn).toBe(7);
    reader.close();
    slot.close();
  });

  test('a corrupt frame inside a sealed segment is an error naming file and offset, never a silent stall', () => {
    const slot = openSlot({ sfDir, segmentSize: SEG, autoService: false });
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    const sealed = slot.ring.segments()[0]!;
    // The producer's own reader (over the ring):
    sealed.bytes[24 + 72 + 8 + 5]! ^= 0xff; // FSN 1's payload
    const r = slot.ring.reader(0);
    expect(r.next() && r.fsn).toBe(0);
    const err = thrown(() => r.next());
    expect(err).toBeInstanceOf(SegmentCorruptError);
    expect((err as SegmentCorruptError).offset).toBe(24 + 72);
    expect((err as Error).message).toContain(sealed.path);
    // A reader on another thread, over the files:
    const { reader } = openReader(describeSlot(slot), { fromFsn: 0 });
    expect(reader.next() && reader.fsn).toBe(0);
    expect(() => reader.next()).toThrow(
      /published frame 1 is missing or corrupt at offset 96 of .*sf-0000000000000000\.sfa/,
    );
    const seeking = openReader(describeSlot(slot), { fromFsn: 4 }).reader;
    expect(seeking.next() && seeking.fsn).toBe(4); // a seek past the damage reads on
    const through = openReader(describeSlot(slot), { fromFsn: 2 }).reader;
    expect(() => through.next()).toThrow(SegmentCorruptError);
    sealed.bytes[24 + 72 + 8 + 5]! ^= 0xff;
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
