import { describe, expect, it } from 'vitest';
import { implementations } from '../src/index.js';

// Bytes of shared/fixtures/java-sf/, written by the reference Java client
// (java.util.zip.CRC32C). Embedded so the test does not depend on a path
// outside the repository.
const SEGMENT = Buffer.from(
  '53463031010000002a00000000000000cb04fb711f010000' +
    'a60ecb49030000006f6e653af600070700000074776f2d74' +
    '776f0000000000000000000000000000',
  'hex',
);
const SYMBOL_DICT = Buffer.from(
  '53594431010000000104036f6e6589318d70020a0374776f057468726565a2444d7f',
  'hex',
);

describe('CRCs the Java client wrote', () => {
  for (const impl of implementations()) {
    it(`${impl.name}: segment frames (crc over payloadLen ‖ payload)`, () => {
      const frames: [number, number][] = [];
      for (let at = 24; at + 8 <= SEGMENT.length; ) {
        const len = SEGMENT.readUInt32LE(at + 4);
        if (len === 0) break;
        frames.push([SEGMENT.readUInt32LE(at), impl.crc32cRange(SEGMENT, at + 4, 4 + len)]);
        at += 8 + len;
      }
      expect(frames).toHaveLength(2);
      for (const [stored, computed] of frames) expect(computed).toBe(stored);
    });

    it(`${impl.name}: symbol-dict chunks (crc over both varints and the entries)`, () => {
      expect(impl.crc32cRange(SYMBOL_DICT, 8, 6)).toBe(SYMBOL_DICT.readUInt32LE(14));
      expect(impl.crc32cRange(SYMBOL_DICT, 18, SYMBOL_DICT.length - 22)).toBe(
        SYMBOL_DICT.readUInt32LE(SYMBOL_DICT.length - 4),
      );
    });
  }
});
