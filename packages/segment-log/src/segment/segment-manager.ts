import { close as closeAsync, fdatasync as fdatasyncAsync, open as openAsync } from 'node:fs';
import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { BadArgumentError, errnoOf, reasonOf, SegmentIoError } from '../errors.js';
import { syncDirectory } from '../file-io.js';
import { DEFAULT_SEGMENT_SIZE, segmentFileName } from '../format.js';
import { checkSegmentSize, MmapSegment } from './mmap-segment.js';

/** What the ring needs from whoever owns segment files. */
export interface SegmentProvider {
  /** Size of every segment it hands out. */
  readonly segmentSize: number;
  /**
   * A fresh, empty segment re-stamped to `baseSeq` (header durable), or
   * null when none can be had now (the byte cap is reached or creation
   * failed): the producer sees backpressure.
   */
  takeSpare(baseSeq: number): MmapSegment | null;
  /**
   * Like {@link takeSpare}, for a force-rotate: `replacing` (fully acked) is
   * about to be released, so a spare is made even when the cap is reached
   * (the slot holds one segment more until the old one is deleted).
   */
  takeReplacement(baseSeq: number, replacing: MmapSegment): MmapSegment | null;
  /** The ring no longer needs `segment` (fully acked): close it and delete it off the producer's path. */
  release(segment: MmapSegment): void;
  /** Takes back a spare the ring could not use (its rotation failed after the take). */
  restore(segment: MmapSegment): void;
  /** `segment` is now the one appends go to. */
  activated?(segment: MmapSegment): void;
}

/** Memory mode: released segment buffers kept for reuse. */
const RECYCLE_POOL = 8;

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
  /**
   * File mode: the generation the next segment file is named for
   * (`sf-<16 hex generation>.sfa`); openSlot passes one above every name in
   * the slot. Default 0.
   */
  generation?: number;
  /** File mode: header flags of new segments (see {@link SegmentManager.segmentFlags}). Default 0. */
  segmentFlags?: number;
  /**
   * The baseSeq a spare is made with until a rotation re-stamps it (the
   * references use the next FSN). Default: the last baseSeq handed out.
   */
  provisionalBase?: () => number;
  /**
   * File mode: once a quarter of a segment is published and not yet on disk,
   * a service pass starts an fdatasync of the active segment on a libuv
   * thread (node:fs, not `files`), so the msync a rotation must do before it
   * commits the next segment finds little left to write. Default: on with the
   * default facade, off with any other (a test's facade must see every sync).
   */
  flushAhead?: boolean;
}

/**
 * Owns a slot's segment files: keeps one hot spare ready (fallocate'd, so a
 * full disk is a clean error at spare time, never a SIGBUS), unlinks
 * released segments, and refuses spares beyond `maxTotalBytes` — counting
 * every file it owns, including ones whose unlink failed — so the producer
 * sees backpressure instead of an unbounded directory. In memory mode it
 * frees instead of unlinking.
 *
 * Files are named by generation (`sf-<16 hex>.sfa`), created with O_EXCL at
 * their final name with a provisional baseSeq, their header and directory
 * entry made durable at once; a rotation re-stamps the baseSeq and syncs the
 * header. A segment is never renamed: recovery reads FSNs from headers.
 */
