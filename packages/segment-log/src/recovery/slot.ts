/**
 * An open slot: the ring to append to, its manager, dictionary, lock and
 * slot files, the ACK API, and close in the references' orders.
 */
import type { FilesFacade } from '@qwp/files-native';
import type { PersistedSymbolDict } from '../dictionary/symbol-dict.js';
import { runAll } from '../errors.js';
import { syncDirectory } from '../file-io.js';
import type { SegmentManager } from '../segment/segment-manager.js';
import type { RingJournal, SegmentRing } from '../segment/segment-ring.js';
import type { AckWatermark } from '../slot-files/ack-watermark.js';
import type { SfManifest } from '../slot-files/manifest.js';
import type { SlotLock } from '../slot-files/slot-lock.js';
import { cleanupDrainedSlot } from './drained-close.js';

/** What recovery found in a slot and did to it. */
export interface RecoveryReport {
  slotDir: string;
  /** Segments kept, oldest first (after an aborted tail was cut). */
  segments: {
    file: string;
    baseSeq: number;
    frames: number;
    tornTailBytes: number;
    /** Header flags (bit 0 MANIFEST_REQUIRED), after recovery stamped them. */
    flags: number;
  }[];
  frames: number;
  /** First FSN held, or -1 when no frame is held. */
  firstFsn: number;
  /** Last FSN held, or -1 when no frame is held. */
  lastFsn: number;
  /**
   * The acknowledged FSN the slot starts from, `max(lowestBase - 1,
   * watermark)` (-1 when none): also `ring.control.ackedFsn`. A restart
   * replays only the frames above it.
   */
  ackedFsn: number;
  /** The persisted `.ack-watermark` value found, or null when absent or unusable. */
  watermark: number | null;
  /** Why the watermark found was not used as it was (unusable and reset, or ahead of the data and repaired); null when it was. */
  watermarkProblem: string | null;
  /** The manifest's bounds after recovery. */
  manifest: { headBase: number; activeBase: number };
  /** No segment survived: the slot was started fresh (FSNs from 0). */
  freshStart: boolean;
  /** A slot without a manifest was migrated: manifest created, segments flagged (one way). */
  migratedLegacy: boolean;
  /** Sum of the torn tails cut from every segment. */
  tornTailBytes: number;
  /** Segment files without frames that were deleted (leftover spares, superseded segments). */
  droppedEmpty: string[];
  /** Segments below the manifest's head (acknowledged; their unlink did not survive a crash) that were deleted. */
  droppedAcknowledged: string[];
  /** Leftovers whose unlink failed (harmless; retried at the next open; also sent to onError). */
  undeletable: string[];
  /** Files renamed to `<name>.corrupt`: segments with a bad header, empty ones with a torn tail, an unusable manifest. */
  quarantined: string[];
  /** Sealed segments whose torn residue after their last frame was zeroed. */
  sanitizedResidue: string[];
  symbols: number;
  symbolDictTornTailBytes: number;
  /** Symbols the stored frames define that the dictionary had lost, rebuilt and appended to it. */
  rebuiltSymbols: number;
  /** Where an unusable `.symbol-dict` was moved before it was replaced; null when it was not. */
  dictionaryQuarantinedTo: string | null;
  /** The reason in the slot's `.failed` sentinel, or null when it is not marked failed. */
  failed: string | null;
  /**
   * FSN of the newest committing frame (the `uncommitted` predicate false)
   * found before any cut; -1 when no predicate was given or no frame commits.
   */
  commitBoundaryFsn: number;
  /**
   * The aborted group at the end of the log (frames matching `uncommitted`
   * after the last committing one), or null. `cutFrames` of them, those
   * above `ackedFsn`, were cut off the log: the next frame reuses their FSNs.
   */
  abortedTail: { fromFsn: number; toFsn: number; cutFrames: number } | null;
  /** The slot could not be replayed and was moved aside (see `quarantineUnreplayable`); null otherwise. */
  quarantinedSlot: { path: string; reason: string } | null;
}

