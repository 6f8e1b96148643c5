import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { implementations, portable } from '../src/index.js';
import { LONG_RUN, randomBytes, referenceCrc32c, testSeed } from './helpers.js';

const MIB = 1 << 20;
const data = randomBytes(4 * MIB + 128, 0xc0ffee);
const seed = testSeed(20261123);

describe('random ranges: every kernel vs portable vs bitwise reference', () => {
  it(
    `agrees on lengths up to 4 MiB at random alignments (seed ${seed})`,
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 127 }),
          fc.oneof(
            fc.integer({ min: 0, max: 4096 }),
            fc.integer({ min: 0, max: 64 * 1024 }),
            fc.integer({ min: 0, max: 4 * MIB }),
          ),
          fc.integer({ min: 0, max: 0xffffffff }),
          (offset, length, initial) => {
            const want = referenceCrc32c(data.subarray(offset, offset + length), initial);
            for (const impl of implementations()) {
              expect(impl.crc32cRange(data, offset, length, initial)).toBe(want);
            }
            expect(portable.crc32c(data.subarray(offset, offset + length), initial)).toBe(want);
          },
        ),
        { seed, numRuns: LONG_RUN ? 400 : 40 },
      );
    },
    LONG_RUN ? 600_000 : 30_000,
  );

  it('agrees around every stream and fold boundary', () => {
    // Lengths that straddle the kernels' block sizes: 8-byte words, 16- and
    // 32-byte lanes, the 64/256-byte (AVX-512) and 32/128-byte (AVX2) fold
    // steps, the 256-byte fold threshold (CRC32C_FOLD_MIN), and the
    // 3 x 128 / 3 x 2048 interleaved rounds.
    const centres = [8, 16, 32, 64, 128, 256, 384, 512, 768, 1024, 3 * 2048, 2 * 3 * 2048, 65536];
    const lengths = new Set<number>();
    for (const c of centres) for (let d = -17; d <= 17; d++) if (c + d >= 0) lengths.add(c + d);
    for (let n = 500; n <= 1100; n++) lengths.add(n);
    for (const length of lengths) {
      for (const offset of [0, 1, 7, 13]) {
        const want = referenceCrc32c(data.subarray(offset, offset + length));
        for (const impl of implementations()) {
          const got = impl.crc32cRange(data, offset, length);
          if (got !== want) {
            expect.fail(`${impl.name}: offset ${offset} length ${length}: ${got} != ${want}`);
          }
        }
      }
    }
  });
});
