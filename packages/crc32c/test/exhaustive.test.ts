import { describe, expect, it } from 'vitest';
import { implementations } from '../src/index.js';
import { randomBytes } from './helpers.js';

const MAX = 300;
const data = randomBytes(2 * MAX + 64, 0x5eed);

/** reference[offset][length] for every offset/length in 0..MAX, bitwise. */
function referenceTable(): Uint32Array[] {
  const rows: Uint32Array[] = [];
  for (let offset = 0; offset <= MAX; offset++) {
    const row = new Uint32Array(MAX + 1);
    let c = 0xffffffff;
    row[0] = 0;
    for (let length = 1; length <= MAX; length++) {
      c ^= data[offset + length - 1]!;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      row[length] = ~c >>> 0;
    }
    rows.push(row);
  }
  return rows;
}

describe('every offset and length in 0..300', () => {
  const reference = referenceTable();
  for (const impl of implementations()) {
    it(`${impl.name} matches the bitwise reference`, () => {
      let mismatches = 0;
      let first = '';
      for (let offset = 0; offset <= MAX; offset++) {
        const row = reference[offset]!;
        for (let length = 0; length <= MAX; length++) {
          const got = impl.crc32cRange(data, offset, length);
          if (got !== row[length]) {
            if (mismatches++ === 0) first = `offset ${offset} length ${length}`;
          }
          // The plain form over a subarray must agree too (different arguments path).
          if (
            length === MAX - offset &&
            impl.crc32c(data.subarray(offset, offset + length)) !== row[length]
          ) {
            if (mismatches++ === 0) first = `crc32c subarray offset ${offset}`;
          }
        }
      }
      expect(first).toBe('');
      expect(mismatches).toBe(0);
    });
  }
});
