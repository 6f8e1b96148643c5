import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { fixture, removeDir, segmentsOnDisk, slotFiles, tempDir } from './helpers.js';
import {
  AckWatermark,
  inspectSegmentFile,
  inspectSymbolDict,
  MmapSegment,
  openSlot,
  PersistedSymbolDict,
  readAckWatermark,
  readManifest,
  SEGMENT_FLAG_MANIFEST_REQUIRED,
  SfManifest,
} from './internals.js';

const text = new TextDecoder();
const bytes = (s: string) => new TextEncoder().encode(s);
let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => removeDir(dir));

describe('Java client fixtures, file by file', () => {
  test('java-two-frame.sfa opens with exactly its two frames', () => {
    const path = join(dir, 'sf-initial.sfa');
    writeFileSync(path, fixture('java-two-frame.sfa.hex'));
    const scan = inspectSegmentFile(path);
    expect(scan).toMatchObject({
      baseSeq: 42,
      createdMicros: 1234567890123,
      flags: 0,
      frameCount: 2,
      appendOffset: 50,
      payloadBytes: 10,
      tornTailBytes: 0,
      fileSize: 64,
    });
    const seg = MmapSegment.openExisting(path, { readOnly: true });
    try {
      expect(text.decode(seg.bytes.subarray(24 + 8, 24 + 8 + 3))).toBe('one');
      expect(text.decode(seg.bytes.subarray(35 + 8, 35 + 8 + 7))).toBe('two-two');
    } finally {
      seg.close();
    }
  });

  test('writing the same segment gives the fixture byte for byte', () => {
    const path = join(dir, 'sf-0000000000000000.sfa');
    const seg = MmapSegment.create(path, 42, 64, { createdMicros: 1234567890123 });
    expect(seg.tryAppend(bytes('one'))).toBe(24);
    expect(seg.tryAppend(bytes('two-two'))).toBe(35);
    seg.close();
    expect(new Uint8Array(readFileSync(path))).toEqual(fixture('java-two-frame.sfa.hex'));
  });

  test('java-two-chunk.symbol-dict opens with exactly its entries, and we write the same bytes', () => {
    writeFileSync(join(dir, '.symbol-dict'), fixture('java-two-chunk.symbol-dict.hex'));
    expect(inspectSymbolDict(join(dir, '.symbol-dict'))).toMatchObject({
      entries: ['one', 'two', 'three'],
      chunks: 2,
      validLength: 34,
      tornTailBytes: 0,
    });
    const dict = PersistedSymbolDict.open(dir);
    expect(dict.loadedSymbols).toEqual(['one', 'two', 'three']);
    dict.close();
    const mine = join(dir, 'mine');
    const fresh = PersistedSymbolDict.openClean(tempDirIn(mine));
    fresh.appendSymbols(['one']);
    fresh.appendSymbols(['two', 'three']);
    fresh.close();
    expect(new Uint8Array(readFileSync(join(mine, '.symbol-dict')))).toEqual(
      fixture('java-two-chunk.symbol-dict.hex'),
    );
  });

  test('SfManifest.create(dir, 10, 20) writes the Java manifest byte for byte, and reads it back', () => {
    SfManifest.create(dir, 10, 20).close();
    const written = new Uint8Array(readFileSync(join(dir, 'sf-manifest.bin')));
    expect(written).toEqual(fixture('java-manifest-head10-active20.sf-manifest.bin.hex'));
    const other = tempDirIn(join(dir, 'java'));
    writeFileSync(
      join(other, 'sf-manifest.bin'),
      fixture('java-manifest-head10-active20.sf-manifest.bin.hex'),
    );
    expect(readManifest(other)).toMatchObject({
      kind: 'valid',
      bounds: { generation: 1, headBase: 10, activeBase: 20 },
    });
  });

  test('AckWatermark write(42) on a fresh file gives the Java watermark byte for byte, and reads it back', () => {
    const wm = AckWatermark.open(dir);
    expect(wm.ackedFsn).toBeUndefined();
    wm.write(42);
    wm.sync();
    wm.close();
    const written = new Uint8Array(readFileSync(join(dir, '.ack-watermark')));
    expect(written).toEqual(fixture('java-ack-watermark-42.ack-watermark.hex'));
    const other = tempDirIn(join(dir, 'java'));
    writeFileSync(
      join(other, '.ack-watermark'),
      fixture('java-ack-watermark-42.ack-watermark.hex'),
    );
    expect(readAckWatermark(other)).toMatchObject({ kind: 'valid', generation: 1, ackedFsn: 42 });
    const reopened = AckWatermark.open(other);
    expect([reopened.ackedFsn, reopened.generation]).toEqual([42, 1]);
    reopened.write(43); // generation 2: the record at offset 0
    reopened.close();
    expect(readAckWatermark(other)).toMatchObject({ kind: 'valid', generation: 2, ackedFsn: 43 });
  });
});

function tempDirIn(path: string): string {
  if (!existsSync(path)) mkdirSync(path, { recursive: true });
  return path;
}

/** A Java-written slot: its first segment `sf-initial.sfa` (FSNs 42, 43) and its dictionary. */
function javaSlot(
  senderId: string,
  extra: { manifest?: [number, number]; watermark?: number } = {},
): string {
  const slot = tempDirIn(join(dir, senderId));
  writeFileSync(join(slot, 'sf-initial.sfa'), fixture('java-two-frame.sfa.hex'));
  writeFileSync(join(slot, '.symbol-dict'), fixture('java-two-chunk.symbol-dict.hex'));
  if (extra.manifest !== undefined) SfManifest.create(slot, ...extra.manifest).close();
  if (extra.watermark !== undefined) {
    const wm = AckWatermark.open(slot);
    wm.write(extra.watermark);
    wm.close();
  }
  return slot;
}

