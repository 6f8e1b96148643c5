import { ControlBlock } from '../control-block.js';
import { BadArgumentError, ClosedError, FrameTooLargeError, runAll } from '../errors.js';
import { FRAME_HEADER_SIZE, maxPayloadOf, SEGMENT_HEADER_SIZE } from '../format.js';
import type { FramePredicate } from '../qwp-frame.js';
import { FrameReader, type SegmentSource, type SegmentView } from './frame-reader.js';
import type { MmapSegment } from './mmap-segment.js';
import type { SegmentProvider } from './segment-manager.js';

/**
 * What a ring backed by a slot's files must record at the steps where a
 * crash must find a consistent slot (openSlot provides it; memory mode and
 * bare rings have none). Each call is synchronous and throws on failure.
 */
export interface RingJournal {
  /** The acked FSN moved to `ackedFsn`: record it (cheap, no syscall: called on every ACK). */
  recordAck(ackedFsn: number): void;
  /** Frames up to `ackedFsn` are about to leave the log: make the recorded ACK durable first. */
  persistAck(ackedFsn: number): void;
  /** The chain now runs from the segment at `headBase` to the active one at `activeBase`: commit it. */
  commitBounds(headBase: number, activeBase: number): void;
  /** {@link SegmentRing.msync} is about to write segments: what frames depend on goes first. */
  beforeSync(): void;
}

/** Options of {@link SegmentRing}. */
export interface SegmentRingOptions {
  /**
   * Recovered or freshly made segments, oldest first, FSN-contiguous; the
   * last one becomes the active segment. May be empty only with `nextFsn`.
   */
  segments: MmapSegment[];
  provider: SegmentProvider;
  /** Shared published/acked FSNs; a fresh block by default. */
  control?: ControlBlock;
  /** FSN of the next frame when `segments` is empty. */
  nextFsn?: number;
  /**
   * The acknowledged FSN to start from (a recovered slot's seed); at least
   * the FSN below the oldest segment. Clamped to what the segments hold.
   */
  ackedFsn?: number;
  /** Called when a new segment becomes active (e.g. to post its buffer to a memory-mode worker). */
  onActivate?: (segment: MmapSegment) => void;
  /** The slot's files to keep in step with rotations and trims (file mode). */
  journal?: RingJournal;
  /** Receives a trim barrier that failed (the trim is retried by the next ACK or rotation). */
  onError?: (err: Error) => void;
}

/**
 * The active segment plus the sealed ones, in FSN order. The producer
 * appends with {@link tryAppend}; ACKs trim fully-acked sealed segments;
 * rotation promotes a hot spare rebased to the next FSN. FSNs only grow.
 *
 * With a {@link RingJournal} (file mode) the orders the Java and Rust
 * clients use hold:
 * - rotation: the sealed segment's published frames are msynced, the new
 *   segment's header is durable, the manifest commits the new active bound,
 *   and only then is the new segment used;
 * - trim: the ACK watermark is written and synced (and the directory), the
 *   manifest's head moves past the trimmed segments, then they are released
 *   (the manager unlinks them and fsyncs the directory).
 */
export class SegmentRing implements SegmentSource {
  readonly control: ControlBlock;
  private readonly provider: SegmentProvider;
  private readonly onActivate: ((segment: MmapSegment) => void) | undefined;
  private readonly journal: RingJournal | undefined;
  private readonly onError: ((err: Error) => void) | undefined;
  /** The last acked FSN handed to the journal's recordAck. */
  private recordedAck = -1;
  private active: MmapSegment | null;
  private readonly sealed: MmapSegment[];
  /** FSN of the next frame; kept here too for when the active segment was dropped. */
  private next: number;
  private closed = false;

  constructor(options: SegmentRingOptions) {
    const segs = options.segments;
    this.provider = options.provider;
    this.onActivate = options.onActivate;
    this.journal = options.journal;
    this.onError = options.onError;
    this.control = options.control ?? new ControlBlock();
    for (let i = 1; i < segs.length; i++) {
      if (segs[i - 1]!.nextSeq !== segs[i]!.baseSeq) {
        throw new BadArgumentError(
          `segments ${segs[i - 1]!.path} and ${segs[i]!.path} are not FSN-contiguous`,
        );
      }
    }
    this.active = segs.length > 0 ? segs[segs.length - 1]! : null;
    this.sealed = segs.slice(0, -1);
    this.next = this.active !== null ? this.active.nextSeq : (options.nextFsn ?? 0);
    if (this.active !== null) this.provider.activated?.(this.active);
    const first = segs.length > 0 ? segs[0]!.baseSeq : this.next;
    // Frames below the oldest retained segment were trimmed, so they were acked.
    this.control.acknowledge(Math.min(Math.max(first - 1, options.ackedFsn ?? -1), this.next - 1));
    if (this.next - 1 > this.control.publishedFsn) this.control.publish(this.next - 1);
    this.recordedAck = this.control.ackedFsn;
  }

