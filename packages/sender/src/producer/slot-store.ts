import type { FilesFacade } from '@qwp/files-native';
import { type ControlBlock, isQwpDeferCommit, openSlot, type Slot } from '@qwp/segment-log';
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
      uncommitted: isQwpDeferCommit,
    });
    const report = this.slot.report;
    this.recoveredSymbols = this.slot.dict.loadedSymbols;
    this.recoveredCommitFsn =
      report.abortedTail !== null ? report.abortedTail.fromFsn - 1 : report.lastFsn;
    this.watch = new ActiveSegmentWatch(this.slot.ring);
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
    this.slot.ring.trim();
  }

  sync(): void {
    this.slot.dict.fsync();
    this.slot.ring.msync(true);
  }

  close(): void {
    this.slot.close();
  }
}
