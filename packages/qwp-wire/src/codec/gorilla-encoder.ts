import type { ByteWriter } from './byte-writer.js';

/**
 * Gorilla encoding of int64 timestamps held as little-endian (lo, hi) int32
 * pairs, without BigInt: deltas and delta-of-deltas are computed on the
 * halves. See gorilla.ts for the format.
 */

/** Scratch for the two halves of the last difference. */
let diffHi = 0;
let diffLo = 0;

/** (aHi:aLo) - (bHi:bLo) into diffHi (int32) : diffLo (uint32). */
function sub64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  let lo = (aLo >>> 0) - (bLo >>> 0);
  let borrow = 0;
  if (lo < 0) {
    lo += 4294967296;
    borrow = 1;
  }
  diffLo = lo;
  diffHi = (aHi - bHi - borrow) | 0;
}

/**
 * True if every delta-of-delta of values `[from, to)` of `words` fits int32
 * (the spec's condition for Gorilla; otherwise the column goes uncompressed).
 */
export function canUseGorilla(words: Int32Array, from: number, to: number): boolean {
  if (to - from < 3) return true;
  sub64(words[2 * from + 3]!, words[2 * from + 2]!, words[2 * from + 1]!, words[2 * from]!);
  let dHi = diffHi;
  let dLo = diffLo;
  for (let i = from + 2; i < to; i++) {
    sub64(words[2 * i + 1]!, words[2 * i]!, words[2 * i - 1]!, words[2 * i - 2]!);
    const nHi = diffHi;
    const nLo = diffLo;
    sub64(nHi, nLo, dHi, dLo);
    // Fits int32 iff the high word is the sign extension of the low word.
    if (diffHi !== (diffLo >= 0x80000000 ? -1 : 0)) return false;
    dHi = nHi;
    dLo = nLo;
  }
  return true;
}

/**
 * Writes values `[from, to)` (at least 2) Gorilla-encoded: the first two in
 * full, then the padded bit stream. Call only when canUseGorilla() is true.
 */
export function writeGorilla(w: ByteWriter, words: Int32Array, from: number, to: number): void {
  w.i64Parts(words[2 * from + 1]!, words[2 * from]!);
  w.i64Parts(words[2 * from + 3]!, words[2 * from + 2]!);
  if (to - from < 3) return;
  w.ensure(Math.ceil(((to - from - 2) * 36) / 8) + 8);
  const buf = w.buf;
  let pos = w.pos;
  // Bit accumulator: at most 7 pending + 36 new bits, well inside 2^53.
  let acc = 0;
  let accBits = 0;
  sub64(words[2 * from + 3]!, words[2 * from + 2]!, words[2 * from + 1]!, words[2 * from]!);
  let dHi = diffHi;
  let dLo = diffLo;
  for (let i = from + 2; i < to; i++) {
    sub64(words[2 * i + 1]!, words[2 * i]!, words[2 * i - 1]!, words[2 * i - 2]!);
    const nHi = diffHi;
    const nLo = diffLo;
    sub64(nHi, nLo, dHi, dLo);
    dHi = nHi;
    dLo = nLo;
    const dod = diffLo | 0;
    let bits: number;
    let n: number;
    if (dod === 0) {
      bits = 0;
      n = 1;
    } else if (dod >= -64 && dod <= 63) {
      bits = 0b01 + (dod & 0x7f) * 4;
      n = 9;
    } else if (dod >= -256 && dod <= 255) {
      bits = 0b011 + (dod & 0x1ff) * 8;
      n = 12;
    } else if (dod >= -2048 && dod <= 2047) {
      bits = 0b0111 + (dod & 0xfff) * 16;
      n = 16;
    } else {
      bits = 0b1111 + (dod >>> 0) * 16;
      n = 36;
    }
    acc += bits * 2 ** accBits;
    accBits += n;
    while (accBits >= 8) {
      const b = acc % 256;
      buf[pos++] = b;
      acc = (acc - b) / 256;
      accBits -= 8;
    }
  }
  if (accBits > 0) buf[pos++] = acc;
  w.pos = pos;
}
