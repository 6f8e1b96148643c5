import { type ControlBlock, type MmapSegment, SegmentManager, SegmentRing } from '@qwp/segment-log';
import type { SegmentAnnouncement } from '../shared/messages.js';

/**
 * Where published frames live until the server acknowledges them: shared
 * memory (memory mode) or a store-and-forward slot on disk. Producer thread
 * only; the I/O worker reads the same segments through announcements.
 */
export interface FrameStore {
  readonly mode: 'memory' | 'sf';
  /** Published / acked FSNs shared with the worker. */
  readonly control: ControlBlock;
  /** Largest frame a segment holds. */
  readonly maxPayload: number;
  /** FSN the next frame gets. */
  readonly nextFsn: number;
  /** FSN of the last frame that commits (has no DEFER_COMMIT) recovered from disk, -1 when none. */
  readonly recoveredCommitFsn: number;
  /** Symbols of the recovered dictionary, in id order (empty in memory mode). */
  readonly recoveredSymbols: readonly string[];
  /** Bytes the store holds (segments, and on disk the dictionary and lock). */
  readonly totalBytes: number;
  /** SF mode: the slot directory, whose `.ack-watermark` the worker writes; undefined in memory mode. */
  readonly dir: string | undefined;
  /** What opening the store found worth reporting (a quarantined slot). */
  readonly notices: readonly Error[];
  /**
   * Persists the symbol entries a frame introduces (`count` `[len][utf8]`
   * entries filling `entries`), before the frame is appended. Memory mode:
   * nothing to do.
   */
  persistSymbols(entries: Uint8Array, count: number): void;
  /** Appends a frame; its FSN, or -1 when there is no room (backpressure). */
  tryAppend(frame: Uint8Array): number;
  /** Every segment the store holds, oldest first, for a worker that starts now. */
  announceAll(): SegmentAnnouncement[];
  /** The active segment when it changed since the last call (the worker must learn of it), else null. */
  takeNewSegment(): SegmentAnnouncement | null;
  /** Releases what the worker has acknowledged (and persists the ACK); cheap when nothing moved. */
  maintain(): void;
  /** Makes every published frame durable (msync); no-op in memory mode. */
  sync(): void;
  /** Releases everything (unmaps, unlocks); frames not acknowledged stay on disk in SF mode. */
  close(): void;
}

/** Announces a segment to the worker. */
export function announcementOf(segment: MmapSegment): SegmentAnnouncement {
  return segment.inMemory
    ? {
        baseSeq: segment.baseSeq,
        sizeBytes: segment.sizeBytes,
        buffer: segment.buffer as SharedArrayBuffer,
      }
    : { baseSeq: segment.baseSeq, sizeBytes: segment.sizeBytes, path: segment.path };
}

/** Tracks which active segment the worker has been told about. */
export class ActiveSegmentWatch {
  private announced: MmapSegment | null;

  constructor(private readonly ring: SegmentRing) {
    this.announced = ring.activeSegment;
  }

  take(): SegmentAnnouncement | null {
    const a = this.ring.activeSegment;
    if (a === this.announced || a === null) return null;
    this.announced = a;
    return announcementOf(a);
  }
}

/** Memory mode: SharedArrayBuffer segments capped by `sf_max_total_bytes`; no file, no addon. */
export class MemoryFrameStore implements FrameStore {
  readonly mode = 'memory' as const;
  readonly recoveredCommitFsn = -1;
  readonly recoveredSymbols: readonly string[] = [];
  readonly notices: readonly Error[] = [];
  readonly dir = undefined;
  private readonly manager: SegmentManager;
  private readonly ring: SegmentRing;
  private readonly watch: ActiveSegmentWatch;

  constructor(segmentSize: number, maxTotalBytes: number, onError: (err: Error) => void) {
    this.manager = new SegmentManager({ segmentSize, maxTotalBytes, onError });
    this.ring = new SegmentRing({
      segments: [this.manager.createFirst(0)],
      provider: this.manager,
    });
    this.watch = new ActiveSegmentWatch(this.ring);
  }

  get control(): ControlBlock {
    return this.ring.control;
  }

  get maxPayload(): number {
    return this.ring.maxPayload;
  }

  get nextFsn(): number {
    return this.ring.nextFsn;
  }

  get totalBytes(): number {
    return this.manager.totalBytes;
  }

  persistSymbols(_entries: Uint8Array, _count: number): void {}

  tryAppend(frame: Uint8Array): number {
    return this.ring.tryAppend(frame);
  }

  announceAll(): SegmentAnnouncement[] {
    return this.ring.segments().map(announcementOf);
  }

  takeNewSegment(): SegmentAnnouncement | null {
    return this.watch.take();
  }

  maintain(): void {
    this.ring.trim();
  }

  sync(): void {}

  close(): void {
    try {
      this.ring.close();
    } finally {
      this.manager.close();
    }
  }
}
