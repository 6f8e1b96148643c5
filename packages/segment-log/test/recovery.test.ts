import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { FaultInjectingFiles } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  payloadFor,
  payloadId,
  removeDir,
  segmentsOnDisk,
  slotFiles,
  tempDir,
  thrown,
} from './helpers.js';
import {
  BadArgumentError,
  BadDirectoryError,
  BadSenderIdError,
  FsnGapError,
  inspectSegmentFile,
  MmapSegment,
  openSlot,
  RecoveryError,
  readManifest,
  SEGMENT_FLAG_MANIFEST_REQUIRED,
  SegmentCorruptError,
  SegmentIoError,
  SfManifest,
  type Slot,
  SlotLockedError,
  segmentFileName,
} from './internals.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const SEG = 256; // three 64-byte payloads per segment
const open = (extra: Partial<Parameters<typeof openSlot>[0]> = {}) =>
  openSlot({ sfDir, senderId: 's', segmentSize: SEG, autoService: false, ...extra });

function fill(slot: Slot, from: number, to: number): void {
  for (let i = from; i < to; i++) expect(slot.ring.tryAppend(payloadFor(i, 64))).toBe(i);
}

function replay(slot: Slot, from = slot.ring.firstFsn): number[] {
  const r = slot.ring.reader(from);
  const out: number[] = [];
  while (r.next()) {
    expect(payloadId(r.payload())).toBe(r.fsn);
    out.push(r.fsn);
  }
  return out;
}

/** Drops the slot as a crash would: nothing closed, only the flock let go by the "kernel". */
function crash(slot: Slot): void {
  slot.lock.close();
}

/** Every file in the slot with its bytes, to prove a failed open touched nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) {
    if (n === '.lock' || n === '.lock.pid') continue;
    out[n] = readFileSync(join(dir, n)).toString('base64');
  }
  return out;
}

/** The file of the segment whose header says `baseSeq` (names carry no FSN). */
function fileOf(dir: string, baseSeq: number): string {
  const s = segmentsOnDisk(dir).find((x) => x.baseSeq === baseSeq && x.frames > 0);
  if (s === undefined) throw new Error(`no segment with frames at ${baseSeq}`);
  return join(dir, s.name);
}

