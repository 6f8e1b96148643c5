import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  inspectSegmentFile,
  inspectSymbolDict,
  MmapSegment,
  PersistedSymbolDict,
} from '../src/index.js';
import { fixture, removeDir, tempDir } from './helpers.js';

const text = new TextDecoder();
let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => removeDir(dir));

describe('Java client fixtures', () => {
  test('java-two-frame.sfa opens with exactly its two frames', () => {
    const path = join(dir, 'sf-000000000000002a.sfa');
    writeFileSync(path, fixture('java-two-frame.sfa.hex'));
    const scan = inspectSegmentFile(path);
    expect(scan).toMatchObject({
      baseSeq: 42,
      createdMicros: 1234567890123,
      frameCount: 2,
      appendOffset: 50,
      payloadBytes: 10,
      tornTailBytes: 0,
      fileSize: 64,
    });
    const seg = MmapSegment.openExisting(path, { readOnly: true });
    try {
      expect(seg.frameCount).toBe(2);
      const first = seg.bytes.subarray(24 + 8, 24 + 8 + 3);
      const second = seg.bytes.subarray(35 + 8, 35 + 8 + 7);
      expect(text.decode(first)).toBe('one');
      expect(text.decode(second)).toBe('two-two');
    } finally {
      seg.close();
    }
  });

  test('writing the same segment gives the fixture byte for byte', () => {
    const path = join(dir, 'sf-000000000000002a.sfa');
    const seg = MmapSegment.create(path, 42, 64, { createdMicros: 1234567890123 });
    expect(seg.tryAppend(new TextEncoder().encode('one'))).toBe(24);
    expect(seg.tryAppend(new TextEncoder().encode('two-two'))).toBe(35);
    seg.close();
    expect(new Uint8Array(readFileSync(path))).toEqual(fixture('java-two-frame.sfa.hex'));
  });

  test('java-two-chunk.symbol-dict opens with exactly its entries', () => {
    const path = join(dir, '.symbol-dict');
    writeFileSync(path, fixture('java-two-chunk.symbol-dict.hex'));
    const scan = inspectSymbolDict(path);
    expect(scan).toMatchObject({
      entries: ['one', 'two', 'three'],
      chunks: 2,
      validLength: 34,
      tornTailBytes: 0,
    });
    const dict = PersistedSymbolDict.open(dir);
    expect(dict.loadedSymbols).toEqual(['one', 'two', 'three']);
    expect(dict.size).toBe(3);
    dict.close();
    expect(new Uint8Array(readFileSync(path))).toEqual(fixture('java-two-chunk.symbol-dict.hex'));
  });

  test('writing the same chunks gives the dictionary fixture byte for byte', () => {
    const dict = PersistedSymbolDict.openClean(dir);
    dict.appendSymbols(['one']);
    dict.appendSymbols(['two', 'three']);
    dict.close();
    expect(new Uint8Array(readFileSync(join(dir, '.symbol-dict')))).toEqual(
      fixture('java-two-chunk.symbol-dict.hex'),
    );
  });

  test('a fixture copy reopened for appends continues after its frames', () => {
    const path = join(dir, 'sf-000000000000002a.sfa');
    writeFileSync(path, fixture('java-two-frame.sfa.hex'));
    copyFileSync(path, `${path}.orig`);
    const seg = MmapSegment.openExisting(path);
    expect(seg.nextSeq).toBe(44);
    expect(seg.tryAppend(new Uint8Array([1, 2, 3, 4, 5, 6]))).toBe(50);
    seg.close();
    expect(inspectSegmentFile(path).frameCount).toBe(3);
  });
});
