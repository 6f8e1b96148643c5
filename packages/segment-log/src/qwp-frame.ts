/**
 * The little the log knows about QWP payloads: the 12-byte header
 * `[u32 magic 'QWP1'][u8 version][u8 flags][u16 table_count][u32 payload_length]`,
 * flag 0x01 FLAG_DEFER_COMMIT (recovery finds an aborted group by it) and
 * flag 0x08 FLAG_DELTA_SYMBOL_DICT, whose payload starts
 * `[varint deltaStart][varint deltaCount][deltaCount x (varint len, utf8)]`
 * (recovery checks the dictionary covers every id a stored frame defines).
 */
import {
  FLAG_DEFER_COMMIT,
  FLAG_DELTA_SYMBOL_DICT,
  HEADER_SIZE,
  MAGIC,
  readVarint,
  type VarintValue,
} from '@qwp/qwp-wire/codec';

/**
 * A test on one stored frame's payload, `bytes[offset, offset + length)`,
 * called without copying (the bytes are the segment's own: read, never keep).
 */
export type FramePredicate = (bytes: Uint8Array, offset: number, length: number) => boolean;

function isQwp(bytes: Uint8Array, offset: number, length: number): boolean {
  return (
    length >= HEADER_SIZE &&
    bytes[offset] === (MAGIC & 0xff) &&
    bytes[offset + 1] === ((MAGIC >>> 8) & 0xff) &&
    bytes[offset + 2] === ((MAGIC >>> 16) & 0xff) &&
    bytes[offset + 3] === MAGIC >>> 24
  );
}

const FLAGS_OFFSET = 5;
const scratch: VarintValue = { value: 0 };

/**
 * True only for a payload positively identified as a QWP message with
 * FLAG_DEFER_COMMIT set. Anything else (short, foreign, another magic) is
 * false, so it counts as commit-bearing: an unknown frame must never be
 * taken for part of an aborted group and cut.
 */
export const isQwpDeferCommit: FramePredicate = (bytes, offset, length) =>
  isQwp(bytes, offset, length) && (bytes[offset + FLAGS_OFFSET]! & FLAG_DEFER_COMMIT) !== 0;

/**
 * One past the highest symbol id the QWP frame at `bytes[offset, offset +
 * length)` defines (`deltaStart + deltaCount`), read from the first bytes of
 * its delta section only; 0 when it has none, -1 when its varints are cut
 * off within `length`.
 */
export function qwpDeltaEnd(bytes: Uint8Array, offset: number, length: number): number {
  if (!isQwp(bytes, offset, length)) return 0;
  if ((bytes[offset + FLAGS_OFFSET]! & FLAG_DELTA_SYMBOL_DICT) === 0) return 0;
  const end = offset + length;
  let p = readVarint(bytes, offset + HEADER_SIZE, end, scratch);
  if (p < 0) return -1;
  const start = scratch.value;
  p = readVarint(bytes, p, end, scratch);
  if (p < 0) return -1;
  return start + scratch.value;
}

/** The symbol delta section of one stored frame, as {@link readQwpDelta} finds it. */
export interface QwpDelta {
  /** First id the frame defines. */
  start: number;
  /** How many ids it defines. */
  count: number;
  /** Absolute offset of the first `[len][utf8]` entry in the bytes given. */
  entriesOffset: number;
  /** Absolute offset just past the last entry (walked and bounds-checked). */
  entriesEnd: number;
}

/**
 * Reads the delta section of the QWP frame at `bytes[offset, offset + length)`
 * into `out`. Returns 1 when it has one, 0 when the frame carries none (not
 * QWP, or the flag is clear), -1 when the flag is set but the section is
 * malformed (a varint or an entry runs past the frame).
 */
export function readQwpDelta(
  bytes: Uint8Array,
  offset: number,
  length: number,
  out: QwpDelta,
): 1 | 0 | -1 {
  if (!isQwp(bytes, offset, length)) return 0;
  if ((bytes[offset + FLAGS_OFFSET]! & FLAG_DELTA_SYMBOL_DICT) === 0) return 0;
  const end = offset + length;
  let p = readVarint(bytes, offset + HEADER_SIZE, end, scratch);
  if (p < 0) return -1;
  const start = scratch.value;
  p = readVarint(bytes, p, end, scratch);
  if (p < 0) return -1;
  const count = scratch.value;
  if (!Number.isSafeInteger(start + count) || count > length) return -1;
  const entriesOffset = p;
  for (let i = 0; i < count; i++) {
    p = readVarint(bytes, p, end, scratch);
    if (p < 0 || p + scratch.value > end) return -1;
    p += scratch.value;
  }
  out.start = start;
  out.count = count;
  out.entriesOffset = entriesOffset;
  out.entriesEnd = p;
  return 1;
}
