import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { FaultInjectingFiles } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { removeDir, tempDir } from './helpers.js';
import {
  BadArgumentError,
  inspectSymbolDict,
  PersistedSymbolDict,
  SegmentCorruptError,
  SegmentIoError,
  UnsupportedVersionError,
} from './internals.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = tempDir();
  path = join(dir, '.symbol-dict');
});
afterEach(() => removeDir(dir));

function threeChunks(): void {
  const d = PersistedSymbolDict.open(dir);
  d.appendSymbols(['alpha']);
  d.appendSymbols(['béta', 'γάμμα']);
  d.appendSymbols(['x'.repeat(300)]);
  d.close();
}

describe('PersistedSymbolDict', () => {
  test('creates the file when absent and reopens every symbol in id order', () => {
    threeChunks();
    const d = PersistedSymbolDict.open(dir);
    expect(d.loadedSymbols).toEqual(['alpha', 'béta', 'γάμμα', 'x'.repeat(300)]);
    expect(d.size).toBe(4);
    d.appendSymbols(['next']);
    expect(d.size).toBe(5);
    d.close();
    expect(inspectSymbolDict(path).entries.at(-1)).toBe('next');
  });

  test('a torn last chunk is cut at the last good chunk on open', () => {
    threeChunks();
    const full = readFileSync(path);
    const good = inspectSymbolDict(path);
    writeFileSync(path, full.subarray(0, full.length - 3));
    const torn = inspectSymbolDict(path);
    expect(torn.entries).toEqual(['alpha', 'béta', 'γάμμα']);
    expect(torn.tornTailBytes).toBeGreaterThan(0);
    const d = PersistedSymbolDict.open(dir);
    expect(d.tornTailBytes).toBe(torn.tornTailBytes);
    expect(statSync(path).size).toBe(torn.validLength);
    d.appendSymbols(['x'.repeat(300)]);
    d.close();
    expect(readFileSync(path)).toEqual(full);
    expect(good.validLength).toBe(full.length);
  });

  test('a CRC mismatch in a middle chunk ends the trusted prefix', () => {
    threeChunks();
    const image = readFileSync(path);
    image[8 + 3] = image[8 + 3]! ^ 0x01; // inside the first chunk's entry
    writeFileSync(path, image);
    const scan = inspectSymbolDict(path);
    expect(scan.entries).toEqual([]);
    expect(scan.validLength).toBe(8);
  });

  test('a bad magic or version throws and the file is left untouched', () => {
    threeChunks();
    const image = readFileSync(path);
    image[0] = 0x58;
    writeFileSync(path, image);
    expect(() => PersistedSymbolDict.open(dir)).toThrow(SegmentCorruptError);
    expect(readFileSync(path)).toEqual(image);
    image[0] = 0x53;
    image[4] = 3;
    writeFileSync(path, image);
    expect(() => PersistedSymbolDict.open(dir)).toThrow(UnsupportedVersionError);
    expect(readFileSync(path)).toEqual(image);
  });

  test('openClean discards previous content', () => {
    threeChunks();
    const d = PersistedSymbolDict.openClean(dir);
    expect(d.size).toBe(0);
    d.close();
    expect(statSync(path).size).toBe(8);
  });

  test('a short write is completed, so the chunk lands whole', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const d = PersistedSymbolDict.open(dir, { files });
    files.shortWrite({ next: 1 });
    d.appendSymbols(['one', 'two']);
    d.close();
    expect(inspectSymbolDict(path).entries).toEqual(['one', 'two']);
  });

  test('a failed write does not advance, and the retry rewrites the same chunk', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const d = PersistedSymbolDict.open(dir, { files });
    files.inject('pwrite', { next: 1, code: 'EIO' });
    expect(() => d.appendSymbols(['one'])).toThrow(SegmentIoError);
    expect(d.size).toBe(0);
    expect(d.length).toBe(8);
    d.appendSymbols(['one']);
    d.close();
    expect(inspectSymbolDict(path)).toMatchObject({ entries: ['one'], tornTailBytes: 0 });
  });

  test('EIO on fsync is a typed error naming the file', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const d = PersistedSymbolDict.open(dir, { files });
    files.eioOnFsync({ next: 1 });
    expect(() => d.fsync()).toThrow(path);
    d.close();
  });

  test('a truncate failure on open is fatal and keeps the file whole', () => {
    threeChunks();
    const full = readFileSync(path);
    writeFileSync(path, full.subarray(0, full.length - 2));
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('ftruncate', { next: 1, code: 'EIO' });
    expect(() => PersistedSymbolDict.open(dir, { files })).toThrow(/truncate/);
    expect(statSync(path).size).toBe(full.length - 2);
  });

  test('raw wire entries append as one chunk and are validated first', () => {
    const d = PersistedSymbolDict.open(dir);
    d.appendRawEntries(new Uint8Array([3, 0x6f, 0x6e, 0x65, 1, 0x7a]), 2);
    expect(() => d.appendRawEntries(new Uint8Array([3, 0x6f]), 1)).toThrow(BadArgumentError);
    expect(() => d.appendRawEntries(new Uint8Array([1, 0x61, 1, 0x62]), 1)).toThrow(
      BadArgumentError,
    );
    d.close();
    expect(inspectSymbolDict(path).entries).toEqual(['one', 'z']);
  });
});
