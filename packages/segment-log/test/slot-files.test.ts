import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { recordingFiles, removeDir, tempDir } from './helpers.js';
import {
  ACK_WATERMARK_MAGIC,
  AckWatermark,
  BadArgumentError,
  DUAL_RECORD_FILE_SIZE,
  decodeRecord,
  encodeRecord,
  MANIFEST_MAGIC,
  readAckWatermark,
  readManifest,
  SfManifest,
  selectRecord,
} from './internals.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => removeDir(dir));

function image(
  records: [at: number, generation: number, first: number, second: number][],
  magic: number,
) {
  const img = new Uint8Array(DUAL_RECORD_FILE_SIZE);
  const view = new DataView(img.buffer);
  for (const [at, g, a, b] of records) encodeRecord(img, view, at, magic, g, a, b);
  return img;
}

describe('dual records (sf-manifest.bin and .ack-watermark)', () => {
  test('the higher valid generation wins; a tie goes to the record at 4096 (as Java and Rust do)', () => {
    const any = () => true;
    expect(
      selectRecord(
        image(
          [
            [0, 3, 1, 2],
            [4096, 2, 5, 6],
          ],
          MANIFEST_MAGIC,
        ),
        MANIFEST_MAGIC,
        any,
      ),
    ).toEqual({
      generation: 3,
      first: 1,
      second: 2,
    });
    expect(
      selectRecord(
        image(
          [
            [0, 7, 10, 20],
            [4096, 7, 30, 40],
          ],
          MANIFEST_MAGIC,
        ),
        MANIFEST_MAGIC,
        any,
      ),
    ).toEqual({
      generation: 7,
      first: 30,
      second: 40,
    });
  });

  test('a record with a flipped bit, the other magic, a zero generation or an invalid payload is skipped', () => {
    const img = image(
      [
        [0, 5, 1, 2],
        [4096, 4, 3, 4],
      ],
      MANIFEST_MAGIC,
    );
    img[20]! ^= 0x01; // inside the newer record: its CRC fails
    expect(selectRecord(img, MANIFEST_MAGIC, () => true)?.generation).toBe(4);
    expect(selectRecord(img, ACK_WATERMARK_MAGIC, () => true)).toBeUndefined();
    expect(decodeRecord(image([[0, 0, 1, 2]], MANIFEST_MAGIC), 0, MANIFEST_MAGIC)).toBeUndefined();
    const invalid = image(
      [
        [0, 9, 5, 1],
        [4096, 8, 1, 5],
      ],
      MANIFEST_MAGIC,
    );
    expect(selectRecord(invalid, MANIFEST_MAGIC, (r) => r.second >= r.first)?.generation).toBe(8);
  });
});

