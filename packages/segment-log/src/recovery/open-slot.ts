import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { ControlBlock } from '../control-block.js';
import { PersistedSymbolDict } from '../dictionary/symbol-dict.js';
import {
  BadDirectoryError,
  errnoOf,
  FsnGapError,
  reasonOf,
  runAll,
  SegmentCorruptError,
  SegmentIoError,
} from '../errors.js';
import { openFile, sizeOf, useThenClose } from '../file-io.js';
import {
  DEFAULT_SEGMENT_SIZE,
  DICT_FILE_NAME,
  parseSegmentFileName,
  SEGMENT_HEADER_SIZE,
  SEGMENT_SUFFIX,
} from '../format.js';
import type { FramePredicate } from '../qwp-frame.js';
import { MmapSegment } from '../segment/mmap-segment.js';
import { SegmentManager, type SegmentManagerOptions } from '../segment/segment-manager.js';
import { SegmentRing } from '../segment/segment-ring.js';
import { hasNonZeroFrom } from '../segment/segment-scan.js';
import { slotFailureForReport } from '../slot-files/slot-failure.js';
import { ensureDirectory, SlotLock, slotDirectory } from '../slot-files/slot-lock.js';

/** What recovery found in a slot. */
export interface RecoveryReport {
  slotDir: string;
  /** Segments kept, oldest first. */
  segments: { file: string; baseSeq: number; frames: number; tornTailBytes: number }[];
  frames: number;
  /** First FSN held, or -1 when no frame is held. */
  firstFsn: number;
  /** Last FSN held, or -1 when no frame is held. */
  lastFsn: number;
  /** Sum of the torn tails cut from every segment. */
  tornTailBytes: number;
  /** Empty leftover spares (and empty superseded segments) that were deleted. */
  droppedEmpty: string[];
  /** Empty leftovers whose unlink failed (harmless; retried at the next open; also sent to onError). */
  undeletable: string[];
  symbols: number;
  symbolDictTornTailBytes: number;
  /** The reason in the slot's `.failed` sentinel, or null when it is not marked failed. */
  failed: string | null;
  /**
   * The trailing frames that all satisfy `OpenSlotOptions.uncommitted` (an
   * aborted DEFER_COMMIT group): never to be sent, retired once everything
   * below `fromFsn` is acked. Null when there is none or no predicate was given.
   */
  abortedTail: { fromFsn: number; toFsn: number } | null;
}

/**
 * Options of {@link openSlot}; `maxTotalBytes`, `files`, `inlineProvision`
 * and `autoService` are passed to the slot's {@link SegmentManager}.
 */
export interface OpenSlotOptions
  extends Pick<
    SegmentManagerOptions,
    'maxTotalBytes' | 'files' | 'inlineProvision' | 'autoService'
  > {
  /** sf_dir; the slot is `<sfDir>/<senderId>`. */
  sfDir: string;
  /** sender_id, `[A-Za-z0-9_-]+`; default `default`. */
  senderId?: string;
  /** Bytes per new segment (default 4 MiB). Recovered segments keep their own size. */
  segmentSize?: number;
  /**
   * Called with every error the manager's background work hits, with each
   * empty leftover recovery could not delete, with an unreadable `.failed`,
   * and with each close that fails while a failed open is undone.
   */
  onError?: (err: Error) => void;
  /**
   * Marks a frame payload as part of a group with no commit yet (for QWP:
   * {@link isQwpDeferCommit}); when given, the trailing run of such frames
   * is reported as `report.abortedTail`.
   */
  uncommitted?: FramePredicate;
}

/** An open, locked slot: the ring to append to, its manager, dictionary and lock. */
export interface Slot {
  readonly dir: string;
  readonly lock: SlotLock;
  readonly ring: SegmentRing;
  readonly manager: SegmentManager;
  readonly dict: PersistedSymbolDict;
  readonly report: RecoveryReport;
  /** Closes ring, manager (deleting the spare), dictionary, then releases the lock. */
  close(): void;
}

/** A canonical segment file name and its baseSeq; sorted by baseSeq. */
interface Named {
  name: string;
  baseSeq: number;
}

