/**
 * Unsigned LEB128 varints, as QWP messages, the store-and-forward symbol
 * dictionary and its chunks carry them: seven bits per byte, least
 * significant group first, the high bit set on every byte but the last.
 * This is the one reader every package uses, so the codec and the on-disk
 * formats cannot disagree about what a varint is.
 */

/** Longest varint accepted: ten bytes hold any 64-bit value. */
export const MAX_VARINT_BYTES = 10;
/** {@link readVarint} result: the varint runs past `limit`. */
export const VARINT_TRUNCATED = -1;
/** {@link readVarint} result: no terminating byte within 10 bytes. */
export const VARINT_TOO_LONG = -2;

/** Where {@link readVarint} leaves the decoded value; reuse one to decode without allocating. */
export interface VarintValue {
  value: number;
}

/**
 * Decodes the varint at `offset` of `bytes`, reading nothing at or past
 * `limit`. Returns the offset just past it and sets `out.value`, or returns
 * {@link VARINT_TRUNCATED} / {@link VARINT_TOO_LONG} and leaves `out`
 * alone. Values beyond 2^53 lose precision (callers bound what they accept).
 */
export function readVarint(
  bytes: Uint8Array,
  offset: number,
  limit: number,
  out: VarintValue,
): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const p = offset + i;
    if (p >= limit) return VARINT_TRUNCATED;
    const b = bytes[p]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      out.value = value;
      return p + 1;
    }
    scale *= 128;
  }
  return VARINT_TOO_LONG;
}

/** Bytes the varint of `value` (a non-negative safe integer) takes. */
export function varintSize(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 128)) n++;
  return n;
}

/** Writes `value` (a non-negative safe integer) as a varint at `offset`; returns the offset after it. */
export function writeVarint(bytes: Uint8Array, offset: number, value: number): number {
  let v = value;
  let p = offset;
  while (v >= 0x80) {
    bytes[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  bytes[p++] = v;
  return p;
}