export class SegmentManager implements SegmentProvider {
  readonly segmentSize: number;
  readonly maxTotalBytes: number;
  readonly dir: string | undefined;
  private flags: number;
  private lastFailure: Error | undefined;
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
  /** Memory mode: released segments' buffers, for the next spares (at most RECYCLE_POOL). */
  private readonly recycled: { buffer: SharedArrayBuffer; usedBytes: number }[] = [];
  private readonly pending: MmapSegment[] = [];
  private owned = 0;
  private generation: number;
  private lastBase = 0;
  private readonly provisionalBase: (() => number) | undefined;
  private readonly flushAheadOn: boolean;
  /** The segment appends go to (file mode), for flush-ahead. */
  private active: MmapSegment | null = null;
  private flushing = false;
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
    this.generation = options.generation ?? 0;
    this.flags = options.segmentFlags ?? 0;
    this.provisionalBase = options.provisionalBase;
    this.flushAheadOn =
      options.dir !== undefined && (options.flushAhead ?? this.files === defaultFiles);
    // Checked here, not at the first spare: a bad size would otherwise surface
    // only as endless backpressure with the error in `lastError`.
    checkSegmentSize(this.segmentSize);
    if (!(this.maxTotalBytes >= this.segmentSize)) {
      throw new BadArgumentError(
        `sf_max_total_bytes ${this.maxTotalBytes} is smaller than one ${this.segmentSize}-byte segment`,
      );
    }
  }

  /**
   * Header flags of segments made from now on: {@link SEGMENT_FLAG_MANIFEST_REQUIRED}
   * once the slot's manifest exists; see {@link setSegmentFlags}.
   */
  get segmentFlags(): number {
    return this.flags;
  }

  /** The last error a service step or an inline provision hit; cleared by the next success. */
  get lastError(): Error | undefined {
    return this.lastFailure;
  }

  /** Sets the header flags of segments made from now on (openSlot does, once the manifest exists). */
  setSegmentFlags(flags: number): void {
    this.flags = flags;
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

  /** True when a provisioned segment waits to become the next active one. */
  get hasSpare(): boolean {
    return this.spare !== null;
  }

  /** The generation the next segment file will be named for. */
  get nextGeneration(): number {
    return this.generation;
  }

  /** Names the next segment file for `generation` (recovery passes one above every name in the slot). */
  set nextGeneration(generation: number) {
    this.generation = generation;
  }

  /** Counts a recovered segment (opened by recovery) as owned. */
  adopt(segment: MmapSegment): void {
    this.owned += segment.sizeBytes;
  }

  /**
   * Creates the first segment of an empty slot at `baseSeq` (header and
   * directory entry durable, flags {@link segmentFlags}). Throws on failure.
   */
  createFirst(baseSeq: number): MmapSegment {
    this.reclaim();
    // Only segments count here: a slot needs one segment to work at all, so the
    // few bytes of `.lock.pid` and `.symbol-dict` never block the first one (under a
    // cap of exactly one segment, the ring then moves on by force-rotates).
    if (this.owned + this.segmentSize > this.maxTotalBytes) {
      throw new BadArgumentError(
        `cannot create the first segment: ${this.owned} bytes already owned, cap ${this.maxTotalBytes}`,
      );
    }
    const seg = this.make(baseSeq);
    this.owned += seg.sizeBytes;
    this.lastBase = baseSeq;
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
   * Re-stamps the spare for `baseSeq` and makes the header durable before
   * the ring can publish a frame in it (or commit it in the manifest).
   */
  private promote(seg: MmapSegment, baseSeq: number): MmapSegment {
    seg.rebaseSeq(baseSeq);
    seg.syncHeader();
    this.spare = null;
    this.lastBase = baseSeq;
    this.schedule();
    return seg;
  }

  release(segment: MmapSegment): void {
    this.pending.push(segment);
    this.schedule();
  }

  activated(segment: MmapSegment): void {
    this.active = segment;
  }

  restore(segment: MmapSegment): void {
    if (this.spare === null && !this.closed) this.spare = segment;
    else this.release(segment);
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
    this.flushAhead();
  }

  /** Starts writing the active segment's published frames back on a libuv thread (see `flushAhead`). */
  private flushAhead(): void {
    const seg = this.active;
    if (!this.flushAheadOn || this.flushing || seg === null || seg.isClosed) return;
    const upTo = seg.publishedOffset;
    if (upTo - seg.durableOffset < seg.sizeBytes / 4) return;
    this.flushing = true;
    const path = seg.path;
    const done = (err: NodeJS.ErrnoException | null) => {
      this.flushing = false;
      // A segment trimmed and unlinked meanwhile needs no flush; anything else is reported
      // (the rotation's own msync still makes the frames durable, or fails loudly).
      if (err !== null && err.code !== 'ENOENT') {
        this.fail(new SegmentIoError(`cannot flush ${path} ahead: ${err.message}`, path, err));
      }
    };
    openAsync(path, 'r', (openErr, fd) => {
      if (openErr !== null) return done(openErr);
      fdatasyncAsync(fd, (syncErr) => {
        if (syncErr === null) seg.noteDurable(upTo);
        closeAsync(fd, (closeErr) => done(syncErr ?? closeErr));
      });
    });
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
    if (this.pending.length > 0 && this.lastFailure !== undefined) throw this.lastFailure;
    if (!this.syncDirIfDirty()) throw this.lastFailure;
  }

  /**
   * A new segment: in memory, or a file created exclusively under the next
   * generation's name, its header and directory entry durable before it is
   * returned (a crash never leaves a name pointing at a half-written header).
   */
  private make(baseSeq: number): MmapSegment {
    if (this.dir === undefined) {
      return MmapSegment.createInMemory(baseSeq, this.segmentSize, undefined, this.recycled.pop());
    }
    for (let attempt = 0; ; attempt++) {
      const path = `${this.dir}/${segmentFileName(this.generation++)}`;
      let seg: MmapSegment;
      try {
        seg = MmapSegment.create(path, baseSeq, this.segmentSize, {
          files: this.files,
          flags: this.flags,
        });
      } catch (err) {
        // Someone else's file under that generation (a copied-in slot): try the next.
        if (errnoOf((err as Error).cause) === 'EEXIST' && attempt < 16) continue;
        throw err;
      }
      try {
        seg.syncHeader();
        syncDirectory(this.files, this.dir);
      } catch (err) {
        this.pending.push(seg);
        this.owned += seg.sizeBytes;
        throw err;
      }
      return seg;
    }
  }

  /** Makes a spare if there is none and the cap allows (or regardless, for a force-rotate's replacement). */
  private provision(replacement = false): void {
    if (this.spare !== null || this.closed) return;
    if (!replacement && this.totalBytes + this.segmentSize > this.maxTotalBytes) return;
    try {
      const spare = this.make(this.provisionalBase?.() ?? this.lastBase);
      this.owned += this.segmentSize;
      spare.prefault();
      this.spare = spare;
      this.replacementWanted = false;
      this.lastFailure = undefined;
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
    if (seg.inMemory) {
      // Kept for the next spare: a fresh 4 MiB SharedArrayBuffer per rotation costs
      // its page faults again, and released ones wait for a GC the small heap rarely
      // runs, so RSS grew with every segment written.
      // One ACK can release several segments at once (the columnar API fills them
      // fast), so a few are kept, not one; with what the ring holds they stay
      // within the cap (`owned` still counts this segment here).
      if (
        this.recycled.length < RECYCLE_POOL &&
        this.owned + this.recycled.length * this.segmentSize <= this.maxTotalBytes &&
        !this.closed &&
        seg.sizeBytes === this.segmentSize
      ) {
        this.recycled.push({
          buffer: seg.buffer as SharedArrayBuffer,
          usedBytes: seg.publishedOffset,
        });
      }
      return true;
    }
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
    this.lastFailure = e;
    this.onError?.(e);
  }

  private schedule(): void {
    if (!this.autoService || this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.service());
  }
}