/** Lists `*.sfa` in `dir`: canonical names sorted by baseSeq, and the rest (spares). */
export function listSegmentFiles(
  dir: string,
  files: FilesFacade = defaultFiles,
): { segments: Named[]; others: string[] } {
  let names: string[];
  try {
    names = files.readdir(dir);
  } catch (err) {
    throw new BadDirectoryError(`cannot list slot directory ${dir}: ${reasonOf(err)}`, dir, err);
  }
  const segments: Named[] = [];
  const others: string[] = [];
  for (const name of names) {
    if (!name.endsWith(SEGMENT_SUFFIX)) continue;
    const baseSeq = parseSegmentFileName(name);
    if (baseSeq >= 0) segments.push({ name, baseSeq });
    else others.push(name);
  }
  segments.sort((a, b) => a.baseSeq - b.baseSeq);
  return { segments, others };
}

/**
 * Opens a slot: validates sender_id and sf_dir, takes the lock, reopens
 * every segment (torn tails cut at the last good frame), drops empty
 * leftover spares, requires contiguous FSNs, makes the newest segment the
 * active one (or creates the first), and opens the dictionary. Any
 * unreadable directory, bad header or FSN gap is fatal: it throws, touches
 * no file, and releases the lock.
 */
export function openSlot(options: OpenSlotOptions): Slot {
  const files = options.files ?? defaultFiles;
  const dir = slotDirectory(options.sfDir, options.senderId ?? 'default');
  let dict: PersistedSymbolDict | undefined;
  let heldLock: SlotLock | undefined;
  // Built first because it checks the sizes: a bad argument must fail before
  // anything is created, and before recovery changes anything on disk.
  const manager = new SegmentManager({
    dir,
    // `.symbol-dict` and `.lock` count against sf_max_total_bytes too: every file the slot owns.
    extraBytes: () => (dict?.length ?? 0) + (heldLock?.sizeBytes ?? 0),
    segmentSize: options.segmentSize ?? DEFAULT_SEGMENT_SIZE,
    maxTotalBytes: options.maxTotalBytes,
    files,
    inlineProvision: options.inlineProvision,
    autoService: options.autoService,
    onError: options.onError,
  });
  ensureDirectory(files, options.sfDir);
  const lock = SlotLock.acquire(dir, { files });
  heldLock = lock;
  const opened: MmapSegment[] = [];
  const spares: MmapSegment[] = [];
  try {
    const { segments: named, others } = listSegmentFiles(dir, files);
    const droppedEmpty: string[] = [];
    // Validate everything before deleting anything, so a fatal error leaves the slot untouched.
    const zeroSpares: string[] = [];
    for (const name of others) {
      const path = `${dir}/${name}`;
      let seg: MmapSegment;
      try {
        seg = MmapSegment.openExisting(path, { files, readOnly: true });
      } catch (err) {
        // A spare whose creator died before finishing its header: spares never hold
        // frames, so with nothing but zeros after the header there is nothing to lose.
        if (err instanceof SegmentCorruptError && isZeroFrom(files, path, SEGMENT_HEADER_SIZE)) {
          zeroSpares.push(path);
          continue;
        }
        throw err;
      }
      spares.push(seg);
      if (seg.frameCount > 0) {
        throw new SegmentCorruptError(
          `${seg.path} holds ${seg.frameCount} frame(s) but is not named sf-<baseSeq>.sfa`,
          seg.path,
        );
      }
    }
    for (let i = 0; i < named.length; i++) {
      const n = named[i]!;
      const path = `${dir}/${n.name}`;
      // Only the newest is appended to; older ones are mapped when a reader reaches them.
      const seg = MmapSegment.openExisting(path, { files, lazy: i < named.length - 1 });
      opened.push(seg);
      if (seg.baseSeq !== n.baseSeq) {
        throw new SegmentCorruptError(
          `${path} has baseSeq ${seg.baseSeq} in its header but ${n.baseSeq} in its name`,
          path,
        );
      }
    }
    for (let i = 1; i < opened.length; i++) {
      const prev = opened[i - 1]!;
      const next = opened[i]!;
      if (prev.nextSeq !== next.baseSeq) {
        throw new FsnGapError(prev.path, prev.nextSeq, next.path, next.baseSeq);
      }
    }
    // Last check that can fail on bad data; only after it does anything change on disk.
    // (A slot without a dictionary gets one after its first segment, so a full disk leaves nothing.)
    if (exists(files, `${dir}/${DICT_FILE_NAME}`)) dict = PersistedSymbolDict.open(dir, { files });
    const undeletable: string[] = [];
    const drop = (path: string) => {
      try {
        files.unlink(path);
        droppedEmpty.push(path);
        return true;
      } catch (err) {
        // An empty leftover that cannot be deleted is harmless: keep going, say so.
        undeletable.push(path);
        options.onError?.(
          new SegmentIoError(`cannot delete empty segment ${path}: ${reasonOf(err)}`, path, err),
        );
        return false;
      }
    };
    for (const s of spares.splice(0)) {
      s.close();
      drop(s.path);
    }
    for (const path of zeroSpares) drop(path);
    // An empty segment that is not the newest holds nothing and continues its
    // neighbours' FSNs; drop it so the active segment is always the last.
    const kept: MmapSegment[] = [];
    for (let i = 0; i < opened.length; i++) {
      const s = opened[i]!;
      if (s.frameCount === 0 && i < opened.length - 1) {
        // Left out of the ring even if the unlink fails: it holds no FSN.
        s.close();
        drop(s.path);
        continue;
      }
      kept.push(s);
    }
    opened.length = 0;
    opened.push(...kept);

    for (const s of opened) manager.adopt(s);
    if (opened.length === 0) opened.push(manager.createFirst(0));
    else opened[opened.length - 1]!.prepareForAppends();
    dict ??= PersistedSymbolDict.open(dir, { files });
    const ring = new SegmentRing({
      segments: opened,
      provider: manager,
      control: new ControlBlock(),
    });
    const frames = opened.reduce((n, s) => n + s.frameCount, 0);
    let abortedTail: RecoveryReport['abortedTail'] = null;
    if (options.uncommitted !== undefined && frames > 0) {
      const boundary = ring.lastFsnNotMatching(options.uncommitted);
      if (boundary < ring.nextFsn - 1)
        abortedTail = { fromFsn: boundary + 1, toFsn: ring.nextFsn - 1 };
    }
    const report: RecoveryReport = {
      slotDir: dir,
      segments: opened.map((s) => ({
        file: s.path,
        baseSeq: s.baseSeq,
        frames: s.frameCount,
        tornTailBytes: s.tornTailBytes,
      })),
      frames,
      firstFsn: frames > 0 ? ring.firstFsn : -1,
      lastFsn: frames > 0 ? ring.nextFsn - 1 : -1,
      tornTailBytes: opened.reduce((n, s) => n + s.tornTailBytes, 0),
      droppedEmpty,
      undeletable,
      symbols: dict.size,
      symbolDictTornTailBytes: dict.tornTailBytes,
      failed: slotFailureForReport(dir, files, options.onError),
      abortedTail,
    };
    const openedDict = dict;
    let closed = false;
    return {
      dir,
      lock,
      ring,
      manager,
      dict: openedDict,
      report,
      close() {
        if (closed) return;
        closed = true;
        runAll([
          () => ring.close(),
          () => manager.close(),
          () => openedDict.close(),
          () => lock.close(),
        ]);
      },
    };
  } catch (err) {
    // Every step runs, the lock last: a failing close must neither keep the slot
    // locked nor replace the recovery failure (thrown); it goes to onError.
    const releases = [...spares, ...opened].map((s) => () => s.close());
    releases.push(
      () => dict?.close(),
      () => lock.close(),
    );
    for (const release of releases) {
      try {
        release();
      } catch (closeErr) {
        options.onError?.(closeErr as Error);
      }
    }
    throw err;
  }
}

function exists(files: FilesFacade, path: string): boolean {
  try {
    files.stat(path);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw new SegmentIoError(`cannot stat ${path}: ${reasonOf(err)}`, path, err);
  }
}

/** True when every byte of the file at `path` from `start` on is zero (positioned reads, no mapping). */
function isZeroFrom(files: FilesFacade, path: string, start: number): boolean {
  const fd = openFile(files, path, 'r', 'open segment');
  return useThenClose(
    files,
    fd,
    path,
    () => !hasNonZeroFrom(files, fd, path, sizeOf(files, fd, path), start),
  );
}
