/**
 * On-disk constants and small codecs shared by segments, the dictionary and
 * recovery. Byte-compatible with the reference Java client (see DESIGN.md).
 */

/** 'SF01' read as a little-endian u32. */
export const SEGMENT_MAGIC = 0x31304653;
export const SEGMENT_VERSION = 1;
/** u32 magic, u8 version, u8 flags, u16 reserved, u64 baseSeq, u64 createdMicros. */
export const SEGMENT_HEADER_SIZE = 24;
/** u32 crc32c + u32 payloadLen in front of every payload. */
export const FRAME_HEADER_SIZE = 8;
/** The smallest segment that holds a header and one 1-byte frame. */
export const MIN_SEGMENT_SIZE = SEGMENT_HEADER_SIZE + FRAME_HEADER_SIZE + 1;
/** Largest payload one frame may have in an empty segment of `segmentSize` bytes. */
export function maxPayloadOf(segmentSize: number): number {
  return segmentSize - SEGMENT_HEADER_SIZE - FRAME_HEADER_SIZE;
}
/** Default segment size: 4 MiB. */
export const DEFAULT_SEGMENT_SIZE = 4 * 1024 * 1024;
/** Segments are addressed by JS numbers; an ArrayBuffer mapping is bounded far below this anyway. */
export const MAX_SEGMENT_SIZE = 0x7fff_ffff;

/** 'SYD1' read as a little-endian u32. */
export const DICT_MAGIC = 0x31445953;
export const DICT_VERSION = 1;
export const DICT_HEADER_SIZE = 8;
export const DICT_FILE_NAME = '.symbol-dict';
export const LOCK_FILE_NAME = '.lock';
/** Sentinel that marks a slot failed: orphan scans skip it until an operator removes it. */
export const FAILED_FILE_NAME = '.failed';
export const SEGMENT_SUFFIX = '.sfa';

const SEGMENT_NAME = /^sf-([0-9a-f]{16})\.sfa$/;
const TWO_32 = 0x1_0000_0000;

/** `sf-<baseSeq as 16 lowercase hex>.sfa`. */
export function segmentFileName(baseSeq: number): string {
  return `sf-${baseSeq.toString(16).padStart(16, '0')}${SEGMENT_SUFFIX}`;
}

/**
 * The baseSeq a canonical segment name carries, or -1 for any other name
 * (spares, foreign files). Names above 2^53 are treated as not ours.
 */
export function parseSegmentFileName(name: string): number {
  const m = SEGMENT_NAME.exec(name);
  if (m === null) return -1;
  const value = Number.parseInt(m[1]!, 16);
  return Number.isSafeInteger(value) ? value : -1;
}

/** Writes `value` (a non-negative safe integer) as a little-endian u64. */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % TWO_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true);
}

/** Reads a little-endian u64; returns -1 when it exceeds 2^53 - 1 (or is negative as i64). */
export function readU64(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true);
  const hi = view.getUint32(offset + 4, true);
  if (hi > 0x1f_ffff) return -1;
  return hi * TWO_32 + lo;
}

/** Bytes a LEB128 unsigned varint of `value` takes. */
export function varintSize(value: number): number {
  let n = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `value` as a LEB128 unsigned varint at `offset`; returns the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  let v = value;
  let p = offset;
  while (v >= 0x80) {
    buf[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[p++] = v;
  return p;
}

/** Result slot of {@link readVarint}, reused to keep decoding allocation-free. */
export interface VarintResult {
  value: number;
  end: number;
}

/**
 * Reads a LEB128 unsigned varint starting at `offset`, not past `limit`.
 * Returns false when it is cut off by `limit` or longer than 5 bytes (a u32).
 */
export function readVarint(
  buf: Uint8Array,
  offset: number,
  limit: number,
  out: VarintResult,
): boolean {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    const p = offset + i;
    if (p >= limit) return false;
    const b = buf[p]!;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      out.value = value;
      out.end = p + 1;
      return true;
    }
    mul *= 128;
  }
  return false;
}
