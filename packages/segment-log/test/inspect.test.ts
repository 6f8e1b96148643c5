import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { payloadFor, recordingFiles, removeDir, segmentsOnDisk, tempDir } from './helpers.js';
import {
  inspectSegmentFile,
  inspectSlot,
  inspectSymbolDict,
  markSlotFailed,
  openSlot,
  segmentFileName,
} from './internals.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

/** Facade methods that change a file or a directory; an inspection must call none of them. */
const WRITES = [
  'pwrite',
  'ftruncate',
  'fsync',
  'fallocate',
  'rename',
  'unlink',
  'mkdir',
  'fsyncDir',
];

describe('inspectSlot', () => {
  test('reports the manifest, watermark, holder PID, generations, roles and unknown files, read-only', () => {
    const slot = openSlot({ sfDir, senderId: 's', segmentSize: 256, autoService: false });
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.dict.appendSymbols(['a', 'b']);
    slot.acknowledge(4); // trims FSNs 0..2: head 3
    slot.manager.service(); // unlinks, and leaves a spare
    const dir = slot.dir;
    slot.lock.close(); // a crash: everything stays
    markSlotFailed(dir, 'gave up');
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    writeFileSync(join(dir, 'sf-00000000000000ff.sfa.corrupt'), 'old');
    // A torn tail in the newest segment and in the dictionary: recovery would cut both.
    const newest = join(
      dir,
      segmentsOnDisk(dir).find((s) => s.baseSeq === 6 && s.frames > 0)!.name,
    );
    const image = readFileSync(newest);
    image[24 + 8 + 3] = image[24 + 8 + 3]! ^ 0xff;
    writeFileSync(newest, image);
    const dictPath = join(dir, '.symbol-dict');
    writeFileSync(dictPath, Buffer.concat([readFileSync(dictPath), Buffer.from([2, 9, 0x41])]));

    const { files, calls } = recordingFiles();
    const report = inspectSlot(dir, files);
    expect(report).toMatchObject({
      frames: 3, // FSNs 3..5; 6 is cut
      firstFsn: 3,
      lastFsn: 5,
      failed: 'gave up',
      problem: null,
      manifest: { generation: expect.any(Number), headBase: 3, activeBase: 6 },
      watermark: { ackedFsn: 4 },
      lock: { held: false, pid: process.pid },
      quarantined: [join(dir, 'sf-00000000000000ff.sfa.corrupt')],
      unrecognized: [join(dir, 'notes.txt')],
    });
    expect(report.dictionary).toMatchObject({ entries: ['a', 'b'], tornTailBytes: 3 });
    expect(
      report.segments.map((s) => [s.generation, s.role, s.error === undefined ? s.baseSeq : -1]),
    ).toEqual([
      [1, 'chain', 3],
      [2, 'chain', 6], // the active segment, its only frame torn
      [3, 'empty', 7], // the spare, at its provisional baseSeq (the next FSN)
    ]);
    expect(inspectSegmentFile(newest, files).tornTailBytes).toBe(256 - 24);
    expect(inspectSymbolDict(dictPath, files).tornTailBytes).toBe(3);

    const opens = calls.filter((c) => c.op === 'open');
    expect(opens.length).toBeGreaterThan(5);
    for (const c of opens) expect(c.args[1]).toBe('r');
    expect(calls.filter((c) => WRITES.includes(c.op) || c.op === 'mmap')).toEqual([]);
  });

  test('says why recovery would refuse the slot, per file where it can', () => {
    const slot = openSlot({ sfDir, senderId: 's', segmentSize: 256, autoService: false });
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    const dir = slot.dir;
    slot.lock.close();
    writeFileSync(join(dir, 'sf-manifest.bin'), new Uint8Array(8192));
    writeFileSync(join(dir, '.ack-watermark'), new Uint8Array(16));
    const report = inspectSlot(dir);
    expect(report.problem).toMatch(/requires sf-manifest.bin but it is unusable/);
    expect(report.manifest).toMatchObject({
      error: expect.stringMatching(/no valid CRC-checked record/),
    });
    expect(report.watermark).toMatchObject({ error: expect.stringMatching(/16 bytes, not 8192/) });
    expect(report.segments.every((s) => s.role === null)).toBe(true);
    expect(segmentFileName(0)).toBe('sf-0000000000000000.sfa');
  });
});
