import { crc32cRange } from '@qwp/crc32c';
import type { ControlBlock } from '../control-block.js';
import { SegmentCorruptError } from '../errors.js';
import { FRAME_HEADER_SIZE, SEGMENT_HEADER_SIZE } from '../format.js';

/** A segment as a reader sees it: its FSN base and bytes. */
export interface SegmentView {
  readonly baseSeq: number;
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Where the view came from, for error messages. */
  readonly path: string;
}

/** Where a {@link FrameReader} finds segments: the ring itself, files, or shared buffers. */
export interface SegmentSource {
  /** The segment whose FSN range holds `fsn` (greatest baseSeq <= fsn), or null if none is known. */
  segmentFor(fsn: number): SegmentView | null;
  /** The segment that starts exactly at `baseSeq` (the successor of a sealed one), or null. */
  segmentStartingAt(baseSeq: number): SegmentView | null;
  /**
   * Asked when `segment` has no valid frame where published frame `fsn`
   * should be and no segment starts at `fsn`: true when the frame must be
   * in `segment` (so its bytes are corrupt), false when its successor may
   * simply not be visible yet (memory mode: not posted to this thread yet).
   */
  mustHold(segment: SegmentView, fsn: number): boolean;
  /** The reader is done with `segment` (unmap / forget). */
  done(segment: SegmentView): void;
}

/** The payload length of the complete frame with a matching CRC at `off` of `seg`, or -1. */
function frameAt(seg: SegmentView, off: number): number {
  const size = seg.bytes.length;
  if (off + FRAME_HEADER_SIZE > size) return -1;
  const len = seg.view.getUint32(off + 4, true);
  if (len > size - off - FRAME_HEADER_SIZE) return -1;
  const crc = crc32cRange(seg.bytes, off + 4, 4 + len);
  return crc === seg.view.getUint32(off, true) ? len : -1;
}

function corrupt(seg: SegmentView, off: number, fsn: number, doing: string): SegmentCorruptError {
  return new SegmentCorruptError(
    `published frame ${fsn} is missing or corrupt at offset ${off} of ${seg.path}${doing}`,
    seg.path,
    undefined,
    off,
  );
}

/**
 * Iterates frames in FSN order from any FSN up to the published FSN of a
 * {@link ControlBlock}, never past it. Works on the producer's thread (over
 * the ring) or on a worker (over files it maps read-only, or shared
 * buffers). Each frame is CRC-checked before it is handed out; a published
 * frame that fails the check where it must be throws
 * {@link SegmentCorruptError} naming the file and offset, never a silent
 * stall. A reader left behind frames that were acknowledged and trimmed
 * meanwhile moves on to the first unacknowledged one.
 *
 * After a successful {@link next}, `fsn`, `buffer`, `offset` and `length`
 * describe the frame's payload; they stay valid until the next call.
 */
export class FrameReader {
  private frameFsn = -1;
  private isStalled = false;
  private frameBuffer: ArrayBuffer | SharedArrayBuffer = new ArrayBuffer(0);
  private frameOffset = 0;
  private frameLength = 0;
  private seg: SegmentView | null = null;
  private off = 0;
  private nextFsn = 0;

  constructor(
    private readonly source: SegmentSource,
    private readonly control: ControlBlock,
    fromFsn = 0,
  ) {
    this.nextFsn = fromFsn;
  }

  /** FSN of the frame the last successful {@link next} found; -1 before one. */
  get fsn(): number {
    return this.frameFsn;
  }

  /**
   * True when the last {@link next} returned false although the frame was
   * published: the segment holding it is not visible yet (memory mode: not
   * posted to this thread yet). Wait for a message, not for a publish.
   */
  get stalled(): boolean {
    return this.isStalled;
  }

  /** The memory holding the frame's payload (a segment's mapping or shared buffer). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.frameBuffer;
  }

  /** Byte offset of the frame's payload in {@link buffer}. */
  get offset(): number {
    return this.frameOffset;
  }

  /** Byte length of the frame's payload. */
  get length(): number {
    return this.frameLength;
  }

  /** FSN the next {@link next} returns. */
  get position(): number {
    return this.nextFsn;
  }

  /** Repositions so that the next frame returned is `fsn`. */
  seek(fsn: number): void {
    this.release();
    this.nextFsn = fsn;
  }

  /**
   * Advances to the next published frame. Returns false when the reader has
   * caught up with the published FSN (or the segment holding the next frame
   * is not visible yet); true with the frame's fields set otherwise.
   */
  next(): boolean {
    this.isStalled = false;
    if (this.nextFsn > this.control.publishedFsn) return false;
    if (this.seg === null && !this.position_(this.nextFsn)) {
      this.isStalled = true;
      return false;
    }
    const want = this.nextFsn;
    let seg = this.seg!;
    let len = frameAt(seg, this.off);
    if (len < 0) {
      // Not in this segment: it was sealed before `want`, whose frame opens the successor.
      const next = this.source.segmentStartingAt(want);
      if (next === null) {
        if (this.source.mustHold(seg, want)) throw corrupt(seg, this.off, want, '');
        this.isStalled = true;
        return false;
      }
      this.release();
      this.seg = seg = next;
      this.off = SEGMENT_HEADER_SIZE;
      len = frameAt(seg, this.off);
      if (len < 0) throw corrupt(seg, this.off, want, '');
    }
    this.frameFsn = want;
    this.frameBuffer = seg.buffer;
    this.frameOffset = this.off + FRAME_HEADER_SIZE;
    this.frameLength = len;
    this.off += FRAME_HEADER_SIZE + len;
    this.nextFsn = want + 1;
    return true;
  }

  /** The current frame's payload as a view (allocates one Uint8Array). */
  payload(): Uint8Array {
    return new Uint8Array(this.frameBuffer, this.frameOffset, this.frameLength);
  }

  /** Drops the current segment; the reader can still seek and read again. */
  close(): void {
    this.release();
  }

  private release(): void {
    if (this.seg !== null) this.source.done(this.seg);
    this.seg = null;
  }

  /**
   * Finds the segment holding `fsn` (published) and walks its frames to it.
   * A segment that is gone while `fsn` is acknowledged was trimmed: the
   * reader moves to the first unacknowledged FSN instead.
   */
  private position_(fsn: number): boolean {
    let seg = this.source.segmentFor(fsn);
    if (seg === null) {
      const acked = this.control.ackedFsn;
      if (fsn > acked) return false;
      this.nextFsn = acked + 1;
      if (this.nextFsn > this.control.publishedFsn) return false;
      seg = this.source.segmentFor(this.nextFsn);
      if (seg === null) return false;
      fsn = this.nextFsn;
    }
    let off = SEGMENT_HEADER_SIZE;
    let s = seg.baseSeq;
    while (s < fsn) {
      const len = frameAt(seg, off);
      if (len >= 0) {
        off += FRAME_HEADER_SIZE + len;
        s++;
        continue;
      }
      // Frame s is published but not here: this segment was sealed and s opens the next one.
      const next = this.source.segmentStartingAt(s);
      if (next === null) {
        const err = this.source.mustHold(seg, s)
          ? corrupt(seg, off, s, ` while seeking to FSN ${fsn}`)
          : undefined;
        this.source.done(seg);
        if (err !== undefined) throw err;
        return false;
      }
      this.source.done(seg);
      seg = next;
      off = SEGMENT_HEADER_SIZE;
    }
    this.seg = seg;
    this.off = off;
    return true;
  }
}
