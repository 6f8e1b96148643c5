import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles, FaultInjectingFiles, type FaultOp } from '@qwp/files-native';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  type OpenSlotOptions,
  openSlot,
  SEGMENT_HEADER_SIZE,
  SegmentIoError,
  type Slot,
  segmentFileName,
} from '../src/index.js';
import {
  payloadFor,
  payloadId,
  recordingFiles as recordingEveryCall,
  removeDir,
  tempDir,
} from './helpers.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const SEG = 256; // three 64-byte frames per segment

/** The slot 's' in sfDir with SEG-byte segments, serviced only by hand. */
function open(files: FaultInjectingFiles, more: Partial<OpenSlotOptions> = {}): Slot {
  return openSlot({ sfDir, senderId: 's', segmentSize: SEG, autoService: false, files, ...more });
}

/** A FaultInjectingFiles that also records the path of every fsyncDir call. */
function recordingFiles(): { files: FaultInjectingFiles; dirSyncs: string[] } {
  const files = new FaultInjectingFiles(defaultFiles);
  const dirSyncs: string[] = [];
  const inner = files.fsyncDir.bind(files);
  files.fsyncDir = (path: string) => {
    dirSyncs.push(path);
    inner(path);
  };
  return { files, dirSyncs };
}

/** Drops the slot as a crash would: nothing closed, only the flock let go by the "kernel". */
function crash(slot: Slot): void {
  slot.lock.close();
}

function replayed(slot: Slot): number[] {
  const out: number[] = [];
  const r = slot.ring.reader(slot.ring.firstFsn);
  while (r.next()) {
    expect(payloadId(r.payload())).toBe(r.fsn);
    out.push(r.fsn);
  }
  return out;
}

describe('directory fsyncs', () => {
  test('opening a fresh slot makes the lock, the first segment and the dictionary durable', () => {
    const { files, dirSyncs } = recordingFiles();
    const slot = open(files);
    // the slot directory (in sf_dir), then .lock, the first segment's rename, .symbol-dict (in the slot)
    expect(dirSyncs).toEqual([sfDir, slot.dir, slot.dir, slot.dir]);
    slot.close();
  });

  test('every directory level created for a new sf_dir is made durable in its parent', () => {
    const { files, dirSyncs } = recordingFiles();
    const deep = join(sfDir, 'x', 'y');
    const slot = openSlot({
      sfDir: deep,
      senderId: 's',
      segmentSize: SEG,
      autoService: false,
      files,
    });
    expect(dirSyncs.slice(0, 3)).toEqual([join(sfDir, 'x'), sfDir, deep]);
    slot.close();
  });

  test('a rotation fsyncs the directory after the rename; trims are batched into service', () => {
    const { files, dirSyncs } = recordingFiles();
    const slot = open(files);
    slot.manager.service(); // a spare ready: no directory sync needed for a spare
    dirSyncs.length = 0;
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    expect(dirSyncs).toEqual([]);
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3); // rotation: rename + fsyncDir
    expect(dirSyncs).toEqual([slot.dir]);
    for (let i = 4; i < 9; i++) {
      slot.ring.tryAppend(payloadFor(i, 64));
      slot.manager.service();
    }
    dirSyncs.length = 0;
    slot.ring.acknowledge(5); // releases two sealed segments
    expect(dirSyncs).toEqual([]); // nothing on the producer's path
    expect(slot.manager.pendingReleases).toBe(2);
    slot.manager.service(); // two unlinks, one directory fsync
    expect(slot.manager.pendingReleases).toBe(0);
    expect(dirSyncs).toEqual([slot.dir]);
    expect(slot.manager.directorySyncPending).toBe(false);
    slot.close();
  });

  test('a segment reaches its final name only after its header is on disk', () => {
    // The directory fsync that follows a rename makes the name durable; a header
    // still in the page cache at an OS crash would leave a named segment with a
    // zero or stale header, which recovery refuses along with the whole slot.
    const { files, calls } = recordingEveryCall();
    const slot = openSlot({ sfDir, senderId: 's', segmentSize: SEG, autoService: false, files });
    slot.manager.service();
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.close();
    const renames = calls.flatMap((c, i) => (c.op === 'rename' ? [i] : []));
    expect(renames.length).toBe(3); // the first segment and two rotations
    for (const i of renames) {
      const before = calls[i - 1]!;
      expect(before.op).toBe('msync');
      const [, offset, length, sync] = before.args;
      expect([offset, length, sync]).toEqual([0, SEGMENT_HEADER_SIZE, true]);
    }
  });

  test('a failed header msync before a rotation is a typed error; a retry rotates and loses nothing', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const slot = open(files);
    slot.manager.service();
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    files.inject('msync', { next: 1, code: 'EIO' });
    expect(() => slot.ring.tryAppend(payloadFor(3, 64))).toThrow(SegmentIoError);
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3); // the spare is still there
    crash(slot);
    const again = open(new FaultInjectingFiles(defaultFiles));
    expect(replayed(again)).toEqual([0, 1, 2, 3]);
    again.close();
  });

  test('EIO from fsyncDir at the first segment is a typed error and leaves an openable slot', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('fsyncDir', { nth: 3 }); // sf_dir, .lock, then the first segment's rename
    let err: unknown;
    try {
      open(files);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as SegmentIoError).errno).toBe('EIO');
    expect((err as SegmentIoError).path).toBe(join(sfDir, 's'));
    const slot = open(files);
    expect(slot.ring.nextFsn).toBe(0);
    expect(slot.ring.tryAppend(payloadFor(0, 64))).toBe(0);
    slot.close();
  });

  test('EIO from fsyncDir at the dictionary fails the open, releases the lock, keeps the segment', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('fsyncDir', { nth: 4 });
    expect(() => open(files)).toThrow(/cannot fsync directory/);
    const slot = open(files);
    expect(slot.report.segments.length).toBe(1);
    slot.close();
  });

  test('EIO from fsyncDir at a rotation is reported, retried by service, and loses nothing', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const errors: Error[] = [];
    const slot = open(files, { onError: (e) => errors.push(e) });
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    files.inject('fsyncDir', { nth: 1 });
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
    expect(errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(SegmentIoError);
    expect((errors[0] as SegmentIoError).errno).toBe('EIO');
    expect(slot.manager.directorySyncPending).toBe(true);
    const before = files.calls.fsyncDir;
    slot.manager.service();
    expect(files.calls.fsyncDir).toBe(before + 1);
    expect(slot.manager.directorySyncPending).toBe(false);
    for (let i = 4; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    crash(slot);
    const reopened = open(files);
    expect(replayed(reopened)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    reopened.close();
  });

  test('EIO from fsyncDir after trimming is reported; the files are gone and it is retried', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const errors: Error[] = [];
    const slot = open(files, { onError: (e) => errors.push(e) });
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.ring.acknowledge(5);
    files.inject('fsyncDir', { nth: 1 });
    slot.manager.service();
    expect((errors[0] as SegmentIoError).errno).toBe('EIO');
    expect(existsSync(join(slot.dir, segmentFileName(0)))).toBe(false);
    expect(slot.manager.directorySyncPending).toBe(true);
    slot.manager.service();
    expect(slot.manager.directorySyncPending).toBe(false);
    crash(slot);
    const reopened = open(files);
    expect(replayed(reopened)).toEqual([6]);
    reopened.close();
  });
});