  /** FSN the next appended frame gets. */
  get nextFsn(): number {
    return this.next;
  }

  /** Oldest FSN still held (acked or not). Equals nextFsn when the ring holds no frame. */
  get firstFsn(): number {
    const oldest = this.sealed[0] ?? this.active;
    return oldest !== null ? oldest.baseSeq : this.next;
  }

  /** The FSN of the last published frame; -1 before the first. */
  get publishedFsn(): number {
    return this.next - 1;
  }

  /** The highest FSN the server acknowledged, as the control block holds it. */
  get ackedFsn(): number {
    return this.control.ackedFsn;
  }

  /** The segment appends go to; null only once closed (or when built from no segment). */
  get activeSegment(): MmapSegment | null {
    return this.active;
  }

  /** Sealed segments, oldest first (a copy). */
  get sealedSegments(): MmapSegment[] {
    return this.sealed.slice();
  }

  /** Largest payload a frame may have. */
  get maxPayload(): number {
    return maxPayloadOf(this.provider.segmentSize);
  }

  /**
   * Appends one frame and publishes it. Returns its FSN, or -1 when the
   * active segment is full and no spare can be had (backpressure: retry
   * after ACKs free space). Throws {@link FrameTooLargeError}, having
   * written nothing, when the payload can never fit a segment.
   */
  tryAppend(payload: Uint8Array): number {
    const a = this.active;
    if (a !== null && a.tryAppend(payload) >= 0) {
      const fsn = this.next++;
      this.control.publish(fsn);
      return fsn;
    }
    return this.appendAfterRotation(payload);
  }

  private appendAfterRotation(payload: Uint8Array): number {
    if (this.closed) throw new ClosedError('segment ring');
    if (payload.length > this.maxPayload) {
      throw new FrameTooLargeError(payload.length, this.maxPayload);
    }
    this.trim();
    if (!this.rotate()) return -1;
    const a = this.active!;
    if (a.tryAppend(payload) < 0) throw new FrameTooLargeError(payload.length, a.maxPayload);
    const fsn = this.next++;
    this.control.publish(fsn);
    return fsn;
  }

  /**
   * Seals the active segment and promotes a spare. When no spare can be had
   * and the active segment is fully acked, asks for a replacement beyond the
   * cap and then drops the old one (force-rotate), so a cap of a single
   * segment can never deadlock. The replacement is committed before the old
   * segment is released: a crash in between leaves both, never none, so
   * FSNs cannot restart at 0.
   */
  private rotate(): boolean {
    const old = this.active;
    let spare = this.provider.takeSpare(this.next);
    if (spare === null && old !== null && this.isAcked(old)) {
      spare = this.provider.takeReplacement(this.next, old);
    }
    if (spare === null) return false;
    const drop = old !== null && (old.frameCount === 0 || this.isAcked(old));
    const journal = this.journal;
    if (journal !== undefined) {
      try {
        // The sealed tail must reach the disk before anything naming a later
        // segment does, or an OS crash could leave an FSN gap (the slot would
        // not open). Sealed segments recovered from another writer are made
        // durable here too, once; ours already are (no syscall).
        for (const s of this.sealed) s.msync(true);
        if (!drop) old?.msync(true);
        if (drop && old !== null && old.frameCount > 0) journal.persistAck(this.control.ackedFsn);
        const oldest = this.sealed[0] ?? (drop ? null : old);
        journal.commitBounds(oldest !== null ? oldest.baseSeq : this.next, this.next);
      } catch (err) {
        this.provider.restore(spare);
        throw err;
      }
    }
    if (old !== null) {
      if (drop) this.provider.release(old);
      else this.sealed.push(old);
    }
    this.active = spare;
    this.provider.activated?.(spare);
    this.onActivate?.(spare);
    return true;
  }

  private isAcked(seg: MmapSegment): boolean {
    return seg.nextSeq - 1 <= this.control.ackedFsn;
  }

  /**
   * Records an ACK up to `fsn` (clamped to what was published) and trims.
   * Returns how many sealed segments were released. The acked word has a
   * single writer: when a worker acks through the {@link ControlBlock}, the
   * producer calls {@link trim} instead of this.
   */
  acknowledge(fsn: number): number {
    this.control.acknowledge(Math.min(fsn, this.next - 1));
    return this.trim();
  }

