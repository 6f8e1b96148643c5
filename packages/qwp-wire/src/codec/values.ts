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

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Writes a canonical UUID string as 16 wire bytes; returns false if malformed. */
export function uuidToWire(text: string, out: Uint8Array, at: number): boolean {
  if (!UUID_RE.test(text)) return false;
  const hex = text.replace(/-/g, '');
  for (let i = 0; i < 16; i++) out[at + 15 - i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return true;
}

/** Formats an IPv4 uint32 as a dotted quad. */
export function ipv4ToString(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted quad to a uint32, or returns -1. */
export function ipv4FromString(text: string): number {
  const m = IPV4_RE.exec(text);
  if (m === null) return -1;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const part = Number(m[i]);
    if (part > 255) return -1;
    v = v * 256 + part;
  }
  return v;
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
