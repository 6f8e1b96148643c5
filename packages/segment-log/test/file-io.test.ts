import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { FaultInjectingFiles } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { removeDir, tempDir, thrown } from './helpers.js';
import {
  inspectSegmentFile,
  MmapSegment,
  SegmentCorruptError,
  SegmentIoError,
} from './internals.js';

describe('closing a file after use', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => removeDir(dir));

  test('a failing close does not hide the primary error; it is attached as the cause', () => {
    const path = join(dir, 'bad.sfa');
    writeFileSync(path, new Uint8Array(64).fill(0xee));
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('close', { next: 1, code: 'EIO' });
    const err = thrown(() => inspectSegmentFile(path, files)) as SegmentCorruptError;
    expect(err).toBeInstanceOf(SegmentCorruptError);
    expect(err.message).toContain('bad segment magic');
    expect((err.cause as { code?: string }).code).toBe('EIO');
  });

  test('a failing close after success is a SegmentIoError naming the file', () => {
    const path = join(dir, 'good.sfa');
    MmapSegment.create(path, 5, 4096).close();
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('close', { next: 1, code: 'EIO' });
    const err = thrown(() => inspectSegmentFile(path, files)) as SegmentIoError;
    expect(err).toBeInstanceOf(SegmentIoError);
    expect(err.errno).toBe('EIO');
    expect(err.message).toContain(`cannot close ${path}`);
    expect(inspectSegmentFile(path, files).baseSeq).toBe(5);
  });

  test('a segment whose close fails after mapping is not closed twice and is unmapped', () => {
    const path = join(dir, 'm.sfa');
    MmapSegment.create(path, 0, 4096).close();
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('close', { next: 1, code: 'EIO' });
    const err = thrown(() => MmapSegment.openExisting(path, { files })) as SegmentIoError;
    expect(err).toBeInstanceOf(SegmentIoError);
    expect(err.message).toContain(`cannot close ${path}`);
    expect(files.calls.close).toBe(1);
    expect(files.calls.munmap).toBe(1);
  });
});
