/**
 * Recovery step "analyse the aborted tail". A trailing run of frames that
 * all satisfy the `uncommitted` predicate (QWP: FLAG_DEFER_COMMIT) with no
 * committing frame after them is a transaction its producer never finished:
 * it is aborted. The Java client keeps such a tail, never sends it and
 * retires it once everything below is acknowledged; but if the next session
 * appends committing frames behind it and crashes before that retirement,
 * the next recovery sees the old deferred frames followed by a commit and
 * would send them together, committing the aborted transaction.
 *
 * So recovery cuts the unacknowledged part of the tail off the log, durably,
 * before any new frame can be appended; the FSNs it held are reused. The
 * cut works newest segment first and keeps the slot valid for all three
 * clients at every step: a segment above the tail's first one is zeroed and
 * msynced while still the manifest's active segment (an empty active
 * segment that continues the chain is valid), then the manifest's active
 * bound moves back to the segment below; finally the first segment is cut
 * back to the tail's first frame. A crash part-way leaves a prefix of the
 * tail, which the next recovery cuts again. The symbols the tail's frames
 * introduced stay in the dictionary (the dictionary step made them durable
 * first), so ids stay continuous.
 */

import type { FramePredicate } from '../qwp-frame.js';
import { forEachFrame } from '../segment/frames.js';
import type { MmapSegment } from '../segment/mmap-segment.js';
import type { SfManifest } from '../slot-files/manifest.js';

/** The aborted group found at the end of the log. */
export interface AbortedTail {
  /** FSN of the last committing frame below the group (-1 when none is retained). */
  boundaryFsn: number;
  /** First and last FSN of the group. */
  fromFsn: number;
  toFsn: number;
}

/**
 * The trailing run of frames matching `uncommitted`, or null when the last
 * frame commits (or there is none). Walks segments newest first and stops
 * at the first one holding a committing frame. Changes nothing.
 */
export function findAbortedTail(
  segments: readonly MmapSegment[],
  uncommitted: FramePredicate,
): AbortedTail | null {
  if (segments.length === 0) return null;
  const last = segments[segments.length - 1]!.nextSeq - 1;
  if (last < segments[0]!.baseSeq) return null;
  let boundary = segments[0]!.baseSeq - 1;
  for (let k = segments.length - 1; k >= 0; k--) {
    let found = -1;
    forEachFrame(segments[k]!, (fsn, bytes, off, len) => {
      if (!uncommitted(bytes, off, len)) found = fsn;
      return true;
    });
    if (found >= 0) {
      boundary = found;
      break;
    }
  }
  return boundary < last ? { boundaryFsn: boundary, fromFsn: boundary + 1, toFsn: last } : null;
}

/**
 * Cuts every frame from `fromFsn` on off the chain `segments` (oldest first,
 * the last one the manifest's active segment), in the crash-safe order
 * described above. Returns the segments that were emptied above the one
 * `fromFsn` falls in (the caller drops them from the ring and deletes them).
 */
export function cutAbortedTail(
  segments: readonly MmapSegment[],
  fromFsn: number,
  manifest: SfManifest,
): MmapSegment[] {
  let k = segments.length - 1;
  while (k > 0 && segments[k]!.baseSeq > fromFsn) k--;
  const emptied: MmapSegment[] = [];
  for (let j = segments.length - 1; j > k; j--) {
    segments[j]!.truncateFrames(0);
    manifest.rewindActive(segments[j - 1]!.baseSeq);
    emptied.push(segments[j]!);
  }
  const first = segments[k]!;
  first.truncateFrames(Math.max(0, fromFsn - first.baseSeq));
  return emptied;
}
