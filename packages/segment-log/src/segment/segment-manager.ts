import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { BadArgumentError, errnoOf, reasonOf, SegmentIoError } from '../errors.js';
import { syncDirectory } from '../file-io.js';
import { DEFAULT_SEGMENT_SIZE, SEGMENT_SUFFIX, segmentFileName } from '../format.js';
import { checkSegmentSize, MmapSegment } from './mmap-segment.js';

/** What the ring needs from whoever owns segment files. */
export interface SegmentProvider {
  /** Size of every segment it hands out. */
  readonly segmentSize: number;
  /**
   * A fresh, empty segment rebased to `baseSeq` under its final name, or
   * null when none can be had now (the byte cap is reached or creation
   * failed): the producer sees backpressure.
   */
  takeSpare(baseSeq: number): MmapSegment | null;
  /**
   * Like {@link takeSpare}, for a force-rotate: `replacing` (fully acked) is
   * about to be released, so a spare is made even when the cap is reached
   * (the slot holds one segment more until the old one is deleted). The new segment is in place under its final name before this
   * returns, so the next FSN survives a crash before `replacing` is deleted.
   */
  takeReplacement(baseSeq: number, replacing: MmapSegment): MmapSegment | null;
  /** The ring no longer needs `segment` (fully acked): close it and delete it off the producer's path. */
  release(segment: MmapSegment): void;
}

/** Options of {@link SegmentManager}. */
export interface SegmentManagerOptions {
  /** Slot directory for segment files; omit for memory mode (SharedArrayBuffer segments). */
  dir?: string;
  /** Bytes per segment (default 4 MiB). */
  segmentSize?: number;
  /** sf_max_total_bytes: cap on the bytes of every segment this manager owns. Default unlimited. */
  maxTotalBytes?: number;
  files?: FilesFacade;
  /**
   * When no spare is ready at rotation, make one on the producer's call
   * instead of reporting backpressure (that one rotation pays the
   * syscalls). Default true.
   */
  inlineProvision?: boolean;
  /** Run {@link SegmentManager.service} on setImmediate after a take or release. Default true. */
  autoService?: boolean;
  /** Called with every error a background service step hits (it is also kept in `lastError`). */
  onError?: (err: Error) => void;
  /**
   * Bytes of the slot's other files that count against `maxTotalBytes`
   * (openSlot passes the `.symbol-dict` length). Read at every cap check.
   */
  extraBytes?: () => number;
}

/**
 * Owns a slot's segment files: keeps one hot spare ready (fallocate'd, so a
 * full disk is a clean error at spare time, never a SIGBUS), unlinks
 * released segments, and refuses spares beyond `maxTotalBytes` — counting
 * every file it owns, including ones whose unlink failed — so the producer
 * sees backpressure instead of an unbounded directory. In memory mode it
 * frees instead of unlinking.
 */
export class SegmentManager implements SegmentProvider {
  readonly segmentSize: number;
  readonly maxTotalBytes: number;
  readonly dir: string | undefined;
  /** The last error a service step or an inline provision hit; cleared by the next success. */
  lastError: Error | undefined;
  private readonly files: FilesFacade;
  private readonly inlineProvision: boolean;
  private readonly autoService: boolean;
  private readonly onError: ((err: Error) => void) | undefined;
  private readonly extraBytes: () => number;
  /** A force-rotate waits for a spare that service must make even past the cap. */
  private replacementWanted = false;
  /** Unlinks happened since the last directory fsync. */
  private dirDirty = false;
  private spare: MmapSegment | null = null;
  private readonly pending: MmapSegment[] = [];
  private owned = 0;
  private spareCounter = 0;
  private scheduled = false;
  private closed = false;

  constructor(options: SegmentManagerOptions = {}) {
    this.dir = options.dir;
    this.segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.maxTotalBytes = options.maxTotalBytes ?? Number.POSITIVE_INFINITY;
    this.files = options.files ?? defaultFiles;
    this.inlineProvision = options.inlineProvision ?? true;
    this.autoService = options.autoService ?? true;
    this.onError = options.onError;
    this.extraBytes = options.extraBytes ?? (() => 0);
    // Checked here, not at the first spare: a bad size would otherwise surface
    // only as endless backpressure with the error in `lastError`.
    checkSegmentSize(this.segmentSize);
    if (!(this.maxTotalBytes >= this.segmentSize)) {
      throw new BadArgumentError(
        `sf_max_total_bytes ${this.maxTotalBytes} is smaller than one ${this.segmentSize}-byte segment`,
      );
    }
  }

