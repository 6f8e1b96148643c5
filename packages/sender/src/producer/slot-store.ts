import type { FilesFacade } from '@qwp/files-native';
import { type ControlBlock, openSlot, type Slot } from '@qwp/segment-log';
import { SlotQuarantinedError } from '../errors.js';
import type { SegmentAnnouncement } from '../shared/messages.js';
import { ActiveSegmentWatch, announcementOf, type FrameStore } from './frame-store.js';

/** Options of {@link SlotFrameStore}. */
export interface SlotStoreOptions {
  sfDir: string;
  senderId: string;
  segmentSize: number;
  maxTotalBytes: number;
  onError: (err: Error) => void;
  files?: FilesFacade;
}

/**
 * Store-and-forward mode: the slot `<sf_dir>/<sender_id>/` of mmap'd
 * segment files, recovered at open (frames above the persisted ACK are
 * replayed), with the persisted symbol dictionary.
 */
export class SlotFrameStore implements FrameStore {
  readonly mode = 'sf' as const;
  readonly recoveredCommitFsn: number;
  readonly recoveredSymbols: readonly string[];
  readonly notices: readonly Error[];
  private readonly slot: Slot;
  private readonly watch: ActiveSegmentWatch;

  constructor(options: SlotStoreOptions) {
    this.slot = openSlot({
      sfDir: options.sfDir,
      senderId: options.senderId,
      segmentSize: options.segmentSize,
      maxTotalBytes: options.maxTotalBytes,
      files: options.files,
      onError: options.onError,
      // Frames are QWP messages: recovery cuts an aborted DEFER_COMMIT tail and
      // heals the dictionary from the frames' symbol deltas.
      qwp: true,
      // A slot that cannot be replayed is moved aside (kept, marked .failed)
      // and reported, as the Java client does, instead of stopping ingest.
      quarantineUnreplayable: true,
      // The I/O worker records each ACK in .ack-watermark as it arrives (see IoLoop).
      ackWrittenElsewhere: true,
    });
    this.recoveredSymbols = this.slot.dict.loadedSymbols;
    const moved = this.slot.report.quarantinedSlot;
    this.notices = moved === null ? [] : [new SlotQuarantinedError(moved.path, moved.reason)];
    // Every frame left above the acked FSN commits (recovery cut any aborted tail).
    this.recoveredCommitFsn = this.slot.ring.nextFsn - 1;
    this.watch = new ActiveSegmentWatch(this.slot.ring);
  }

  /** The slot directory (the worker maps its `.ack-watermark`). */
  get dir(): string {
    return this.slot.dir;
  }

  /** What recovery found in the slot. */
  get report(): Slot['report'] {
    return this.slot.report;
  }

  get control(): ControlBlock {
    return this.slot.ring.control;
  }

  get maxPayload(): number {
    return this.slot.ring.maxPayload;
  }

  get nextFsn(): number {
    return this.slot.ring.nextFsn;
  }

  get totalBytes(): number {
    return this.slot.manager.totalBytes;
  }

  persistSymbols(entries: Uint8Array, count: number): void {
    this.slot.dict.appendRawEntries(entries, count);
  }

  tryAppend(frame: Uint8Array): number {
    return this.slot.ring.tryAppend(frame);
  }

  announceAll(): SegmentAnnouncement[] {
    return this.slot.ring.segments().map(announcementOf);
  }

  takeNewSegment(): SegmentAnnouncement | null {
    return this.watch.take();
  }

  maintain(): void {
    // Persists the ACK the worker advanced (no syscall) and trims what it covers.
    this.slot.acknowledge();
  }

  sync(): void {
    this.slot.ring.msync();
  }

  close(): void {
    this.slot.close();
  }
}
