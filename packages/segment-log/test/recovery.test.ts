import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { defaultFiles, FaultInjectingFiles } from '@qwp/files-native';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  BadArgumentError,
  BadDirectoryError,
  BadSenderIdError,
  FsnGapError,
  MmapSegment,
  openSlot,
  SegmentCorruptError,
  SegmentIoError,
  type Slot,
  SlotLockedError,
  segmentFileName,
} from '../src/index.js';
import { payloadFor, payloadId, removeDir, tempDir, thrown } from './helpers.js';

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

function replay(slot: Slot): number[] {
  const r = slot.ring.reader(slot.ring.firstFsn);
  const out: number[] = [];
  while (r.next()) {
    expect(payloadId(r.payload())).toBe(r.fsn);
    out.push(r.fsn);
  }
  return out;
}

/** Every file in the slot with its bytes, to prove a failed open touched nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) {
    if (n === '.lock') continue;
    out[n] = readFileSync(join(dir, n)).toString('base64');
  }
  return out;
}

describe('openSlot', () => {
  test('a fresh slot gets a lock, a first segment at FSN 0 and a dictionary', () => {
    const slot = open();
    expect(slot.report).toMatchObject({ frames: 0, firstFsn: -1, lastFsn: -1, tornTailBytes: 0 });
    expect(readdirSync(slot.dir).sort()).toEqual(['.lock', '.symbol-dict', segmentFileName(0)]);
    slot.close();
  });

  test('reopen finds every frame, continues FSNs, and reports what it found', () => {
    let slot = open();
    fill(slot, 0, 10);
    slot.dict.appendSymbols(['a', 'b']);
    slot.close();
    slot = open();
    expect(slot.report).toMatchObject({ frames: 10, firstFsn: 0, lastFsn: 9, symbols: 2 });
    expect(slot.report.segments.map((s) => s.baseSeq)).toEqual([0, 3, 6, 9]);
    expect(replay(slot)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    fill(slot, 10, 12);
    slot.close();
    slot = open();
    expect(slot.report.lastFsn).toBe(11);
    slot.close();
  });

  test('trimmed segments are unlinked and FSNs stay monotonic across restarts', () => {
    let slot = open();
    fill(slot, 0, 10);
    slot.ring.acknowledge(9);
    slot.manager.service();
    expect(existsSync(join(slot.dir, segmentFileName(0)))).toBe(false);
    slot.close();
    slot = open();
    expect(slot.report.segments.map((s) => s.baseSeq)).toEqual([9]);
    expect(slot.ring.nextFsn).toBe(10);
    slot.close();
  });

  test('a torn tail is cut at the last good frame and reported', () => {
    let slot = open();
    fill(slot, 0, 5);
    const active = slot.ring.activeSegment!.path;
    slot.close();
    const image = readFileSync(active);
    image[24 + 72 + 20] = image[24 + 72 + 20]! ^ 0x40; // payload of the second frame in the active segment (FSN 4)
    writeFileSync(active, image);
    slot = open();
    expect(slot.report.lastFsn).toBe(3);
    expect(slot.report.tornTailBytes).toBe(SEG - 24 - 72);
    expect(replay(slot)).toEqual([0, 1, 2, 3]);
    fill(slot, 4, 6);
    slot.close();
    slot = open();
    expect(slot.report.tornTailBytes).toBe(0);
    expect(replay(slot)).toEqual([0, 1, 2, 3, 4, 5]);
    slot.close();
  });

  test('short writes while zeroing a torn tail and writing the lock PID are completed', () => {
    let slot = open();
    fill(slot, 0, 5);
    const active = slot.ring.activeSegment!.path;
    slot.close();
    const image = readFileSync(active);
    image[24 + 72 + 20] = image[24 + 72 + 20]! ^ 0x40; // FSN 4's payload: a torn tail from there
    writeFileSync(active, image);
    const files = new FaultInjectingFiles(defaultFiles);
    const lockCut = files.shortWrite({ next: 2, path: (p) => p.endsWith('.lock') }, 1);
    const zeroCut = files.shortWrite({ next: 2, path: (p) => p.endsWith('.sfa') }, 10);
    slot = open({ files });
    expect([lockCut.hits, zeroCut.hits]).toEqual([2, 2]);
    expect(readFileSync(join(slot.dir, '.lock'), 'utf8')).toBe(`${process.pid}\n`);
    expect(
      readFileSync(active)
        .subarray(24 + 72)
        .every((b) => b === 0),
    ).toBe(true);
    fill(slot, 4, 5);
    slot.close();
    slot = open();
    expect(slot.report.tornTailBytes).toBe(0);
    expect(replay(slot)).toEqual([0, 1, 2, 3, 4]);
    slot.close();
  });

  test('an FSN gap is fatal, names both files, and touches nothing', () => {
    const slot = open();
    fill(slot, 0, 8);
    const dir = slot.dir;
    slot.close();
    unlinkSync(join(dir, segmentFileName(3)));
    const before = snapshot(dir);
    let err: unknown;
    try {
      open();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FsnGapError);
    expect((err as Error).message).toContain(segmentFileName(0));
    expect((err as Error).message).toContain(segmentFileName(6));
    expect(snapshot(dir)).toEqual(before);
    expect(() => open()).toThrow(FsnGapError); // and the lock was released
  });

  test('a bad header is fatal and never becomes an empty log', () => {
    const slot = open();
    fill(slot, 0, 4);
    const dir = slot.dir;
    slot.close();
    const p = join(dir, segmentFileName(0));
    const image = readFileSync(p);
    image[1] = 0;
    writeFileSync(p, image);
    const before = snapshot(dir);
    expect(() => open()).toThrow(SegmentCorruptError);
    expect(snapshot(dir)).toEqual(before);
  });

  test('a header baseSeq that disagrees with the file name is fatal', () => {
    const slot = open();
    const dir = slot.dir;
    slot.close();
    MmapSegment.create(join(dir, segmentFileName(7)), 8, SEG).close();
    expect(() => open()).toThrow(/baseSeq 8 in its header but 7 in its name/);
  });

  test('empty leftover spares are dropped; a spare with frames is fatal', () => {
    let slot = open();
    fill(slot, 0, 2);
    const dir = slot.dir;
    slot.close();
    MmapSegment.create(join(dir, 'spare-1-0.sfa'), 0, SEG).close();
    slot = open();
    expect(slot.report.droppedEmpty).toEqual([join(dir, 'spare-1-0.sfa')]);
    expect(existsSync(join(dir, 'spare-1-0.sfa'))).toBe(false);
    slot.close();
    const s = MmapSegment.create(join(dir, 'spare-1-1.sfa'), 0, SEG);
    s.tryAppend(new Uint8Array(3));
    s.close();
    expect(() => open()).toThrow(/not named sf-<baseSeq>.sfa/);
    expect(existsSync(join(dir, 'spare-1-1.sfa'))).toBe(true);
  });

  test('an all-zero spare (its creator died before the header) is dropped; other junk is fatal', () => {
    let slot = open();
    fill(slot, 0, 2);
    const dir = slot.dir;
    slot.close();
    writeFileSync(join(dir, 'spare-9-0.sfa'), new Uint8Array(SEG));
    slot = open();
    expect(slot.report.droppedEmpty).toEqual([join(dir, 'spare-9-0.sfa')]);
    slot.close();
    const half = new Uint8Array(SEG); // killed inside the header write: everything but the magic
    half[4] = 1;
    half[8] = 42;
    writeFileSync(join(dir, 'spare-9-2.sfa'), half);
    slot = open();
    expect(slot.report.droppedEmpty).toEqual([join(dir, 'spare-9-2.sfa')]);
    slot.close();
    const junk = new Uint8Array(SEG);
    junk[100] = 1;
    writeFileSync(join(dir, 'spare-9-1.sfa'), junk);
    expect(() => open()).toThrow(SegmentCorruptError);
    expect(existsSync(join(dir, 'spare-9-1.sfa'))).toBe(true);
  });

  test('an empty spare that cannot be deleted is reported, not fatal', () => {
    let slot = open();
    const dir = slot.dir;
    slot.close();
    MmapSegment.create(join(dir, 'spare-7-0.sfa'), 0, SEG).close();
    const files = new FaultInjectingFiles(defaultFiles);
    files.failUnlink({ next: 1 });
    const errors: Error[] = [];
    slot = open({ files, onError: (e) => errors.push(e) });
    expect(slot.report.undeletable).toEqual([join(dir, 'spare-7-0.sfa')]);
    expect(errors[0]!.message).toContain('spare-7-0.sfa');
    slot.close();
    slot = open();
    expect(slot.report.droppedEmpty).toEqual([join(dir, 'spare-7-0.sfa')]);
    slot.close();
  });

  test('a corrupt dictionary is fatal before anything on disk changes', () => {
    const slot = open();
    fill(slot, 0, 4);
    const dir = slot.dir;
    slot.close();
    MmapSegment.create(join(dir, 'spare-7-1.sfa'), 0, SEG).close();
    writeFileSync(join(dir, '.symbol-dict'), 'XXXXXXXXXXXX');
    const before = snapshot(dir);
    expect(() => open()).toThrow(SegmentCorruptError);
    expect(snapshot(dir)).toEqual(before);
    expect(() => open()).toThrow(SegmentCorruptError); // never recreated over
    expect(snapshot(dir)).toEqual(before);
  });

  test('a readdir error is fatal and releases the lock', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    open().close();
    files.failReaddir({ next: 1 });
    expect(() => open({ files })).toThrow(BadDirectoryError);
    open().close();
  });

  test('a slot held by a live process is refused, naming the PID', () => {
    const first = open();
    let err: unknown;
    try {
      open();
    } catch (e) {
      err = e;
    }
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
    slot.close();
    MmapSegment.create(join(dir, 'spare-3-0.sfa'), 0, SEG).close(); // recovery would drop it
    writeFileSync(
      join(dir, '.symbol-dict'),
      Buffer.concat([readFileSync(join(dir, '.symbol-dict')), Buffer.from([1, 9])]),
    );
    const before = snapshot(dir);
    expect(() => open({ maxTotalBytes: SEG - 1 })).toThrow(BadArgumentError);
    expect(() => open({ segmentSize: 16 })).toThrow(/segment size 16/);
    expect(snapshot(dir)).toEqual(before); // torn dictionary tail and spare still there
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

  test('a full disk when creating the first segment is a typed error and leaves no file', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    files.enospcOnFallocate({ next: 1 });
    let err: unknown;
    try {
      open({ files });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as SegmentIoError).errno).toBe('ENOSPC');
    expect(readdirSync(join(sfDir, 's'))).toEqual(['.lock']);
    open().close();
  });

  test('reopens a slot of 16384 small segments well under a second', () => {
    const n = 16384;
    const dir = join(sfDir, 's');
    open().close();
    unlinkSync(join(dir, segmentFileName(0)));
    const seg = MmapSegment.createInMemory(0, 64);
    seg.tryAppend(new Uint8Array(8));
    const image = new Uint8Array(seg.bytes);
    const view = new DataView(image.buffer);
    for (let i = 0; i < n; i++) {
      view.setUint32(8, i, true);
      writeFileSync(join(dir, segmentFileName(i)), image);
    }
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
      slot.close();
    }
    const ms = (xs: number[]) => xs.map((t) => t.toFixed(0)).join(', ');
    console.log(`reopen of ${n} segments: cpu ${ms(cpu)} ms, wall ${ms(wall)} ms`);
    expect(Math.min(...cpu)).toBeLessThan(500);
  }, 60_000);
});

describe('a failed open releases everything it took', () => {
  test('a dictionary that fails to close does not keep the lock or hide the open failure', () => {
    const first = open();
    fill(first, 0, 2);
    first.close();
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('close', { next: 1, path: (p) => p.endsWith('.symbol-dict') });
    const errors: Error[] = [];
    // A full disk when reserving the newest segment, after the dictionary was opened.
    files.enospcOnFallocate({ next: 1 });
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
    files.inject('munmap', { next: 3, code: 'EINVAL' });
    const err = thrown(() => slot.close());
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as Error).message).toContain(segmentFileName(0));
    const suppressed = (err as SegmentIoError).suppressed as Error[];
    expect(suppressed.map((e) => e.message)).toEqual([
      expect.stringContaining(segmentFileName(3)),
      expect.stringContaining(segmentFileName(6)),
    ]);
    const again = open();
    expect(replay(again)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    again.close();
  });
});
