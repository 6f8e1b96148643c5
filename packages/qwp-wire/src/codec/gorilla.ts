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

const TWO32 = 4294967296;
/** Scratch: one int64 seen as halves (written) and as a bigint (read). */
const scratch = new ArrayBuffer(8);
const scratchWords = new Int32Array(scratch);
const scratchBig = new BigInt64Array(scratch);

/**
 * Decodes `count` timestamps (count >= 1) of a Gorilla-encoded column starting
 * at `reader.pos` into `out`, advancing the reader past the padded stream.
 * Arithmetic wraps at 64 bits as the server's does; it runs on int32 halves
 * so each value costs one bigint (the output) and no BigInt arithmetic.
 */
export function decodeGorilla(reader: ByteReader, count: number, out: bigint[]): void {
  if (count === 0) return;
  reader.need(count === 1 ? 8 : 16, 'Gorilla first timestamps');
  const base = reader.pos;
  out.push(reader.i64('Gorilla first timestamp'));
  if (count === 1) return;
  out.push(reader.i64('Gorilla second timestamp'));
  let pLo = reader.u32At(base + 8);
  let pHi = reader.i32At(base + 12);
  // delta = t1 - t0 on halves
  let lo = pLo - reader.u32At(base);
  let dHi = (pHi - reader.i32At(base + 4) - (lo < 0 ? 1 : 0)) | 0;
  let dLo = lo < 0 ? lo + TWO32 : lo;
  if (count === 2) return;
  const start = reader.pos;
  const bits = new BitReader(reader, start, reader.remaining * 8);
  for (let i = 2; i < count; i++) {
    // Count the prefix's leading ones (at most 4): that picks the bucket.
    let ones = 0;
    while (ones < 4 && bits.bit() === 1) ones++;
    const dod = ones === 0 ? 0 : bits.signed(BUCKET_BITS[ones]!);
    // delta += dod (dod sign-extended to 64 bits)
    lo = dLo + (dod >>> 0);
    let carry = lo >= TWO32 ? 1 : 0;
    dLo = carry === 1 ? lo - TWO32 : lo;
    dHi = (dHi + (dod < 0 ? -1 : 0) + carry) | 0;
    // t += delta
    lo = pLo + dLo;
    carry = lo >= TWO32 ? 1 : 0;
    pLo = carry === 1 ? lo - TWO32 : lo;
    pHi = (pHi + dHi + carry) | 0;
    scratchWords[0] = pLo | 0;
    scratchWords[1] = pHi;
    out.push(scratchBig[0]!);
  }
  reader.pos = start + bits.bytesUsed;
}
