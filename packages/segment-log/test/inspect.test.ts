import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  inspectSegmentFile,
  inspectSlot,
  inspectSymbolDict,
  markSlotFailed,
  openSlot,
  segmentFileName,
} from '../src/index.js';
import { payloadFor, recordingFiles, removeDir, tempDir } from './helpers.js';

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

describe('inspection is read-only', () => {
  test('it opens every file with "r", maps nothing and calls nothing that writes', () => {
    const slot = openSlot({ sfDir, senderId: 's', segmentSize: 256, autoService: false });
    for (let i = 0; i < 7; i++) slot.ring.tryAppend(payloadFor(i, 64));
    slot.dict.appendSymbols(['a', 'b']);
    const dir = slot.dir;
    slot.close();
    markSlotFailed(dir, 'gave up');
    // A torn tail in the newest segment and in the dictionary: recovery would cut both.
    const newest = join(dir, segmentFileName(6));
    const image = readFileSync(newest);
    image[24 + 8 + 3] = image[24 + 8 + 3]! ^ 0xff;
    writeFileSync(newest, image);
    const dictPath = join(dir, '.symbol-dict');
    writeFileSync(dictPath, Buffer.concat([readFileSync(dictPath), Buffer.from([2, 9, 0x41])]));

    const { files, calls } = recordingFiles();
    const report = inspectSlot(dir, files);
    expect(report).toMatchObject({ frames: 6, failed: 'gave up', tornTailBytes: 256 - 24 });
    expect(report.dictionary).toMatchObject({ entries: ['a', 'b'], tornTailBytes: 3 });
    expect(inspectSegmentFile(newest, files).tornTailBytes).toBe(256 - 24);
    expect(inspectSymbolDict(dictPath, files).tornTailBytes).toBe(3);

    const opens = calls.filter((c) => c.op === 'open');
    expect(opens.length).toBeGreaterThan(5);
    for (const c of opens) expect(c.args[1]).toBe('r');
    expect(calls.filter((c) => WRITES.includes(c.op) || c.op === 'mmap')).toEqual([]);
  });
});