/** An open, locked slot. */
export interface Slot {
  readonly dir: string;
  readonly lock: SlotLock;
  readonly ring: SegmentRing;
  readonly manager: SegmentManager;
  readonly dict: PersistedSymbolDict;
  readonly manifest: SfManifest;
  readonly watermark: AckWatermark;
  readonly report: RecoveryReport;
  /**
   * The producer thread's ACK call. With `fsn`, records an ACK up to it
   * (clamped to what was published) in the control block; without, takes
   * the control block's acked FSN (what an I/O worker advanced). Then
   * writes it to `.ack-watermark` through the mapping (no syscall) and trims
   * fully acknowledged segments in the references' order (watermark synced,
   * directory fsynced, manifest head advanced, segments released; their
   * unlink runs in the manager's service). A call that trims nothing costs
   * a CRC of 60 bytes and a few stores; a trim costs an msync and three
   * fsyncs. Returns the number of segments trimmed.
   */
  acknowledge(fsn?: number): number;
  /**
   * Closes everything and releases the lock. When everything published is
   * acknowledged (a fully drained close), the slot is cleaned up as the
   * references do and keeps only `.lock` and `.lock.pid`; otherwise the
   * watermark records the acked FSN and every file stays for the next open.
   */
  close(): void;
}

/** The journal of a file-mode ring: the watermark, the manifest and the dictionary, in the references' orders. */
export class SlotJournal implements RingJournal {
  constructor(
    private readonly dir: string,
    private readonly files: FilesFacade,
    private readonly watermark: AckWatermark,
    private readonly manifest: SfManifest,
    private readonly dict: () => PersistedSymbolDict | undefined,
    /** Another thread writes the ACK records (see OpenSlotOptions.ackWrittenElsewhere): only sync them. */
    private readonly ackWrittenElsewhere = false,
  ) {}

  recordAck(ackedFsn: number): void {
    if (!this.ackWrittenElsewhere) this.watermark.write(ackedFsn);
  }

  persistAck(ackedFsn: number): void {
    // The trimmed frames may be the only durable record of symbols whose
    // chunks are still in the page cache: those chunks go to disk first.
    const dict = this.dict();
    if (dict?.needsSync) dict.fsync();
    // The other writer recorded at least `ackedFsn` before publishing it; and
    // even a lower record is safe once segments go: recovery seeds from the
    // segment floor. So one writer stays one writer.
    if (!this.ackWrittenElsewhere && this.watermark.ackedFsn !== ackedFsn) {
      this.watermark.write(ackedFsn);
    }
    this.watermark.sync();
    syncDirectory(this.files, this.dir);
  }

  commitBounds(headBase: number, activeBase: number): void {
    this.manifest.update(headBase, activeBase);
  }

  beforeSync(): void {
    const dict = this.dict();
    if (dict?.needsSync) dict.fsync();
  }
}

/** The parts {@link OpenSlotImpl} owns. */
export interface SlotParts {
  dir: string;
  files: FilesFacade;
  lock: SlotLock;
  ring: SegmentRing;
  manager: SegmentManager;
  dict: PersistedSymbolDict;
  manifest: SfManifest;
  watermark: AckWatermark;
  report: RecoveryReport;
}

export class OpenSlotImpl implements Slot {
  readonly dir: string;
  readonly lock: SlotLock;
  readonly ring: SegmentRing;
  readonly manager: SegmentManager;
  readonly dict: PersistedSymbolDict;
  readonly manifest: SfManifest;
  readonly watermark: AckWatermark;
  readonly report: RecoveryReport;
  private readonly files: FilesFacade;
  private closed = false;

  constructor(parts: SlotParts) {
    this.dir = parts.dir;
    this.files = parts.files;
    this.lock = parts.lock;
    this.ring = parts.ring;
    this.manager = parts.manager;
    this.dict = parts.dict;
    this.manifest = parts.manifest;
    this.watermark = parts.watermark;
    this.report = parts.report;
  }

  acknowledge(fsn?: number): number {
    return fsn === undefined ? this.ring.trim() : this.ring.acknowledge(fsn);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { ring, watermark, files, dir } = this;
    const acked = ring.control.ackedFsn;
    let drained = acked >= ring.publishedFsn;
    const steps: (() => void)[] = [];
    steps.push(() => {
      // Whoever else wrote records has stopped by now: continue their generations.
      watermark.refresh();
      if (watermark.ackedFsn !== acked) watermark.write(acked);
      if (drained) {
        // The final ACK is durable before any file it covers goes.
        try {
          watermark.sync();
          syncDirectory(files, dir);
        } catch (err) {
          drained = false;
          throw err;
        }
      }
    });
    steps.push(
      () => ring.close(),
      () => this.manager.close(),
      () => this.dict.close(),
      () => watermark.close(),
      () => {
        if (drained) cleanupDrainedSlot(dir, this.manifest, files);
      },
      () => this.manifest.close(),
      () => this.lock.close(),
    );
    runAll(steps);
  }
}