  /**
   * Records the shared acked FSN with the journal (cheap: no syscall), then
   * releases every sealed segment whose frames are all acked. With a
   * journal, a release is preceded by the durable ACK and the manifest's new
   * head; when either fails the trim is skipped (reported to `onError`, and
   * retried by the next call), so nothing is released that a crash could
   * still need. Returns how many segments were released.
   */
  trim(): number {
    const acked = this.control.ackedFsn;
    const journal = this.journal;
    if (journal !== undefined && acked > this.recordedAck) {
      journal.recordAck(acked);
      this.recordedAck = acked;
    }
    let n = 0;
    while (n < this.sealed.length && this.sealed[n]!.nextSeq - 1 <= acked) n++;
    if (n === 0) return 0;
    if (journal !== undefined) {
      try {
        journal.persistAck(acked);
        const head = this.sealed[n]?.baseSeq ?? this.active?.baseSeq ?? this.next;
        journal.commitBounds(head, this.active?.baseSeq ?? this.next);
      } catch (err) {
        this.onError?.(err as Error);
        return 0;
      }
    }
    for (let i = 0; i < n; i++) this.provider.release(this.sealed[i]!);
    this.sealed.splice(0, n);
    return n;
  }

  /**
   * The segment holding `fsn`, or null when it was trimmed or not yet
   * written. A recovered sealed segment may be unmapped: call
   * `ensureMapped()` before reading its bytes.
   */
  findSegmentContaining(fsn: number): MmapSegment | null {
    if (fsn < this.firstFsn || fsn >= this.next) return null;
    const a = this.active;
    if (a !== null && fsn >= a.baseSeq) return a;
    let lo = 0;
    let hi = this.sealed.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.sealed[mid]!;
      if (fsn < s.baseSeq) hi = mid - 1;
      else if (fsn >= s.nextSeq) lo = mid + 1;
      else return s;
    }
    return null;
  }

  /**
   * FSN of the newest frame whose payload does NOT satisfy `matches`; every
   * retained frame above it does. When every retained frame matches (or
   * none is held) it is `firstFsn - 1`. With {@link isQwpDeferCommit} this
   * finds the commit boundary under an aborted DEFER_COMMIT group left by a
   * producer that died mid-group: frames above it must never be sent. Walks
   * segments newest first and stops at the first one that has such a frame.
   * Recovery-time, producer thread (not synchronized with appends).
   */
  lastFsnNotMatching(matches: FramePredicate): number {
    const segs = this.segments();
    for (let k = segs.length - 1; k >= 0; k--) {
      const seg = segs[k]!;
      seg.ensureMapped();
      const bytes = seg.bytes;
      const view = seg.view;
      let found = -1;
      let off = SEGMENT_HEADER_SIZE;
      for (let i = 0; i < seg.frameCount; i++) {
        const len = view.getUint32(off + 4, true);
        if (!matches(bytes, off + FRAME_HEADER_SIZE, len)) found = i;
        off += FRAME_HEADER_SIZE + len;
      }
      if (found >= 0) return seg.baseSeq + found;
    }
    return this.firstFsn - 1;
  }

  /** A reader over this ring starting at `fromFsn` (default: the first un-acked frame). */
  reader(fromFsn = this.control.ackedFsn + 1): FrameReader {
    return new FrameReader(this, this.control, fromFsn);
  }

  /** @internal SegmentSource: the segment with the greatest baseSeq <= fsn. */
  segmentFor(fsn: number): SegmentView | null {
    const s = this.findSegmentContaining(fsn);
    s?.ensureMapped();
    return s;
  }

  /** @internal SegmentSource. */
  segmentStartingAt(baseSeq: number): SegmentView | null {
    const s = this.findSegmentContaining(baseSeq);
    if (s === null || s.baseSeq !== baseSeq) return null;
    s.ensureMapped();
    return s;
  }

  /** @internal SegmentSource: the ring knows every segment, so a frame it lacks where one must be is corrupt. */
  mustHold(_segment: SegmentView, _fsn: number): boolean {
    return true;
  }

  /** @internal SegmentSource: the ring owns its segments' lifetimes. */
  done(_segment: SegmentView): void {}

  /** Every segment the ring holds, oldest first (the active one last). */
  segments(): MmapSegment[] {
    return this.active !== null ? [...this.sealed, this.active] : this.sealed.slice();
  }

  /**
   * Makes every published frame durable (sf durability "flush", and the
   * periodic timer): what the frames depend on first (the journal's
   * `beforeSync`: the symbol dictionary), then each segment from the oldest,
   * msyncing only what is not yet on disk, so a crash part-way leaves a
   * durable prefix of the FSNs, never a gap. Segments sealed by this ring
   * are durable already (rotation syncs them), so this is normally one
   * msync of the active segment's new frames.
   */
  msync(sync = true): void {
    if (this.closed) return;
    this.journal?.beforeSync();
    for (const s of this.sealed) s.msync(sync);
    this.active?.msync(sync);
  }

  /** Closes (unmaps) every segment without deleting any file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const closes = this.segments().map((s) => () => s.close());
    this.sealed.length = 0;
    this.active = null;
    runAll(closes);
  }
}
