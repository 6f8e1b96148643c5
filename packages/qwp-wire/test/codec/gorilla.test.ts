import { describe, expect, it } from 'vitest';
import { decodeMessage, QwpBatch, QwpEncoder, SymbolDictionary } from '../../src/index.js';
import { LONG, mulberry32, SEED } from '../seed.js';

/** Timestamps whose delta-of-deltas are `dods` after a first delta of 1000. */
function series(dods: bigint[], start = 1_700_000_000_000_000n): bigint[] {
  const out = [start, start + 1000n];
  let delta = 1000n;
  for (const d of dods) {
    delta += d;
    out.push(out[out.length - 1]! + delta);
  }
  return out;
}

function roundTrip(ts: bigint[]): {
  values: unknown[];
  encoding: number | undefined;
  size: number;
} {
  const batch = new QwpBatch();
  const t = batch.table('g');
  for (const v of ts) t.at(v, 'ns');
  const [frame] = new QwpEncoder(batch.symbols).encode(batch.tables());
  const col = decodeMessage(frame!, new SymbolDictionary()).tables[0]!.columns[0]!;
  return { values: col.values, encoding: col.encoding, size: frame!.length };
}

const I32_MIN = -(2n ** 31n);
const I32_MAX = 2n ** 31n - 1n;

describe('Gorilla timestamps', () => {
  const edges: [bigint, number][] = [
    [0n, 1],
    [1n, 9],
    [-1n, 9],
    [63n, 9],
    [-64n, 9],
    [64n, 12],
    [-65n, 12],
    [255n, 12],
    [-256n, 12],
    [256n, 16],
    [-257n, 16],
    [2047n, 16],
    [-2048n, 16],
    [2048n, 36],
    [-2049n, 36],
    [I32_MAX, 36],
    [I32_MIN, 36],
  ];

  for (const [dod, bits] of edges) {
    it(`dod ${dod} uses the ${bits}-bit bucket and round-trips`, () => {
      const ts = series([dod, 0n]);
      const { values, encoding, size } = roundTrip(ts);
      expect(encoding).toBe(1);
      expect(values).toEqual(ts);
      // Header 12 + delta 2 + block (1+1 "g", rows, cols, def 2) + null flag + encoding + 16.
      const fixed = 12 + 2 + 2 + 1 + 1 + 2 + 1 + 1 + 16;
      expect(size).toBe(fixed + Math.ceil((bits + 1) / 8));
    });
  }

  for (const dod of [I32_MAX + 1n, I32_MIN - 1n, 2n ** 60n]) {
    it(`dod ${dod} outside int32 falls back to uncompressed`, () => {
      const ts = series([0n, dod, 0n], 0n);
      const { values, encoding } = roundTrip(ts);
      expect(encoding).toBe(0);
      expect(values).toEqual(ts);
    });
  }

  it('wraps across the int64 range like the server (negative and huge values)', () => {
    const ts = [-(2n ** 63n), -(2n ** 63n) + 5n, -(2n ** 63n) + 7n, 2n ** 63n - 1n];
    expect(roundTrip(ts).values).toEqual(ts);
  });

  it('a cadence of 2^55 with small delta-of-deltas still compresses (deltas past 2^52)', () => {
    const ts = series([0n, 3n, -3n, 0n], 0n).map((v, i) => v + BigInt(i) * 2n ** 55n);
    const { values, encoding } = roundTrip(ts);
    expect(encoding).toBe(1);
    expect(values).toEqual(ts);
  });

  it('seeded series: jitter, int32-edge dods and huge jumps anywhere round-trip', () => {
    const rnd = mulberry32(SEED);
    for (let run = 0; run < (LONG ? 2000 : 200); run++) {
      const ts: bigint[] = [BigInt(Math.floor(rnd() * 2 ** 53)) * (rnd() < 0.5 ? -1n : 1n)];
      let delta = BigInt(Math.floor(rnd() * 1e6));
      const n = 3 + Math.floor(rnd() * 60);
      for (let i = 1; i < n; i++) {
        const pick = rnd();
        if (pick < 0.05) delta = BigInt(Math.floor(rnd() * 2 ** 60)) * (rnd() < 0.5 ? -1n : 1n);
        else if (pick < 0.1) delta += rnd() < 0.5 ? I32_MAX : I32_MIN;
        else if (pick < 0.15) delta += rnd() < 0.5 ? I32_MAX + 1n : I32_MIN - 1n;
        else delta += BigInt(Math.floor(rnd() * 4096) - 2048);
        ts.push(BigInt.asIntN(64, ts[i - 1]! + delta));
      }
      expect(roundTrip(ts).values).toEqual(ts);
    }
  });

  it('1 and 2 values: plain and Gorilla-without-stream', () => {
    expect(roundTrip([5n]).encoding).toBe(0);
    expect(roundTrip([5n, 9n]).encoding).toBe(1);
    expect(roundTrip([5n, 9n]).values).toEqual([5n, 9n]);
  });

  it('writes the bit stream LSB-first with the spec prefixes (hand-computed golden bytes)', () => {
    // Fixed part before the stream, as in the bucket tests above.
    const fixed = 12 + 2 + 2 + 1 + 1 + 2 + 1 + 1 + 16;
    const stream = (ts: bigint[]) => {
      const batch = new QwpBatch();
      const t = batch.table('g');
      for (const v of ts) t.at(v, 'ns');
      const [frame] = new QwpEncoder(batch.symbols).encode(batch.tables());
      return [...frame!.subarray(fixed)];
    };
    // dods 0, 1, -64: '0' | '10' 0000001 | '10' 1000000, bits LSB-first from bit 0.
    expect(stream([0n, 10n, 20n, 31n, -22n])).toEqual([0x0a, 0x04, 0x04]);
    // dod 2048: '1111' then the 32-bit value (bit 11 set), 36 bits padded to 5 bytes.
    expect(stream([0n, 10n, 2068n])).toEqual([0x0f, 0x80, 0x00, 0x00, 0x00]);
    // dod -1: '10' then 7 ones.
    expect(stream([0n, 10n, 19n])).toEqual([0xfd, 0x01]);
  });

  it('a steady cadence costs one bit per value', () => {
    const ts = series(new Array(800).fill(0n));
    const { values, size } = roundTrip(ts);
    expect(values).toEqual(ts);
    // Header, delta, name, 2-byte row count, column count, def, null flag, encoding, 2 values.
    expect(size).toBe(12 + 2 + 2 + 2 + 1 + 2 + 1 + 1 + 16 + 100);
  });
});