  /** Bytes of every segment this manager owns: in the ring, the spare, and not yet unlinked. */
  get ownedBytes(): number {
    return this.owned;
  }

  /** Bytes counted against `maxTotalBytes`: {@link ownedBytes} plus the slot's other files (the dictionary). */
  get totalBytes(): number {
    return this.owned + this.extraBytes();
  }

  /** True while unlinks wait for the directory fsync of the next service pass. */
  get directorySyncPending(): boolean {
    return this.dirDirty;
  }

  /** Segments released but not yet deleted (an unlink failed or service has not run). */
  get pendingReleases(): number {
    return this.pending.length;
  }

  get hasSpare(): boolean {
    return this.spare !== null;
  }

  /** Counts a recovered segment (opened by recovery) as owned. */
  adopt(segment: MmapSegment): void {
    this.owned += segment.sizeBytes;
  }

  /** Creates the first segment of an empty slot, named for `baseSeq`. Throws on failure. */
  createFirst(baseSeq: number): MmapSegment {
    this.reclaim();
    // Only segments count here: a slot needs one segment to work at all, so the
    // few bytes of `.lock` and `.symbol-dict` never block the first one (under a
    // cap of exactly one segment, the ring then moves on by force-rotates).
    if (this.owned + this.segmentSize > this.maxTotalBytes) {
      throw new BadArgumentError(
        `cannot create the first segment: ${this.owned} bytes already owned, cap ${this.maxTotalBytes}`,
      );
    }
    // Made under a spare name and renamed once complete, so a crash mid-create
    // leaves a droppable spare, never a half-written canonical segment.
    const seg = this.make(baseSeq);
    this.owned += seg.sizeBytes;
    try {
      if (this.dir !== undefined) {
        seg.renameTo(this.pathFor(baseSeq));
        syncDirectory(this.files, this.dir);
      }
    } catch (err) {
      this.pending.push(seg);
      this.reclaim();
      throw err;
    }
    seg.prefault();
    return seg;
  }

  takeSpare(baseSeq: number): MmapSegment | null {
    let seg = this.spare;
    if (seg === null && this.inlineProvision) {
      this.reclaim();
      this.provision();
      seg = this.spare;
    }
    if (seg === null) {
      this.schedule();
      return null;
    }
    return this.promote(seg, baseSeq);
  }

  takeReplacement(baseSeq: number, _replacing: MmapSegment): MmapSegment | null {
    // Swapping one segment for another never grows the slot for long, so the
    // cap (which the dictionary may have filled) cannot block it: no deadlock.
    if (this.spare === null && this.inlineProvision) {
      this.reclaim();
      this.provision(true);
    } else if (this.spare === null) {
      this.replacementWanted = true; // the next service pass makes it, past the cap
    }
    const seg = this.spare;
    if (seg === null) {
      this.schedule();
      return null;
    }
    return this.promote(seg, baseSeq);
  }

  /**
   * Rebases the spare and renames it to its final name, then fsyncs the
   * directory right away (one rotation in thousands of appends pays it): a
   * segment holding frames must never be found under a spare name after an
   * OS crash. A failed directory fsync does not undo the promotion (the
   * rename happened); it is reported and retried by the next service pass.
   */
  private promote(seg: MmapSegment, baseSeq: number): MmapSegment {
    seg.rebaseSeq(baseSeq);
    if (this.dir !== undefined) {
      seg.renameTo(this.pathFor(baseSeq));
      this.dirDirty = true;
      this.syncDirIfDirty();
    }
    this.spare = null;
    this.schedule();
    return seg;
  }

  release(segment: MmapSegment): void {
    this.pending.push(segment);
    this.schedule();
  }

