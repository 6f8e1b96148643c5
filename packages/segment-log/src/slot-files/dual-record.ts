/**
 * The record shape `sf-manifest.bin` and `.ack-watermark` share (Java's
 * SfManifest / AckWatermark, Rust's qwp_ws_sfa_manifest.rs): an 8192-byte
 * file with a 64-byte record at offset 0 and another at 4096. Record:
 * `u32 magic | u32 version 1 | i64 generation (> 0) | i64 first | i64 second
 * | zeros | u32 crc32c of bytes [0, 60) at 60`. The record of generation g
 * lives at `(g & 1) * 4096`, so an update rewrites only the record that is
 * not current, and a torn update leaves the previous one intact. The valid
 * record with the higher generation wins; on a tie, the one at 4096.
 */
import { crc32cRange } from '@qwp/crc32c';
import { readI64, writeI64, writeU64 } from '../format.js';

export const DUAL_RECORD_FILE_SIZE = 8192;
export const RECORD_SIZE = 64;
export const RECORD_SLOT_SIZE = 4096;
const RECORD_VERSION = 1;
const CRC_OFFSET = 60;

/** One decoded record: its generation and its two i64 fields (the watermark leaves `second` 0). */
export interface DualRecord {
  generation: number;
  first: number;
  second: number;
}

/** File offset of the record that generation `generation` writes. */
export function recordOffset(generation: number): number {
  return (generation % 2) * RECORD_SLOT_SIZE;
}

/**
 * Encodes a record into `bytes[at, at + 64)` (`view` spans `bytes` from its
 * start): zeros, then the fields, the CRC last, so a writer killed part-way
 * leaves a record that fails its CRC. Allocates nothing.
 */
export function encodeRecord(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  magic: number,
  generation: number,
  first: number,
  second: number,
): void {
  bytes.fill(0, at, at + RECORD_SIZE);
  view.setUint32(at, magic, true);
  view.setUint32(at + 4, RECORD_VERSION, true);
  writeU64(view, at + 8, generation);
  writeI64(view, at + 16, first);
  writeI64(view, at + 24, second);
  view.setUint32(at + CRC_OFFSET, crc32cRange(bytes, at, CRC_OFFSET), true);
}

/**
 * Decodes the record at `bytes[at..]`, or undefined when its magic, version
 * or CRC is wrong, its generation is not positive, or a field is not -1 or
 * a safe non-negative integer (what this package can represent).
 */
export function decodeRecord(bytes: Uint8Array, at: number, magic: number): DualRecord | undefined {
  if (bytes.length < at + RECORD_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, RECORD_SIZE);
  if (view.getUint32(0, true) !== magic || view.getUint32(4, true) !== RECORD_VERSION) {
    return undefined;
  }
  if (view.getUint32(CRC_OFFSET, true) !== crc32cRange(bytes, at, CRC_OFFSET)) return undefined;
  const generation = readI64(view, 8);
  const first = readI64(view, 16);
  const second = readI64(view, 24);
  if (generation === undefined || generation <= 0) return undefined;
  if (first === undefined || second === undefined) return undefined;
  return { generation, first, second };
}

/**
 * The record recovery uses out of a whole 8192-byte image: among the records
 * that decode and satisfy `valid`, the higher generation; the second on a tie.
 */
export function selectRecord(
  image: Uint8Array,
  magic: number,
  valid: (record: DualRecord) => boolean,
): DualRecord | undefined {
  const keep = (r: DualRecord | undefined) => (r !== undefined && valid(r) ? r : undefined);
  const a = keep(decodeRecord(image, 0, magic));
  const b = keep(decodeRecord(image, RECORD_SLOT_SIZE, magic));
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.generation > b.generation ? a : b;
}
