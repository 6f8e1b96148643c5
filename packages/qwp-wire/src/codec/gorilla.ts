import type { ByteReader } from './byte-reader.js';

/**
 * Gorilla delta-of-delta timestamps as QWP writes them: the first two values
 * in full, then per value a prefix chosen by the size of
 * dod = (t[i] - t[i-1]) - (t[i-1] - t[i-2]), bits LSB-first:
 *   '0' dod = 0 | '10'+7 bits | '110'+9 bits | '1110'+12 bits | '1111'+32 bits,
 * values signed two's complement, the stream padded to a whole byte.
 */

/** Value bits after a prefix of 1, 2, 3 or 4 ones. */
const BUCKET_BITS = [0, 7, 9, 12, 32];

/** Reads one bit at a time, LSB-first, failing cleanly at the end of the region. */
class BitReader {
  private bitPos = 0;
  constructor(
    private readonly reader: ByteReader,
    private readonly start: number,
    private readonly bitLimit: number,
  ) {}

  bit(): number {
    if (this.bitPos >= this.bitLimit) {
      this.reader.fail('Gorilla bit stream runs past the end of the column', this.start);
    }
    const b = this.reader.bytes[this.start + (this.bitPos >>> 3)]!;
    const v = (b >>> (this.bitPos & 7)) & 1;
    this.bitPos++;
    return v;
  }

  signed(n: number): number {
    let v = 0;
    let weight = 1;
    for (let i = 0; i < n; i++) {
      if (this.bit() === 1) v += weight;
      weight *= 2;
    }
    // Two's complement: the top bit has weight -2^(n-1).
    return v >= weight / 2 ? v - weight : v;
  }

  /** Whole bytes consumed so far (the stream is padded to a byte). */
  get bytesUsed(): number {
    return (this.bitPos + 7) >>> 3;
  }
}

/**
 * Decodes `count` timestamps (count >= 1) of a Gorilla-encoded column starting
 * at `reader.pos` into `out[0..count)`, advancing the reader past the padded
 * stream. Arithmetic wraps at 64 bits as the server's does.
 */
export function decodeGorilla(reader: ByteReader, count: number, out: bigint[]): void {
  if (count === 0) return;
  let prev = reader.i64('Gorilla first timestamp');
  out.push(prev);
  if (count === 1) return;
  let cur = reader.i64('Gorilla second timestamp');
  out.push(cur);
  let delta = BigInt.asIntN(64, cur - prev);
  prev = cur;
  if (count === 2) return;
  const start = reader.pos;
  const bits = new BitReader(reader, start, reader.remaining * 8);
  for (let i = 2; i < count; i++) {
    // Count the prefix's leading ones (at most 4): that picks the bucket.
    let ones = 0;
    while (ones < 4 && bits.bit() === 1) ones++;
    const dod = ones === 0 ? 0 : bits.signed(BUCKET_BITS[ones]!);
    delta = BigInt.asIntN(64, delta + BigInt(dod));
    cur = BigInt.asIntN(64, prev + delta);
    out.push(cur);
    prev = cur;
  }
  reader.pos = start + bits.bytesUsed;
}