describe('openSlot', () => {
  test('a fresh slot: lock and holder PID, watermark, dictionary, a flagged first segment at FSN 0, a manifest', () => {
    const slot = open();
    expect(slot.report).toMatchObject({
      frames: 0,
      firstFsn: -1,
      lastFsn: -1,
      ackedFsn: -1,
      freshStart: true,
      manifest: { headBase: 0, activeBase: 0 },
    });
    expect(slotFiles(slot.dir)).toEqual([
      '.ack-watermark',
      '.lock',
      '.lock.pid',
      '.symbol-dict',
      segmentFileName(0),
      'sf-manifest.bin',
    ]);
    expect(inspectSegmentFile(join(slot.dir, segmentFileName(0))).flags).toBe(
      SEGMENT_FLAG_MANIFEST_REQUIRED,
    );
    // Java's logical lock was taken around the open and released after it.
    expect(readdirSync(join(sfDir, '.slot-locks')).sort()).toEqual(['s.lock', 's.lock.pid']);
    slot.close();
  });

  test('reopen after a crash finds every frame, continues FSNs, and reports what it found', () => {
    let slot = open();
    fill(slot, 0, 10);
    slot.dict.appendSymbols(['a', 'b']);
    crash(slot);
    slot = open();
    expect(slot.report).toMatchObject({
      frames: 10,
      firstFsn: 0,
      lastFsn: 9,
      symbols: 2,
      ackedFsn: -1,
    });
    expect(slot.report.segments.map((s) => s.baseSeq)).toEqual([0, 3, 6, 9]);
    expect(replay(slot)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    fill(slot, 10, 12);
    crash(slot);
    slot = open();
    expect(slot.report.lastFsn).toBe(11);
    slot.close();
  });

  test('a restart replays only the frames above the persisted ACK (clean close or crash)', () => {
    let slot = open();
    fill(slot, 0, 8);
    expect(slot.acknowledge(4)).toBe(1); // segment 0..2 trimmed; 3, 4 acked but kept
    slot.close(); // not drained: FSNs 5..7 are not acknowledged
    slot = open();
    expect(slot.report).toMatchObject({ ackedFsn: 4, watermark: 4, firstFsn: 3, lastFsn: 7 });
    expect(slot.ring.control.ackedFsn).toBe(4);
    expect(replay(slot, slot.ring.ackedFsn + 1)).toEqual([5, 6, 7]);
    // An ACK the worker advances through the control block is persisted by acknowledge().
    slot.ring.control.acknowledge(6);
    expect(slot.acknowledge()).toBe(1); // and trims the segment holding 3..5
    crash(slot);
    slot = open();
    expect(slot.report.ackedFsn).toBe(6);
    slot.close();
  });

  test('trims advance the manifest head; a fully drained close leaves only .lock and .lock.pid; FSNs then start at 0', () => {
    let slot = open();
    fill(slot, 0, 10);
    slot.acknowledge(5);
    expect(slot.manifest.headBase).toBe(6);
    slot.manager.service();
    expect(segmentsOnDisk(slot.dir).map((s) => s.baseSeq)).toEqual(
      [6, 9, 10].slice(0, slot.manager.hasSpare ? 3 : 2),
    );
    slot.acknowledge(9);
    slot.close();
    expect(slotFiles(slot.dir)).toEqual(['.lock', '.lock.pid']);
    slot = open();
    expect(slot.report.freshStart).toBe(true);
    expect(slot.ring.nextFsn).toBe(0);
    slot.close();
  });

  test('a torn tail is cut at the last good frame and reported', () => {
    let slot = open();
    fill(slot, 0, 5);
    const active = slot.ring.activeSegment!.path;
    crash(slot);
    const image = readFileSync(active);
    image[24 + 72 + 20] = image[24 + 72 + 20]! ^ 0x40; // payload of FSN 4 (the second frame of the active segment)
    writeFileSync(active, image);
    slot = open();
    expect(slot.report.lastFsn).toBe(3);
    expect(slot.report.tornTailBytes).toBe(SEG - 24 - 72);
    expect(replay(slot)).toEqual([0, 1, 2, 3]);
    fill(slot, 4, 6);
    crash(slot);
    slot = open();
    expect(slot.report.tornTailBytes).toBe(0);
    expect(replay(slot)).toEqual([0, 1, 2, 3, 4, 5]);
    slot.close();
  });

  test('short writes while zeroing a torn tail and writing the holder PID are completed', () => {
    let slot = open();
    fill(slot, 0, 5);
    const active = slot.ring.activeSegment!.path;
    crash(slot);
    const image = readFileSync(active);
    image[24 + 72 + 20] = image[24 + 72 + 20]! ^ 0x40;
    writeFileSync(active, image);
    const files = new FaultInjectingFiles(defaultFiles);
    const pidCut = files.shortWrite({ next: 2, path: (p) => p.endsWith('/s/.lock.pid') }, 1);
    const zeroCut = files.shortWrite({ next: 2, path: (p) => p.endsWith('.sfa') }, 10);
    slot = open({ files });
    expect([pidCut.hits, zeroCut.hits]).toEqual([2, 2]);
    expect(readFileSync(join(slot.dir, '.lock.pid'), 'utf8')).toBe(`${process.pid}\n`);
    expect(
      readFileSync(active)
        .subarray(24 + 72)
        .every((b) => b === 0),
    ).toBe(true);
    fill(slot, 4, 5);
    crash(slot);
    slot = open();
    expect(slot.report.tornTailBytes).toBe(0);
    expect(replay(slot)).toEqual([0, 1, 2, 3, 4]);
    slot.close();
  });

  test("segment names carry no FSN: shuffled names and Java's sf-initial.sfa recover by header", () => {
    let slot = open();
    fill(slot, 0, 8);
    const dir = slot.dir;
    crash(slot);
    const segs = segmentsOnDisk(dir).filter((s) => s.frames > 0);
    // Reverse the generation names: the newest frames now live in the lowest generation.
    const tmp = segs.map((s, i) => {
      const t = join(dir, `tmp-${i}`);
      renameSync(join(dir, s.name), t);
      return t;
    });
    for (const [i, t] of tmp.entries()) renameSync(t, join(dir, segs[segs.length - 1 - i]!.name));
    renameSync(join(dir, segs[segs.length - 1]!.name), join(dir, 'sf-initial.sfa'));
    slot = open();
    expect(replay(slot)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    fill(slot, 8, 10);
    slot.close();
  });

  test('an FSN gap is fatal, names both files, and touches nothing', () => {
    const slot = open();
    fill(slot, 0, 8);
    const dir = slot.dir;
    crash(slot);
    const first = fileOf(dir, 0);
    const last = fileOf(dir, 6);
    unlinkSync(fileOf(dir, 3));
    const before = snapshot(dir);
    const err = thrown(() => open());
    expect(err).toBeInstanceOf(FsnGapError);
    expect((err as Error).message).toContain(first);
    expect((err as Error).message).toContain(last);
    expect(snapshot(dir)).toEqual(before);
    expect(() => open()).toThrow(FsnGapError); // and the locks were released
  });

  test('a bad header on the head segment is fatal (its frames are committed) and never becomes an empty log', () => {
    const slot = open();
    fill(slot, 0, 4);
    const dir = slot.dir;
    crash(slot);
    const p = fileOf(dir, 0);
    const image = readFileSync(p);
    image[1] = 0;
    writeFileSync(p, image);
    const before = snapshot(dir);
    expect(() => open()).toThrow(/head segment \(FSN 0\).* is missing/);
    expect(snapshot(dir)).toEqual(before);
  });

  test('junk .sfa files beside a valid chain are quarantined to .corrupt once the chain validates', () => {
    let slot = open();
    fill(slot, 0, 2);
    const dir = slot.dir;
    crash(slot);
    writeFileSync(join(dir, 'sf-00000000000000aa.sfa'), new Uint8Array(SEG)); // a creator died before the header
    const junk = new Uint8Array(SEG);
    junk[100] = 1;
    writeFileSync(join(dir, 'stray.sfa'), junk);
    slot = open();
    expect(slot.report.quarantined.sort()).toEqual(
      [join(dir, 'sf-00000000000000aa.sfa.corrupt'), join(dir, 'stray.sfa.corrupt')].sort(),
    );
    expect(replay(slot)).toEqual([0, 1]);
    // The quarantined generation still counts: the next segment is named past it.
    fill(slot, 2, 4);
    expect(slot.ring.activeSegment!.path).toBe(join(dir, segmentFileName(0xab)));
    slot.close();
  });

  test('empty leftover segments are dropped; a segment with frames beyond the active bound is fatal', () => {
    let slot = open();
    fill(slot, 0, 2);
    const dir = slot.dir;
    crash(slot);
    MmapSegment.create(join(dir, 'sf-0000000000000040.sfa'), 0, SEG, { flags: 1 }).close();
    slot = open();
    expect(slot.report.droppedEmpty).toContain(join(dir, 'sf-0000000000000040.sfa'));
    expect(existsSync(join(dir, 'sf-0000000000000040.sfa'))).toBe(false);
    crash(slot);
    const s = MmapSegment.create(join(dir, 'sf-0000000000000041.sfa'), 9, SEG, { flags: 1 });
    s.tryAppend(new Uint8Array(3).fill(1));
    s.close();
    const before = snapshot(dir);
    expect(() => open()).toThrow(/beyond the manifest's active segment/);
    expect(snapshot(dir)).toEqual(before);
  });

  test('an empty leftover that cannot be deleted is reported, not fatal', () => {
    let slot = open();
    const dir = slot.dir;
    crash(slot);
    MmapSegment.create(join(dir, 'sf-0000000000000007.sfa'), 0, SEG).close();
    const files = new FaultInjectingFiles(defaultFiles);
    files.failUnlink({ next: 1, path: (p) => p.endsWith('07.sfa') });
    const errors: Error[] = [];
    slot = open({ files, onError: (e) => errors.push(e) });
    expect(slot.report.undeletable).toEqual([join(dir, 'sf-0000000000000007.sfa')]);
    expect(errors[0]!.message).toContain('sf-0000000000000007.sfa');
    crash(slot);
    slot = open();
    expect(slot.report.droppedEmpty).toContain(join(dir, 'sf-0000000000000007.sfa'));
    slot.close();
  });

  test('a corrupt dictionary (an opaque log) is fatal before anything on disk changes', () => {
    const slot = open();
    fill(slot, 0, 4);
    const dir = slot.dir;
    crash(slot);
    MmapSegment.create(join(dir, 'sf-0000000000000070.sfa'), 0, SEG).close();
    writeFileSync(join(dir, '.symbol-dict'), 'XXXXXXXXXXXX');
    const before = snapshot(dir);
    expect(() => open()).toThrow(SegmentCorruptError);
    expect(snapshot(dir)).toEqual(before);
    expect(() => open()).toThrow(SegmentCorruptError); // never recreated over
    expect(snapshot(dir)).toEqual(before);
  });

  test('a readdir error is fatal and releases the locks', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    open().close();
    files.failReaddir({ next: 1 });
    expect(() => open({ files })).toThrow(BadDirectoryError);
    open().close();
  });

  test('a slot held by a live process is refused, naming the PID', () => {
    const first = open();
    const err = thrown(() => open());
    expect(err).toBeInstanceOf(SlotLockedError);
    expect((err as SlotLockedError).holderPid).toBe(process.pid);
    first.close();
    open().close();
  });

  test('bad sender ids and an sf_dir that is a file are typed errors that create nothing', () => {
    for (const senderId of ['..', 'a/b', 'x y', '']) {
      const err = thrown(() => openSlot({ sfDir, senderId }));
      expect(err).toBeInstanceOf(BadSenderIdError);
      expect((err as BadSenderIdError).path).toBe(sfDir);
      expect((err as Error).message).toContain(
        `sender_id ${JSON.stringify(senderId)} for sf_dir ${sfDir}`,
      );
    }
    expect(readdirSync(sfDir)).toEqual([]);
    const file = join(sfDir, 'file');
    writeFileSync(file, 'keep');
    expect(() => openSlot({ sfDir: file })).toThrow(BadDirectoryError);
    expect(readFileSync(file, 'utf8')).toBe('keep');
  });

  test('bad sizes are refused before anything is created or recovery changes a byte', () => {
    const slot = open();
    fill(slot, 0, 2);
    slot.dict.appendSymbols(['a']);
    const dir = slot.dir;
    crash(slot);
    MmapSegment.create(join(dir, 'sf-0000000000000030.sfa'), 0, SEG).close(); // recovery would drop it
    writeFileSync(
      join(dir, '.symbol-dict'),
      Buffer.concat([readFileSync(join(dir, '.symbol-dict')), Buffer.from([1, 9])]),
    );
    const before = snapshot(dir);
    expect(() => open({ maxTotalBytes: SEG - 1 })).toThrow(BadArgumentError);
    expect(() => open({ segmentSize: 16 })).toThrow(/segment size 16/);
    expect(snapshot(dir)).toEqual(before); // torn dictionary tail and leftover still there
    const fresh = join(sfDir, 'fresh');
    expect(() => openSlot({ sfDir: fresh, segmentSize: 16 })).toThrow(BadArgumentError);
    expect(existsSync(fresh)).toBe(false);
    open().close();
  });

  test('an unwritable sf_dir is a typed error naming it', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('mkdir', { code: 'EACCES' });
    expect(() => open({ sfDir: join(sfDir, 'nope'), files })).toThrow(/cannot create directory/);
    if (process.getuid?.() !== 0) {
      const ro = join(sfDir, 'ro');
      open({ sfDir: ro }).close();
      chmodSync(ro, 0o500);
      try {
        expect(() => open({ sfDir: ro, senderId: 'other' })).toThrow(BadDirectoryError);
      } finally {
        chmodSync(ro, 0o700);
      }
    }
  });

  test('a full disk when creating the first segment is a typed error; no segment or manifest is left', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('fallocate', { next: 1, code: 'ENOSPC', path: (p) => p.endsWith('.sfa') });
    const err = thrown(() => open({ files }));
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as SegmentIoError).errno).toBe('ENOSPC');
    expect(slotFiles(join(sfDir, 's'))).toEqual([
      '.ack-watermark',
      '.lock',
      '.lock.pid',
      '.symbol-dict',
    ]);
    open().close();
  });

  test('reopens a slot of 16384 small segments well under a second', () => {
    const n = 16384;
    const dir = join(sfDir, 's');
    open().close();
    const seg = MmapSegment.createInMemory(0, 64);
    seg.tryAppend(new Uint8Array(8).fill(1));
    const image = new Uint8Array(seg.bytes);
    image[5] = SEGMENT_FLAG_MANIFEST_REQUIRED;
    const view = new DataView(image.buffer);
    for (let i = 0; i < n; i++) {
      view.setUint32(8, i, true);
      writeFileSync(join(dir, segmentFileName(i)), image);
    }
    SfManifest.create(dir, 0, n - 1).close();
    // Judged by this process's CPU time (user + system), best of three: other
    // test files share the two cores, and their load must not read as slow
    // recovery. Reopen is synchronous, so on a quiet machine wall time is the same.
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const slot = open();
      const c = process.cpuUsage(c0);
      wall.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
      expect(slot.report).toMatchObject({ frames: n, firstFsn: 0, lastFsn: n - 1 });
      expect(slot.report.segments).toHaveLength(n);
      crash(slot);
    }
    const ms = (xs: number[]) => xs.map((t) => t.toFixed(0)).join(', ');
    console.log(`reopen of ${n} segments: cpu ${ms(cpu)} ms, wall ${ms(wall)} ms`);
    expect(Math.min(...cpu)).toBeLessThan(500);
  }, 60_000);
});

