/**
 * Conversions between the textual forms users give (UUID, IPv4, LONG256)
 * and wire words. Shared by the encoder's row API and the decoder.
 */

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Formats 16 wire bytes (lo int64 LE, then hi int64 LE) as a canonical UUID. */
export function uuidFromWire(bytes: Uint8Array, at: number): string {
  // Canonical text is big-endian: hi word's MSB first.
  let s = '';
  for (let i = 15; i >= 0; i--) {
    s += HEX[bytes[at + i]!]!;
    if (i === 12 || i === 10 || i === 8 || i === 6) s += '-';
  }
  return s;
}

/** Value of one hex digit's char code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Writes a canonical 8-4-4-4-12 UUID as 16 wire bytes (lo int64 LE, then hi
 * int64 LE); returns false if malformed. Allocates nothing.
 */
export function uuidToWire(text: string, out: Uint8Array, at: number): boolean {
  if (text.length !== 36) return false;
  let byte = 0;
  for (let i = 0; i < 36; ) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (text.charCodeAt(i) !== 45) return false;
      i++;
      continue;
    }
    const hi = hexDigit(text.charCodeAt(i));
    const lo = hexDigit(text.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return false;
    // Text is big-endian: its first byte is the top byte of the hi word.
    out[at + 15 - byte] = hi * 16 + lo;
    byte++;
    i += 2;
  }
  return true;
}

/** Formats an IPv4 uint32 as a dotted quad. */
export function ipv4ToString(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Parses a dotted quad (each part 0-255, 1-3 digits) to a uint32, or returns -1. */
export function ipv4FromString(text: string): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else {
      return -1;
    }
  }
  return dots === 4 ? v : -1;
}

/** Reads `words` little-endian uint64 words at `at` as one unsigned bigint. */
export function unsignedFromWire(view: DataView, at: number, words: number): bigint {
  let v = 0n;
  for (let i = words - 1; i >= 0; i--) v = (v << 64n) | view.getBigUint64(at + i * 8, true);
  return v;
}

/** Writes `v` (two's complement, `words` x 64 bits) little-endian at `at`. */
export function wordsToWire(v: bigint, view: DataView, at: number, words: number): void {
  let x = BigInt.asUintN(words * 64, v);
  for (let i = 0; i < words; i++) {
    view.setBigUint64(at + i * 8, x & 0xffffffffffffffffn, true);
    x >>= 64n;
  }
}