describe('FSN monotonic across restarts with a single-segment cap', () => {
  const ops: FaultOp[] = ['open', 'fallocate', 'mmap', 'rename', 'fsyncDir', 'unlink'];
  for (const op of ops) {
    test(`a crash at the force-rotate's ${op} never restarts FSNs`, () => {
      const files = new FaultInjectingFiles(defaultFiles);
      const open = () =>
        openSlot({
          sfDir,
          senderId: 's',
          segmentSize: SEG,
          maxTotalBytes: SEG,
          autoService: false,
          files,
        });
      let slot = open();
      let last = -1;
      for (let round = 0; round < 3; round++) {
        while (slot.ring.tryAppend(payloadFor(last + 1, 64)) >= 0) last++;
        slot.ring.acknowledge(last); // fully acked: the next append force-rotates
        files.inject(op, { nth: 1 });
        try {
          if (slot.ring.tryAppend(payloadFor(last + 1, 64)) >= 0) last++;
          slot.manager.service();
        } catch {
          // the injected failure: the process "dies" here
        }
        files.clearFaults();
        crash(slot);
        slot = open();
        expect(slot.ring.nextFsn).toBe(last + 1);
        slot.ring.acknowledge(slot.ring.nextFsn - 1);
      }
      expect(last).toBeGreaterThanOrEqual(8);
      slot.close();
    });
  }

  test('the replacement exists under its final name before the old segment is unlinked', () => {
    const slot = openSlot({
      sfDir,
      senderId: 's',
      segmentSize: SEG,
      maxTotalBytes: SEG,
      autoService: false,
    });
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.ring.acknowledge(2);
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
    // Until service deletes it, the old segment stays beside the new one (one segment over the cap).
    expect(readdirSync(slot.dir).filter((n) => n.endsWith('.sfa'))).toEqual([
      segmentFileName(0),
      segmentFileName(3),
    ]);
    slot.manager.service();
    expect(readdirSync(slot.dir).filter((n) => n.endsWith('.sfa'))).toEqual([segmentFileName(3)]);
    expect(slot.manager.ownedBytes).toBe(SEG);
    slot.close();
  });
});

test('without inline provisioning, service makes the force-rotate replacement past the cap', () => {
  const slot = openSlot({
    sfDir,
    senderId: 's',
    segmentSize: SEG,
    maxTotalBytes: SEG,
    autoService: false,
    inlineProvision: false,
  });
  for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
  slot.ring.acknowledge(2);
  expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(-1); // nothing on the producer's call
  expect(readdirSync(slot.dir).filter((n) => n.endsWith('.sfa'))).toEqual([segmentFileName(0)]);
  slot.manager.service();
  expect(slot.manager.hasSpare).toBe(true);
  expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
  slot.manager.service();
  expect(readdirSync(slot.dir).filter((n) => n.endsWith('.sfa'))).toEqual([segmentFileName(3)]);
  slot.manager.service(); // no further spare past the cap
  expect(slot.manager.hasSpare).toBe(false);
  slot.close();
});

describe('the dictionary and the lock count toward sf_max_total_bytes', () => {
  test('a large dictionary makes the spare that would exceed the cap refused', () => {
    const cap = 2 * SEG + 100;
    const slot = openSlot({
      sfDir,
      senderId: 's',
      segmentSize: SEG,
      maxTotalBytes: cap,
      autoService: false,
    });
    slot.dict.appendSymbols(Array.from({ length: 20 }, (_, i) => `symbol-number-${i}`));
    expect(slot.dict.length).toBeGreaterThan(100);
    expect(slot.lock.sizeBytes).toBe(`${process.pid}\n`.length);
    expect(slot.manager.totalBytes).toBe(SEG + slot.dict.length + slot.lock.sizeBytes);
    for (let i = 0; i < 3; i++) expect(slot.ring.tryAppend(payloadFor(i, 64))).toBe(i);
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(-1); // a spare would make 2 segments + dict > cap
    expect(slot.manager.totalBytes).toBeLessThanOrEqual(cap);
    slot.close();
  });
});
