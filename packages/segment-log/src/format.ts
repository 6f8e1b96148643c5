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
/** The slot's persisted symbol dictionary. */
export const DICT_FILE_NAME = '.symbol-dict';
/** The slot's lock file, held with flock(2) while a sender owns the slot. */
export const LOCK_FILE_NAME = '.lock';
/** Sentinel that marks a slot failed: orphan scans skip it until an operator removes it. */
export const FAILED_FILE_NAME = '.failed';
export const SEGMENT_SUFFIX = '.sfa';

/** Flag bit 0 of a segment header: a durable promise that `sf-manifest.bin` exists. */
export const SEGMENT_FLAG_MANIFEST_REQUIRED = 0x01;
/** The name Java gives the first segment of a fresh slot; recovery accepts it like any `*.sfa`. */
export const INITIAL_SEGMENT_FILE_NAME = 'sf-initial.sfa';
/** The slot's manifest: the chain's head and active segment bases. */
export const MANIFEST_FILE_NAME = 'sf-manifest.bin';
/** The slot's acknowledged-FSN watermark. */
export const ACK_WATERMARK_FILE_NAME = '.ack-watermark';
/** The holder's PID, `"<pid>\n"`, beside `.lock` (which stays empty). */
export const LOCK_PID_FILE_NAME = '.lock.pid';
/** Java's logical locks live in `<sf_dir>/.slot-locks/<sender_id>.lock` (+ `.lock.pid`). */
export const LOGICAL_LOCK_DIR_NAME = '.slot-locks';
/** Suffix of a quarantined segment or manifest. */
export const CORRUPT_SUFFIX = '.corrupt';
/** A quarantined slot is renamed `<sender_id>.unreplayable-<n>`, n in [0, MAX_UNREPLAYABLE). */
export const UNREPLAYABLE_INFIX = '.unreplayable-';
export const MAX_UNREPLAYABLE = 64;

const SEGMENT_NAME = /^sf-([0-9a-f]{16})\.sfa(\.corrupt)?$/;
const TWO_32 = 0x1_0000_0000;

/**
 * `sf-<generation as 16 lowercase hex>.sfa`. A segment's name is a
 * generation counter, never its FSN: recovery reads FSNs from headers.
 */
export function segmentFileName(generation: number): string {
  return `sf-${generation.toString(16).padStart(16, '0')}${SEGMENT_SUFFIX}`;
}

/**
 * The generation in a segment name (`sf-<16 hex>.sfa`, or the same with
 * `.corrupt`), or -1 for any other name (`sf-initial.sfa`, foreign files)
 * and for generations above 2^53 - 1.
 */
export function parseSegmentGeneration(name: string): number {
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

/** Writes `value` (a safe integer >= -1) as a little-endian i64. */
export function writeI64(view: DataView, offset: number, value: number): void {
  if (value < 0) {
    view.setUint32(offset, 0xffff_ffff, true);
    view.setUint32(offset + 4, 0xffff_ffff, true);
    return;
  }
  writeU64(view, offset, value);
}

/**
 * Reads a little-endian i64 that must be -1 or a safe non-negative integer;
 * returns undefined for any other value.
 */
export function readI64(view: DataView, offset: number): number | undefined {
  const lo = view.getUint32(offset, true);
  const hi = view.getUint32(offset + 4, true);
  if (lo === 0xffff_ffff && hi === 0xffff_ffff) return -1;
  if (hi > 0x1f_ffff) return undefined;
  return hi * TWO_32 + lo;
}
