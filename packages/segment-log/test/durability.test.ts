import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { FaultInjectingFiles, type FaultOp } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  eventIndex,
  payloadFor,
  payloadId,
  removeDir,
  segmentsOnDisk,
  tempDir,
  tracingFiles,
} from './helpers.js';
import {
  type OpenSlotOptions,
  openSlot,
  readAckWatermark,
  readManifest,
  SegmentIoError,
  type Slot,
} from './internals.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const SEG = 256; // three 64-byte frames per segment

function open(
  files = new FaultInjectingFiles(defaultFiles),
  more: Partial<OpenSlotOptions> = {},
): Slot {
  return openSlot({ sfDir, senderId: 's', segmentSize: SEG, autoService: false, files, ...more });
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

/** Asserts that each pattern matches an event after the previous one's. */
function inOrder(events: string[], ...patterns: RegExp[]): void {
  let at = 0;
  for (const p of patterns) {
    const i = eventIndex(events, p, at);
    if (i < 0) throw new Error(`no ${p} after event ${at} in:\n${events.join('\n')}`);
    at = i + 1;
  }
}

const SEG0 = 'sf-0000000000000000\\.sfa';
const SEG1 = 'sf-0000000000000001\\.sfa';

describe('the orders that keep a crash safe', () => {
  test('fresh start: watermark durable, then an unflagged first segment, then the manifest, then the flag', () => {
    const { files, events } = tracingFiles();
    open(files as FaultInjectingFiles).close();
    inOrder(
      events,
      /^open\(w\+\) \.symbol-dict$/, // a stale dictionary truncated before the first frame
      /^msync \.ack-watermark 0\+8192$/,
      new RegExp(`^open\\(wx\\+\\) ${SEG0}$`), // O_EXCL, at its final name
      new RegExp(`^msync ${SEG0} 0\\+24$`),
      /^fsyncDir s$/,
      /^open\(wx\+\) sf-manifest\.bin$/,
      /^fsync sf-manifest\.bin$/,
      /^fsyncDir s$/,
      new RegExp(`^pwrite ${SEG0}@5$`), // the MANIFEST_REQUIRED flag byte
      new RegExp(`^fsync ${SEG0}$`),
    );
    expect(events.some((e) => e.startsWith('rename'))).toBe(false);
  });

  test('a fresh start removes a stale watermark first, so an old high ACK never skips new frames', () => {
    let slot = open();
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.acknowledge(2);
    crash(slot);
    for (const s of segmentsOnDisk(slot.dir)) {
      unlinkSync(join(slot.dir, s.name));
    }
    unlinkSync(join(slot.dir, 'sf-manifest.bin'));
    expect(readAckWatermark(slot.dir)).toMatchObject({ ackedFsn: 2 });
    slot = open();
    expect(slot.report).toMatchObject({ freshStart: true, ackedFsn: -1 });
    expect(readAckWatermark(slot.dir).kind).toBe('invalid'); // a fresh file, no record yet
    slot.close();
  });

  test('rotation: the sealed tail is msynced and the new header synced before the manifest commits it', () => {
    const { files, events } = tracingFiles();
    const slot = open(files as FaultInjectingFiles);
    slot.manager.service(); // the spare: created O_EXCL, header and directory entry durable at once
    inOrder(
      events,
      new RegExp(`^open\\(wx\\+\\) ${SEG1}$`),
      new RegExp(`^msync ${SEG1} 0\\+24$`),
      /^fsyncDir s$/,
    );
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    events.length = 0;
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
    expect(events).toEqual([
      `msync sf-0000000000000001.sfa 0+24`, // re-stamped baseSeq, never renamed
      `msync sf-0000000000000000.sfa 24+${3 * 72}`, // the sealed tail
      'pwrite sf-manifest.bin@0',
      'fsync sf-manifest.bin',
    ]);
    expect(slot.manifest.activeBase).toBe(3);
    slot.close();
  });

  test('trim: watermark synced, directory fsynced, manifest head advanced; unlink and fsync in service', () => {
    const { files, events } = tracingFiles();
    const slot = open(files as FaultInjectingFiles);
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    events.length = 0;
    expect(slot.acknowledge(1)).toBe(0);
    expect(events).toEqual([]); // an ACK that trims nothing makes no syscall
    expect(slot.acknowledge(5)).toBe(2);
    expect(events).toEqual([
      'msync .ack-watermark 0+8192',
      'fsyncDir s',
      'pwrite sf-manifest.bin@0',
      'fsync sf-manifest.bin',
    ]);
    expect(readManifest(slot.dir)).toMatchObject({ bounds: { headBase: 6, activeBase: 6 } });
    events.length = 0;
    slot.manager.service();
    inOrder(events, new RegExp(`^unlink ${SEG0}$`), new RegExp(`^unlink ${SEG1}$`), /^fsyncDir s$/);
    slot.close();
  });

  test('a fully drained close: watermark, collapse, every segment, directory, then the side files', () => {
    const { files, events } = tracingFiles();
    const slot = open(files as FaultInjectingFiles);
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.ring.control.acknowledge(6); // as a worker does: nothing trimmed yet
    events.length = 0;
    slot.close();
    inOrder(
      events,
      /^msync \.ack-watermark 0\+8192$/,
      /^fsyncDir s$/,
      /^pwrite sf-manifest\.bin@\d+$/, // head = active
      /^fsync sf-manifest\.bin$/,
      new RegExp(`^unlink ${SEG0}$`),
      new RegExp(`^unlink ${SEG1}$`),
      /^unlink sf-0000000000000002\.sfa$/,
      /^fsyncDir s$/,
      /^unlink \.ack-watermark$/,
      /^unlink \.symbol-dict$/,
      /^unlink sf-manifest\.bin$/,
      /^fsyncDir s$/,
    );
    expect(readdirSync(slot.dir).sort()).toEqual(['.lock', '.lock.pid']);
  });

  test('a close with unacknowledged frames keeps every file and records the ACK', () => {
    let slot = open();
    for (let i = 0; i < 5; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.ring.control.acknowledge(1);
    slot.close();
    expect(readAckWatermark(slot.dir)).toMatchObject({ ackedFsn: 1 });
    slot = open();
    expect(slot.report).toMatchObject({ ackedFsn: 1, firstFsn: 0, lastFsn: 4 });
    slot.close();
  });

  test('ring.msync: the dictionary first, then every segment with frames not yet on disk, oldest first', () => {
    const { files, events } = tracingFiles();
    const slot = open(files as FaultInjectingFiles);
    slot.ring.tryAppend(payloadFor(0, 64));
    slot.dict.appendSymbols(['x']);
    slot.ring.tryAppend(payloadFor(1, 64));
    events.length = 0;
    slot.ring.msync();
    expect(events).toEqual(['fsync .symbol-dict', `msync sf-0000000000000000.sfa 24+${2 * 72}`]);
    events.length = 0;
    slot.ring.msync(); // nothing new: no syscall
    expect(events).toEqual([]);
    slot.ring.tryAppend(payloadFor(2, 64));
    slot.ring.tryAppend(payloadFor(3, 64)); // rotation syncs the sealed tail itself
    events.length = 0;
    slot.ring.msync();
    expect(events).toEqual([`msync sf-0000000000000001.sfa 24+72`]);
    slot.close();
  });
});

describe('failures at the barriers', () => {
  test('a failed sealed-tail msync at a rotation is a typed error; a retry rotates and loses nothing', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const slot = open(files);
    slot.manager.service();
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    files.inject('msync', { nth: 2, code: 'EIO' }); // the spare's header, then the sealed tail
    expect(() => slot.ring.tryAppend(payloadFor(3, 64))).toThrow(SegmentIoError);
    expect(slot.manifest.activeBase).toBe(0); // nothing committed
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3); // the spare came back
    crash(slot);
    const again = open(new FaultInjectingFiles(defaultFiles));
    expect(replayed(again)).toEqual([0, 1, 2, 3]);
    again.close();
  });

  test('a failed trim barrier trims nothing, is reported, and the next ACK retries it', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const errors: Error[] = [];
    const slot = open(files, { onError: (e) => errors.push(e) });
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    files.inject('fsyncDir', { nth: 1 });
    expect(slot.acknowledge(5)).toBe(0);
    expect((errors[0] as SegmentIoError).errno).toBe('EIO');
    expect(slot.manifest.headBase).toBe(0);
    expect(slot.acknowledge(5)).toBe(2);
    expect(slot.manifest.headBase).toBe(6);
    slot.close();
  });

  test('EIO from fsyncDir at the first segment is a typed error and leaves an openable slot', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    // .slot-locks (mkdir + sf_dir), the logical lock, the slot dir, .lock, .symbol-dict, .ack-watermark, then the segment
    files.inject('fsyncDir', { nth: 7 });
    const err = (() => {
      try {
        open(files);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as SegmentIoError).errno).toBe('EIO');
    expect((err as SegmentIoError).path).toBe(join(sfDir, 's'));
    const slot = open(files);
    expect(slot.ring.nextFsn).toBe(0);
    expect(slot.ring.tryAppend(payloadFor(0, 64))).toBe(0);
    slot.close();
  });

  test('EIO from fsyncDir after trimming is reported; the files are gone and it is retried', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const errors: Error[] = [];
    const slot = open(files, { onError: (e) => errors.push(e) });
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.acknowledge(5);
    files.inject('fsyncDir', { nth: 1 });
    slot.manager.service();
    expect((errors[0] as SegmentIoError).errno).toBe('EIO');
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
  const ops: FaultOp[] = ['open', 'fallocate', 'mmap', 'msync', 'fsync', 'fsyncDir', 'unlink'];
  for (const op of ops) {
    test(`a crash at the force-rotate's ${op} never restarts FSNs`, () => {
      const files = new FaultInjectingFiles(defaultFiles);
      const reopen = () =>
        openSlot({
          sfDir,
          senderId: 's',
          segmentSize: SEG,
          maxTotalBytes: SEG,
          autoService: false,
          files,
        });
      let slot = reopen();
      let last = -1;
      for (let round = 0; round < 3; round++) {
        while (slot.ring.tryAppend(payloadFor(last + 1, 64)) >= 0) last++;
        slot.acknowledge(last); // fully acked: the next append force-rotates
        files.inject(op, { nth: 1 });
        try {
          if (slot.ring.tryAppend(payloadFor(last + 1, 64)) >= 0) last++;
          slot.manager.service();
        } catch {
          // the injected failure: the process "dies" here
        }
        files.clearFaults();
        crash(slot);
        slot = reopen();
        expect(slot.ring.nextFsn).toBe(last + 1);
        slot.acknowledge(slot.ring.nextFsn - 1);
      }
      expect(last).toBeGreaterThanOrEqual(8);
      slot.close();
    });
  }

  test('the replacement is committed before the old segment is unlinked', () => {
    const slot = openSlot({
      sfDir,
      senderId: 's',
      segmentSize: SEG,
      maxTotalBytes: SEG,
      autoService: false,
    });
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.acknowledge(2);
    expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
    // Until service deletes it, the old segment stays beside the new one (one segment over the cap).
    expect(segmentsOnDisk(slot.dir).map((s) => [s.name, s.baseSeq])).toEqual([
      ['sf-0000000000000000.sfa', 0],
      ['sf-0000000000000001.sfa', 3],
    ]);
    expect(slot.manifest).toMatchObject({ headBase: 3, activeBase: 3 });
    slot.manager.service();
    expect(segmentsOnDisk(slot.dir).map((s) => s.name)).toEqual(['sf-0000000000000001.sfa']);
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
  slot.acknowledge(2);
  expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(-1); // nothing on the producer's call
  expect(segmentsOnDisk(slot.dir).map((s) => s.name)).toEqual(['sf-0000000000000000.sfa']);
  slot.manager.service();
  expect(slot.manager.hasSpare).toBe(true);
  expect(slot.ring.tryAppend(payloadFor(3, 64))).toBe(3);
  slot.manager.service();
  expect(segmentsOnDisk(slot.dir).map((s) => [s.name, s.baseSeq])).toEqual([
    ['sf-0000000000000001.sfa', 3],
  ]);
  slot.manager.service(); // no further spare past the cap
  expect(slot.manager.hasSpare).toBe(false);
  slot.close();
});

describe('the dictionary and the holder PID count toward sf_max_total_bytes', () => {
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
    expect(existsSync(join(slot.dir, '.lock.pid'))).toBe(true);
    slot.close();
  });
});
