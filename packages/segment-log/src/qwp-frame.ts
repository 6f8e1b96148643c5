/**
 * The little the log knows about QWP payloads, for recovery of an aborted
 * DEFER_COMMIT group: header `[u32 magic 'QWP1'][u8 version][u8 flags]...`
 * (12 bytes), flag 0x01 = FLAG_DEFER_COMMIT.
 */

/** 'QWP1' read as a little-endian u32. */
const QWP_MAGIC = 0x31505751;
const QWP_HEADER_SIZE = 12;
const QWP_FLAGS_OFFSET = 5;
const FLAG_DEFER_COMMIT = 0x01;

/**
 * A test on one stored frame's payload, `bytes[offset, offset + length)`,
 * called without copying (the bytes are the segment's own: read, never keep).
 */
export type FramePredicate = (bytes: Uint8Array, offset: number, length: number) => boolean;

/**
 * True only for a payload positively identified as a QWP message with
 * FLAG_DEFER_COMMIT set. Anything else (short, foreign, another magic) is
 * false, so it counts as commit-bearing: an unknown frame must never be
 * taken for part of an aborted group and skipped.
 */
export const isQwpDeferCommit: FramePredicate = (bytes, offset, length) =>
  length >= QWP_HEADER_SIZE &&
  bytes[offset] === (QWP_MAGIC & 0xff) &&
  bytes[offset + 1] === ((QWP_MAGIC >>> 8) & 0xff) &&
  bytes[offset + 2] === ((QWP_MAGIC >>> 16) & 0xff) &&
  bytes[offset + 3] === QWP_MAGIC >>> 24 &&
  (bytes[offset + QWP_FLAGS_OFFSET]! & FLAG_DEFER_COMMIT) !== 0;