  /**
   * One maintenance pass: closes and deletes released segments (a failed
   * unlink stays pending and counted, and is retried next pass), then makes
   * a spare if there is none and the cap allows. Never throws: errors go to
   * `lastError` and `onError`.
   */
  service(): void {
    this.scheduled = false;
    if (this.closed) return;
    this.reclaim();
    this.syncDirIfDirty();
    this.provision(this.replacementWanted);
  }

  /** Runs {@link service} every `intervalMs` on an unref'd timer; returns a stop function. */
  startTimer(intervalMs = 50): () => void {
    const t = setInterval(() => this.service(), intervalMs);
    t.unref();
    return () => clearInterval(t);
  }

  /** Deletes the spare and retries every pending release once; throws the last failure if any remain. */
  close(): void {
    if (this.closed) return;
    this.reclaim();
    const spare = this.spare;
    this.spare = null;
    if (spare !== null && this.delete(spare)) this.owned -= spare.sizeBytes;
    this.closed = true;
    if (this.pending.length > 0 && this.lastError !== undefined) throw this.lastError;
    if (!this.syncDirIfDirty()) throw this.lastError;
  }

  private pathFor(baseSeq: number): string {
    return `${this.dir}/${segmentFileName(baseSeq)}`;
  }

  /** A new segment: in memory, or a file under a spare name (renamed when it takes its place). */
  private make(baseSeq: number): MmapSegment {
    if (this.dir === undefined) return MmapSegment.createInMemory(baseSeq, this.segmentSize);
    return MmapSegment.create(this.sparePath(this.dir), baseSeq, this.segmentSize, {
      files: this.files,
    });
  }

  /** A free spare file name; a spare's name carries no FSN, it gets its final name at promotion. */
  private sparePath(dir: string): string {
    for (;;) {
      const path = `${dir}/spare-${process.pid}-${this.spareCounter++}${SEGMENT_SUFFIX}`;
      try {
        this.files.stat(path);
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return path; // free
        throw new SegmentIoError(`cannot check spare name ${path}: ${reasonOf(err)}`, path, err);
      }
    }
  }

  /** Makes a spare if there is none and the cap allows (or regardless, for a force-rotate's replacement). */
  private provision(replacement = false): void {
    if (this.spare !== null || this.closed) return;
    if (!replacement && this.totalBytes + this.segmentSize > this.maxTotalBytes) return;
    try {
      const spare = this.make(0);
      this.owned += this.segmentSize;
      spare.prefault();
      this.spare = spare;
      this.replacementWanted = false;
      this.lastError = undefined;
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Deletes released segments oldest first and stops at the first failure:
   * deleting a newer file while an older one stays would leave an FSN gap
   * that recovery must (rightly) refuse.
   */
  private reclaim(): void {
    const pending = this.pending;
    if (pending.length > 1) pending.sort((a, b) => a.baseSeq - b.baseSeq);
    let done = 0;
    while (done < pending.length && this.delete(pending[done]!)) {
      this.owned -= pending[done]!.sizeBytes;
      done++;
    }
    if (done > 0) {
      pending.splice(0, done);
      // The directory fsync that makes these unlinks durable is batched into the next service pass.
      if (this.dir !== undefined) this.dirDirty = true;
    }
  }

  /** fsyncs the slot directory when a rename or unlink is not yet durable; false (reported) on failure. */
  private syncDirIfDirty(): boolean {
    if (!this.dirDirty || this.dir === undefined) return true;
    try {
      syncDirectory(this.files, this.dir);
      this.dirDirty = false;
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  private delete(seg: MmapSegment): boolean {
    try {
      seg.close();
    } catch (err) {
      this.fail(err); // the mapping is gone or will be at GC; deleting the file is still right
    }
    if (seg.inMemory) return true;
    try {
      this.files.unlink(seg.path);
      return true;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return true;
      this.fail(
        new SegmentIoError(`cannot delete segment ${seg.path}: ${reasonOf(err)}`, seg.path, err),
      );
      return false;
    }
  }

  private fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.lastError = e;
    this.onError?.(e);
  }

  private schedule(): void {
    if (!this.autoService || this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.service());
  }
}