describe('the manifest is applied', () => {
  test('flagged segments without a manifest are refused, twice the same way, touching nothing', () => {
    const slot = open();
    fill(slot, 0, 2);
    const dir = slot.dir;
    crash(slot);
    unlinkSync(join(dir, 'sf-manifest.bin'));
    const before = snapshot(dir);
    for (let i = 0; i < 2; i++) {
      const err = thrown(() => open());
      expect(err).toBeInstanceOf(RecoveryError);
      expect((err as Error).message).toMatch(/requires sf-manifest.bin but .* has none/);
    }
    expect(snapshot(dir)).toEqual(before);
  });

  test('an unusable manifest beside flagged segments is refused and left in place (not quarantined)', () => {
    const slot = open();
    fill(slot, 0, 2);
    const dir = slot.dir;
    crash(slot);
    writeFileSync(join(dir, 'sf-manifest.bin'), new Uint8Array(8192));
    const before = snapshot(dir);
    expect(() => open()).toThrow(
      /requires sf-manifest.bin but it is unusable \(.*no valid CRC-checked record\)/,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  test('a legacy slot (ours before this format) is migrated: manifest, flags, watermark, generation names from here on', () => {
    const dir = join(sfDir, 's');
    open().close();
    // The old layout: segments named by baseSeq, unflagged, no manifest or watermark, PID in .lock.
    for (const [base, frames] of [
      [0, 3],
      [3, 2],
    ] as const) {
      const seg = MmapSegment.create(
        join(dir, `sf-${base.toString(16).padStart(16, '0')}.sfa`),
        base,
        SEG,
      );
      for (let i = 0; i < frames; i++) seg.tryAppend(payloadFor(base + i, 64));
      seg.close();
    }
    MmapSegment.create(join(dir, 'spare-123-0.sfa'), 0, SEG).close();
    writeFileSync(join(dir, '.lock'), '4242\n');
    const slot = open();
    expect(slot.report).toMatchObject({
      migratedLegacy: true,
      manifest: { headBase: 0, activeBase: 3 },
      firstFsn: 0,
      lastFsn: 4,
      droppedEmpty: [join(dir, 'spare-123-0.sfa')],
    });
    expect(segmentsOnDisk(dir).every((s) => s.flags === SEGMENT_FLAG_MANIFEST_REQUIRED)).toBe(true);
    expect(replay(slot)).toEqual([0, 1, 2, 3, 4]);
    slot.close();
  });

  test('a crash part-way through a migration (manifest made, some flags stamped) is finished', () => {
    const dir = join(sfDir, 's');
    open().close();
    const a = MmapSegment.create(join(dir, segmentFileName(0)), 0, SEG, { flags: 1 });
    a.tryAppend(payloadFor(0, 64));
    a.close();
    const b = MmapSegment.create(join(dir, segmentFileName(1)), 1, SEG);
    b.tryAppend(payloadFor(1, 64));
    b.close();
    SfManifest.create(dir, 0, 1).close();
    const slot = open();
    expect(slot.report.migratedLegacy).toBe(false);
    expect(segmentsOnDisk(dir).map((s) => s.flags)).toEqual([1, 1]);
    expect(replay(slot)).toEqual([0, 1]);
    slot.close();
  });

  test('acknowledged segments below the head that a crash kept are deleted; one across the head is fatal', () => {
    let slot = open();
    fill(slot, 0, 7);
    const dir = slot.dir;
    const stale = fileOf(dir, 0);
    const image = readFileSync(stale);
    slot.acknowledge(2);
    crash(slot); // the trim's unlink has not run (service did not)
    expect(existsSync(stale)).toBe(true);
    slot = open();
    expect(slot.report.droppedAcknowledged).toEqual([stale]);
    expect(slot.report.firstFsn).toBe(3);
    crash(slot);
    // A segment holding FSNs 2..4 across the head at 3: not a crash's leftover.
    const across = MmapSegment.create(join(dir, 'sf-00000000000000f0.sfa'), 2, SEG, { flags: 1 });
    for (let i = 2; i < 5; i++) across.tryAppend(payloadFor(i, 16));
    across.close();
    expect(() => open()).toThrow(/across the manifest's head at 3/);
    expect(image.length).toBe(SEG);
  });

  test('a manifest whose head or active segment is missing is refused; a collapsed one with no segment starts fresh', () => {
    let slot = open();
    fill(slot, 0, 7);
    const dir = slot.dir;
    crash(slot);
    const active = fileOf(dir, 6);
    renameSync(active, `${active}.aside`);
    expect(() => open()).toThrow(
      /active segment \(FSN 6\).* does not continue|active segment \(FSN 6\).* is missing/,
    );
    renameSync(`${active}.aside`, active);
    const head = fileOf(dir, 0);
    unlinkSync(head);
    expect(() => open()).toThrow(/head segment \(FSN 0\).* is missing/);
    for (const s of segmentsOnDisk(dir)) unlinkSync(join(dir, s.name));
    expect(() => open()).toThrow(/commits segments from FSN 0 to 6 but no segment file exists/);
    unlinkSync(join(dir, 'sf-manifest.bin'));
    SfManifest.create(dir, 6, 6).close(); // what a drained close leaves if it crashes before the manifest goes
    slot = open();
    expect(slot.report.freshStart).toBe(true);
    expect(readManifest(dir)).toMatchObject({ bounds: { headBase: 0, activeBase: 0 } });
    slot.close();
  });

  test('segments from two lineages in one slot are refused, touching nothing', () => {
    const a = open({ senderId: 'a' });
    fill(a, 0, 5);
    crash(a);
    const b = open({ senderId: 'b' });
    fill(b, 0, 4);
    crash(b);
    const dirA = join(sfDir, 'a');
    for (const s of segmentsOnDisk(join(sfDir, 'b'))) {
      if (s.frames > 0) renameSync(join(sfDir, 'b', s.name), join(dirA, `b-${s.name}`));
    }
    const before = snapshot(dirA);
    expect(() => open({ senderId: 'a' })).toThrow(FsnGapError);
    expect(snapshot(dirA)).toEqual(before);
  });

  test("a torn residue after a sealed segment's last frame is zeroed and reported", () => {
    let slot = open();
    fill(slot, 0, 5);
    const dir = slot.dir;
    crash(slot);
    const sealed = fileOf(dir, 0);
    const image = readFileSync(sealed);
    image[SEG - 2] = 0x5a;
    writeFileSync(sealed, image);
    slot = open();
    expect(slot.report.sanitizedResidue).toEqual([sealed]);
    expect(inspectSegmentFile(sealed).tornTailBytes).toBe(0);
    expect(replay(slot)).toEqual([0, 1, 2, 3, 4]);
    slot.close();
  });
});

describe('quarantineUnreplayable', () => {
  test('a slot that cannot be replayed moves to <sender_id>.unreplayable-<n> with .failed, and a fresh slot opens', () => {
    const slot = open();
    fill(slot, 0, 8);
    const dir = slot.dir;
    crash(slot);
    unlinkSync(fileOf(dir, 3));
    const reopened = open({ quarantineUnreplayable: true });
    expect(reopened.report.freshStart).toBe(true);
    expect(reopened.report.quarantinedSlot).toMatchObject({
      path: join(sfDir, 's.unreplayable-0'),
    });
    expect(reopened.report.quarantinedSlot!.reason).toMatch(/FSN gap/);
    expect(readFileSync(join(sfDir, 's.unreplayable-0', '.failed'), 'utf8')).toMatch(
      /^unreplayable: FSN gap/,
    );
    expect(segmentsOnDisk(join(sfDir, 's.unreplayable-0')).length).toBeGreaterThan(1); // bytes kept
    reopened.close();
    // An I/O failure is never a reason to move a slot aside.
    const files = new FaultInjectingFiles(defaultFiles);
    files.failReaddir({ next: 1 });
    expect(() => open({ quarantineUnreplayable: true, files })).toThrow(BadDirectoryError);
    expect(existsSync(join(sfDir, 's.unreplayable-1'))).toBe(false);
  });
});

describe('a failed open releases everything it took', () => {
  test('a dictionary that fails to close does not keep the lock or hide the open failure', () => {
    const first = open();
    fill(first, 0, 2);
    crash(first);
    const files = new FaultInjectingFiles(defaultFiles);
    // The first close of .symbol-dict ends its read-only check; the second is the release.
    files.inject('close', { nth: 2, path: (p) => p.endsWith('.symbol-dict') });
    const errors: Error[] = [];
    // A full disk when reserving the active segment, after the dictionary was opened.
    files.inject('fallocate', { next: 1, code: 'ENOSPC', path: (p) => p.endsWith('.sfa') });
    expect(() => open({ files, onError: (e) => errors.push(e) })).toThrow(/ENOSPC/);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('.symbol-dict')]);
    const again = open();
    expect(replay(again)).toEqual([0, 1]);
    again.close();
  });
});

describe('closing a slot', () => {
  test('every segment that fails to unmap is reported on the thrown error and the lock is freed', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const slot = open({ files });
    fill(slot, 0, 7); // three segments, all mapped
    const paths = slot.ring.segments().map((s) => s.path);
    files.inject('munmap', { next: 3, code: 'EINVAL', path: (p) => p.endsWith('.sfa') });
    const err = thrown(() => slot.close());
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as Error).message).toContain(paths[0]);
    const suppressed = (err as SegmentIoError).suppressed as Error[];
    expect(suppressed.map((e) => e.message)).toEqual([
      expect.stringContaining(paths[1]!),
      expect.stringContaining(paths[2]!),
    ]);
    const again = open();
    expect(replay(again)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    again.close();
  });
});
