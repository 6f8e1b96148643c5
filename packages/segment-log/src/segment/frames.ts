import { FRAME_HEADER_SIZE, SEGMENT_HEADER_SIZE } from '../format.js';
import type { MmapSegment } from './mmap-segment.js';

/**
 * Visits the frames of `segment` in order (mapping it first if it was opened
 * lazily): `visit(fsn, bytes, payloadOffset, payloadLength)`, where `bytes`
 * is the segment's own mapping (read, never keep). Stops early when `visit`
 * returns false; returns false then, true when every frame was visited.
 * Recovery-time: frames below the published offset only.
 */
export function forEachFrame(
  segment: MmapSegment,
  visit: (fsn: number, bytes: Uint8Array, offset: number, length: number) => boolean | undefined,
): boolean {
  if (segment.frameCount === 0) return true;
  segment.ensureMapped();
  const bytes = segment.bytes;
  const view = segment.view;
  let off = SEGMENT_HEADER_SIZE;
  for (let i = 0; i < segment.frameCount; i++) {
    const len = view.getUint32(off + 4, true);
    if (visit(segment.baseSeq + i, bytes, off + FRAME_HEADER_SIZE, len) === false) return false;
    off += FRAME_HEADER_SIZE + len;
  }
  return true;
}
