import type { ByteWriter } from './byte-writer.js';

/**
 * Gorilla encoding of int64 timestamps held as little-endian (lo, hi) int32
 * pairs, without BigInt: deltas and delta-of-deltas are computed on the
 * halves. See gorilla.ts for the format.
 */

const TWO32 = 4294967296;

/** Deltas below 2^52 in magnitude (high words within 2^20) are exact as doubles. */
const HI_LIMIT = 1 << 20;

/**
 * Writes values `[from, to)` (at least 2) Gorilla-encoded: the first two in
 * full, then the bit stream padded to a byte. Returns false, with the writer
 * rewound to where it started, if a delta-of-delta does not fit int32 (the
 * spec's condition for falling back to uncompressed).
 */
export function writeGorilla(w: ByteWriter, words: Int32Array, from: number, to: number): boolean {
  const start = w.pos;
  w.i64Parts(words[2 * from + 1]!, words[2 * from]!);
  w.i64Parts(words[2 * from + 3]!, words[2 * from + 2]!);
  if (to - from < 3) return true;
  w.ensure(Math.ceil(((to - from - 2) * 36) / 8) + 8);
  const buf = w.buf;
  let pos = w.pos;
  // Pending bits (fewer than 8 between values), LSB-first.
  let acc = 0;
  let accBits = 0;
  // The previous value's halves and delta. A delta is computed in doubles,
  // exact while the high words differ by less than 2^20 (every real
  // cadence); a larger one goes to the exact path below.
  let pLo = words[2 * from + 2]! >>> 0;
  let pHi = words[2 * from + 3]!;
  let hd = pHi - words[2 * from + 1]!;
  if (hd <= -HI_LIMIT || hd >= HI_LIMIT) return writeGorillaExact(w, words, from, to, start);
  let pd = hd * TWO32 + (pLo - (words[2 * from]! >>> 0));
  for (let i = from + 2; i < to; i++) {
    const lo = words[2 * i]! >>> 0;
    const hi = words[2 * i + 1]!;
    hd = hi - pHi;
    if (hd <= -HI_LIMIT || hd >= HI_LIMIT) return writeGorillaExact(w, words, from, to, start);
    const d = hd * TWO32 + (lo - pLo);
    // Exact when it fits int32; a larger one (rounded or not) is refused.
    const dod = d - pd;
    pd = d;
    pLo = lo;
    pHi = hi;
    if (dod === 0) {
      accBits += 1;
    } else if (dod >= -64 && dod <= 63) {
      acc |= (0b01 | ((dod & 0x7f) << 2)) << accBits;
      accBits += 9;
    } else if (dod >= -256 && dod <= 255) {
      acc |= (0b011 | ((dod & 0x1ff) << 3)) << accBits;
      accBits += 12;
    } else if (dod >= -2048 && dod <= 2047) {
      acc |= (0b0111 | ((dod & 0xfff) << 4)) << accBits;
      accBits += 16;
    } else if (dod >= -2147483648 && dod <= 2147483647) {
      // 4-bit prefix, then the 32-bit value in two 16-bit halves (keeps acc in 32 bits).
      acc |= (0b1111 | ((dod & 0xffff) << 4)) << accBits;
      accBits += 20;
      while (accBits >= 8) {
        buf[pos++] = acc;
        acc >>>= 8;
        accBits -= 8;
      }
      acc |= ((dod >>> 16) & 0xffff) << accBits;
      accBits += 16;
    } else {
      w.pos = start;
      return false;
    }
    // At most 7 + 16 bits are pending here: two byte writes at most.
    if (accBits >= 8) {
      buf[pos++] = acc;
      acc >>>= 8;
      accBits -= 8;
      if (accBits >= 8) {
        buf[pos++] = acc;
        acc >>>= 8;
        accBits -= 8;
      }
    }
  }
  if (accBits > 0) buf[pos++] = acc;
  w.pos = pos;
  return true;
}

/** writeGorilla on int32 halves throughout: any int64 deltas, slower. */
function writeGorillaExact(
  w: ByteWriter,
  words: Int32Array,
  from: number,
  to: number,
  start: number,
): boolean {
  w.pos = start;
  w.i64Parts(words[2 * from + 1]!, words[2 * from]!);
  w.i64Parts(words[2 * from + 3]!, words[2 * from + 2]!);
  if (to - from < 3) return true;
  w.ensure(Math.ceil(((to - from - 2) * 36) / 8) + 8);
  const buf = w.buf;
  let pos = w.pos;
  // Pending bits (fewer than 8 between values), LSB-first.
  let acc = 0;
  let accBits = 0;
  // Previous delta as (hi, lo uint32).
  let lo = (words[2 * from + 2]! >>> 0) - (words[2 * from]! >>> 0);
  let dHi = (words[2 * from + 3]! - words[2 * from + 1]! - (lo < 0 ? 1 : 0)) | 0;
  let dLo = lo < 0 ? lo + TWO32 : lo;
  for (let i = from + 2; i < to; i++) {
    // delta = t[i] - t[i-1]
    lo = (words[2 * i]! >>> 0) - (words[2 * i - 2]! >>> 0);
    const nHi = (words[2 * i + 1]! - words[2 * i - 1]! - (lo < 0 ? 1 : 0)) | 0;
    const nLo = lo < 0 ? lo + TWO32 : lo;
    // dod = delta - previous delta; it must be the sign extension of its low word.
    lo = nLo - dLo;
    const oHi = (nHi - dHi - (lo < 0 ? 1 : 0)) | 0;
    const dod = lo | 0;
    if (oHi !== (dod < 0 ? -1 : 0)) {
      w.pos = start;
      return false;
    }
    dHi = nHi;
    dLo = nLo;
    if (dod === 0) {
      accBits += 1;
    } else if (dod >= -64 && dod <= 63) {
      acc |= (0b01 | ((dod & 0x7f) << 2)) << accBits;
      accBits += 9;
    } else if (dod >= -256 && dod <= 255) {
      acc |= (0b011 | ((dod & 0x1ff) << 3)) << accBits;
      accBits += 12;
    } else if (dod >= -2048 && dod <= 2047) {
      acc |= (0b0111 | ((dod & 0xfff) << 4)) << accBits;
      accBits += 16;
    } else {
      // 4-bit prefix, then the 32-bit value in two 16-bit halves (keeps acc in 32 bits).
      acc |= (0b1111 | ((dod & 0xffff) << 4)) << accBits;
      accBits += 20;
      while (accBits >= 8) {
        buf[pos++] = acc;
        acc >>>= 8;
        accBits -= 8;
      }
      acc |= ((dod >>> 16) & 0xffff) << accBits;
      accBits += 16;
    }
    while (accBits >= 8) {
      buf[pos++] = acc;
      acc >>>= 8;
      accBits -= 8;
    }
  }
  if (accBits > 0) buf[pos++] = acc;
  w.pos = pos;
  return true;
}