describe('slots built from the Java fixtures: opened, trimmed, closed, reopened', () => {
  test('a manifested Java slot with a watermark: replay starts above it, trim and drained close follow the order', () => {
    const slotDir = javaSlot('java', { manifest: [42, 42], watermark: 42 });
    const open = () =>
      openSlot({ sfDir: dir, senderId: 'java', segmentSize: 256, autoService: false });
    let slot = open();
    expect(slot.report).toMatchObject({
      ackedFsn: 42,
      watermark: 42,
      firstFsn: 42,
      lastFsn: 43,
      migratedLegacy: false,
      manifest: { headBase: 42, activeBase: 42 },
    });
    expect(slot.dict.loadedSymbols).toEqual(['one', 'two', 'three']);
    const r = slot.ring.reader();
    expect(r.next()).toBe(true);
    expect([r.fsn, text.decode(r.payload())]).toEqual([43, 'two-two']);
    expect(r.next()).toBe(false);
    // The Java segment (64 bytes) is full: the next frame rotates into one of ours.
    expect(slot.ring.tryAppend(bytes('ours-ours'))).toBe(44);
    expect(slot.manifest.activeBase).toBe(44);
    expect(segmentsOnDisk(slotDir).map((s) => [s.name, s.baseSeq, s.flags])).toEqual([
      ['sf-initial.sfa', 42, SEGMENT_FLAG_MANIFEST_REQUIRED],
      ['sf-0000000000000000.sfa', 44, SEGMENT_FLAG_MANIFEST_REQUIRED],
      ...(slot.manager.hasSpare
        ? [['sf-0000000000000001.sfa', 44, SEGMENT_FLAG_MANIFEST_REQUIRED]]
        : []),
    ]);
    expect(slot.acknowledge(43)).toBe(1); // sf-initial.sfa trimmed
    expect(slot.manifest.headBase).toBe(44);
    expect(readAckWatermark(slotDir)).toMatchObject({ kind: 'valid', ackedFsn: 43 });
    slot.manager.service();
    expect(existsSync(join(slotDir, 'sf-initial.sfa'))).toBe(false);
    slot.close(); // FSN 44 is not acknowledged: everything stays
    slot = open();
    expect(slot.report).toMatchObject({ ackedFsn: 43, firstFsn: 44, lastFsn: 44 });
    slot.acknowledge(44);
    slot.close(); // fully drained
    expect(slotFiles(slotDir)).toEqual(['.lock', '.lock.pid']);
  });

  test('a legacy Java slot (no manifest) is migrated one way: manifest created, segment flagged', () => {
    const slotDir = javaSlot('legacy');
    writeFileSync(join(slotDir, '.ack-watermark'), new Uint8Array(16)); // the old 16-byte format
    const slot = openSlot({ sfDir: dir, senderId: 'legacy', segmentSize: 256, autoService: false });
    expect(slot.report).toMatchObject({
      migratedLegacy: true,
      ackedFsn: 41,
      watermark: null,
      manifest: { headBase: 42, activeBase: 42 },
    });
    expect(slot.report.watermarkProblem).toMatch(/16 bytes/);
    expect(inspectSegmentFile(join(slotDir, 'sf-initial.sfa')).flags).toBe(
      SEGMENT_FLAG_MANIFEST_REQUIRED,
    );
    expect(readManifest(slotDir)).toMatchObject({
      kind: 'valid',
      bounds: { headBase: 42, activeBase: 42 },
    });
    expect(readFileSync(join(slotDir, '.ack-watermark')).length).toBe(8192);
    slot.close();
  });

  test('the Java manifest and watermark fixtures as found in a slot: bounds applied, a watermark ahead of the data repaired', () => {
    const slotDir = tempDirIn(join(dir, 'fx'));
    for (const [gen, base, frames] of [
      [0, 10, 10],
      [1, 20, 3],
    ] as const) {
      const seg = MmapSegment.create(join(slotDir, `sf-000000000000000${gen}.sfa`), base, 512, {
        flags: SEGMENT_FLAG_MANIFEST_REQUIRED,
      });
      for (let i = 0; i < frames; i++) seg.tryAppend(bytes(`f${base + i}`));
      seg.close();
    }
    writeFileSync(
      join(slotDir, 'sf-manifest.bin'),
      fixture('java-manifest-head10-active20.sf-manifest.bin.hex'),
    );
    writeFileSync(
      join(slotDir, '.ack-watermark'),
      fixture('java-ack-watermark-42.ack-watermark.hex'),
    );
    const slot = openSlot({ sfDir: dir, senderId: 'fx', segmentSize: 512, autoService: false });
    expect(slot.report).toMatchObject({
      firstFsn: 10,
      lastFsn: 22,
      watermark: 42,
      ackedFsn: 9, // 42 is beyond FSN 22: ignored, repaired to the segment floor
      manifest: { headBase: 10, activeBase: 20 },
    });
    expect(slot.report.watermarkProblem).toMatch(/repaired to 9/);
    expect(readAckWatermark(slotDir)).toMatchObject({ kind: 'valid', ackedFsn: 9, generation: 2 });
    slot.close();
  });
});
