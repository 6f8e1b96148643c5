/**
 * Recovery step "seed the ACK": the acknowledged FSN a recovered slot
 * starts from is `max(lowestBase - 1, watermark)`, where `lowestBase` is the
 * oldest retained frame's FSN (everything below it was trimmed, so it was
 * acknowledged) and `watermark` the persisted `.ack-watermark`. A watermark
 * at or beyond the next FSN cannot be right (it names frames that do not
 * exist): it is ignored and repaired to the segment floor, as the Rust
 * client does; a missing or unusable one costs one conservative re-replay.
 */

/** What {@link seedAck} decided. */
export interface AckSeed {
  /** The acknowledged FSN to start from (-1 when nothing is). */
  ackedFsn: number;
  /** The persisted value could not be used because it is ahead of the data: rewrite it as `ackedFsn`. */
  repair: boolean;
}

/**
 * @param watermark the persisted FSN, or undefined when there is no valid record
 * @param lowestBase FSN of the oldest retained frame (the first segment's baseSeq)
 * @param nextFsn FSN the next appended frame gets
 */
export function seedAck(
  watermark: number | undefined,
  lowestBase: number,
  nextFsn: number,
): AckSeed {
  const floor = lowestBase - 1;
  if (watermark === undefined) return { ackedFsn: floor, repair: false };
  if (watermark >= nextFsn) return { ackedFsn: floor, repair: true };
  return { ackedFsn: Math.max(floor, watermark), repair: false };
}