describe('sf-manifest.bin', () => {
  test('create writes generation 1 at 4096 and fsyncs it and the directory; updates alternate and only move forward', () => {
    const { files, calls } = recordingFiles();
    const m = SfManifest.create(dir, 10, 20, files);
    expect(calls.map((c) => c.op)).toEqual(['open', 'fallocate', 'pwrite', 'fsync', 'fsyncDir']);
    expect(calls[2]!.args[4]).toBe(4096);
    m.update(5, 15); // both behind: clamped, nothing written
    expect(m.generation).toBe(1);
    m.update(12, 18);
    expect([m.generation, m.headBase, m.activeBase]).toEqual([2, 12, 20]);
    m.update(12, 25);
    m.close();
    const bytes = new Uint8Array(readFileSync(join(dir, 'sf-manifest.bin')));
    expect(decodeRecord(bytes, 0, MANIFEST_MAGIC)).toEqual({
      generation: 2,
      first: 12,
      second: 20,
    });
    expect(decodeRecord(bytes, 4096, MANIFEST_MAGIC)).toEqual({
      generation: 3,
      first: 12,
      second: 25,
    });
    expect(readManifest(dir)).toMatchObject({
      kind: 'valid',
      bounds: { generation: 3, headBase: 12, activeBase: 25 },
    });
    expect(() => SfManifest.create(dir, 0, 0)).toThrow(/cannot create manifest/); // exclusive
    expect(() => SfManifest.create(join(dir, 'x'), 5, 4)).toThrow(BadArgumentError);
  });

  test('rewindActive moves the active bound back (only recovery cutting an aborted tail does this)', () => {
    const m = SfManifest.create(dir, 10, 30);
    m.rewindActive(20);
    m.close();
    expect(readManifest(dir)).toMatchObject({
      bounds: { generation: 2, headBase: 10, activeBase: 20 },
    });
  });

  test('a torn update falls back to the previous record', () => {
    const m = SfManifest.create(dir, 10, 20);
    m.update(12, 25); // generation 2, at offset 0
    m.close();
    const path = join(dir, 'sf-manifest.bin');
    const bytes = readFileSync(path);
    bytes.fill(0xa5, 0, 512);
    writeFileSync(path, bytes);
    expect(readManifest(dir)).toMatchObject({
      kind: 'valid',
      bounds: { headBase: 10, activeBase: 20 },
    });
  });

  test.each([
    [
      'wrong-sized',
      (p: string) => writeFileSync(p, new Uint8Array(17).fill(0xa5)),
      /17 bytes, not 8192/,
    ],
    [
      'zeroed',
      (p: string) => writeFileSync(p, new Uint8Array(8192)),
      /no valid CRC-checked record/,
    ],
    ['truncated', (p: string) => truncateSync(p, 4096), /4096 bytes/],
    [
      'bit-flipped in its only record',
      (p: string) => {
        const b = readFileSync(p);
        b[4096 + 17]! ^= 0x10;
        writeFileSync(p, b);
      },
      /no valid CRC-checked record/,
    ],
  ] as const)(
    'a %s manifest reads as invalid, naming why; quarantine moves it aside',
    (_what, damage, reason) => {
      SfManifest.create(dir, 10, 20).close();
      const path = join(dir, 'sf-manifest.bin');
      damage(path);
      const state = readManifest(dir);
      expect(state.kind).toBe('invalid');
      expect((state as { reason: string }).reason).toMatch(reason);
      expect(SfManifest.quarantine(dir)).toBe(`${path}.corrupt`);
      expect(readManifest(dir).kind).toBe('absent');
    },
  );
});

describe('.ack-watermark', () => {
  test('write stores into the mapping with no syscall; sync is one msync', () => {
    const { files, calls } = recordingFiles();
    const wm = AckWatermark.open(dir, files);
    calls.length = 0;
    for (let i = 0; i < 100; i++) wm.write(i);
    expect(calls).toEqual([]);
    wm.sync();
    expect(calls.map((c) => c.op)).toEqual(['msync']);
    wm.close();
    expect(readAckWatermark(dir)).toMatchObject({ kind: 'valid', generation: 100, ackedFsn: 99 });
  });

  test('-1 (nothing acknowledged) round-trips', () => {
    const wm = AckWatermark.open(dir);
    wm.write(-1);
    wm.close();
    expect(readAckWatermark(dir)).toMatchObject({ kind: 'valid', ackedFsn: -1 });
    expect(AckWatermark.open(dir).ackedFsn).toBe(-1);
  });

  test('a torn update falls back to the older record: one conservative re-replay', () => {
    const wm = AckWatermark.open(dir);
    wm.write(255);
    wm.write(256); // generation 2, at offset 0
    wm.close();
    const path = join(dir, '.ack-watermark');
    const b = readFileSync(path);
    b.fill(0xa5, 0, 512);
    writeFileSync(path, b);
    expect(readAckWatermark(dir)).toMatchObject({ kind: 'valid', ackedFsn: 255 });
  });

  test.each([
    ['the legacy 16-byte', new Uint8Array(16)],
    ['a zeroed', new Uint8Array(8192)],
    ['a wrong-sized', new Uint8Array(9000).fill(7)],
  ])('%s watermark is reset on open (never trusted), and says so', (_what, content) => {
    const path = join(dir, '.ack-watermark');
    writeFileSync(path, content);
    const found = readAckWatermark(dir);
    expect(found.kind).toBe('invalid');
    const wm = AckWatermark.open(dir);
    expect(wm.ackedFsn).toBeUndefined();
    expect(wm.found.kind).toBe('invalid');
    wm.close();
    expect(readFileSync(path).length).toBe(8192);
  });
});
