/**
 * `openSlot`: recovery as a sequence of named steps, each in its own module
 * and tested on its own:
 *   lock -> scan -> validate the chain and apply the manifest (plan) ->
 *   open the chain -> check the dictionary (plan) -> [nothing has changed
 *   on disk up to here] -> commit the plan (manifest, flags, leftovers,
 *   residue) -> seed the ACK -> open the dictionary -> cut the aborted tail
 *   -> build the ring.
 * A slot with no surviving segment takes the fresh-start order instead.
 */
import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { ControlBlock } from '../control-block.js';
import { PersistedSymbolDict } from '../dictionary/symbol-dict.js';
import {
  BadArgumentError,
  FsnGapError,
  RecoveryError,
  reasonOf,
  SegmentCorruptError,
  SegmentIoError,
  suppress,
  UnreplayableSlotError,
} from '../errors.js';
import { syncDirectory } from '../file-io.js';
import { CORRUPT_SUFFIX, DEFAULT_SEGMENT_SIZE, SEGMENT_FLAG_MANIFEST_REQUIRED } from '../format.js';
import { type FramePredicate, isQwpDeferCommit } from '../qwp-frame.js';
import { checkSegmentSize, MmapSegment } from '../segment/mmap-segment.js';
import { SegmentManager, type SegmentManagerOptions } from '../segment/segment-manager.js';
import { SegmentRing } from '../segment/segment-ring.js';
import { AckWatermark } from '../slot-files/ack-watermark.js';
import { readManifest, SfManifest } from '../slot-files/manifest.js';
import { quarantineSlot } from '../slot-files/quarantine.js';
import { slotFailureForReport } from '../slot-files/slot-failure.js';
import { ensureDirectory, SlotLock, slotDirectory } from '../slot-files/slot-lock.js';
import { cutAbortedTail, findAbortedTail } from './aborted-tail-step.js';
import { type ChainPlan, planChain } from './chain-step.js';
import { applyDictionary, planDictionary } from './dictionary-step.js';
import { takeSlotLocks } from './lock-step.js';
import { type CorruptFile, type ScannedSegment, scanSlot } from './scan-step.js';
import { seedAck } from './seed-ack-step.js';
import { OpenSlotImpl, type RecoveryReport, type Slot, SlotJournal } from './slot.js';

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
   * Called with every error the manager's background work hits, with a trim
   * that failed (retried later), with each leftover recovery could not
   * delete or quarantine, with an unreadable `.failed`, and with each close
   * that fails while a failed open is undone.
   */
  onError?: (err: Error) => void;
  /**
   * Frames are QWP messages (what the sender stores): the aborted
   * FLAG_DEFER_COMMIT tail is cut ({@link isQwpDeferCommit} as `uncommitted`)
   * and the dictionary is checked against, and healed from, the frames'
   * symbol deltas. Default false (an opaque log).
   */
  qwp?: boolean;
  /**
   * Marks a frame payload as part of a group with no commit yet; when given
   * (or implied by `qwp`), the trailing run of such frames is an aborted
   * group: reported as `report.abortedTail` and cut off the log above the
   * acknowledged FSN, so no later frame can ever commit it.
   */
  uncommitted?: FramePredicate;
  /**
   * When the slot cannot be replayed (its files contradict each other: an
   * FSN gap, a chain that does not match its manifest, a frame whose symbol
   * ids are lost), move it aside to `<sender_id>.unreplayable-<n>` with a
   * `.failed` sentinel (orphan scans skip it) and open a fresh slot, as the
   * Java client does; `report.quarantinedSlot` says where it went. Default
   * false: such an open throws and changes nothing.
   */
  quarantineUnreplayable?: boolean;
  /**
   * Called with each segment that becomes the active one after the open
   * (a rotation): post `{ baseSeq, path }` to a worker's reader, which then
   * calls `addSegment(baseSeq, path)` instead of scanning the directory.
   */
  onActivate?: (segment: MmapSegment) => void;
  /**
   * Another thread (a sender's I/O worker, with its own {@link AckWatermark}
   * on this slot) writes each ACK into `.ack-watermark` before it advances
   * `ring.control.ackedFsn`, so an ACK is recorded the moment it arrives,
   * not at the producer's next `acknowledge()`. The slot then only syncs
   * the watermark (trim, close) and writes it again only at close, after
   * that writer stopped. Default false: `acknowledge()` writes it.
   */
  ackWrittenElsewhere?: boolean;
}

/** True for the failures that say the slot's own bytes cannot be replayed (never an I/O or lock problem). */
export function isUnreplayable(err: unknown): boolean {
  return (
    err instanceof RecoveryError ||
    err instanceof FsnGapError ||
    err instanceof UnreplayableSlotError ||
    err instanceof SegmentCorruptError
  );
}

/**
 * Opens a slot: takes its locks, recovers it (see the module comment and
 * the package README for every step and order) and returns it ready for
 * appends. Any failure releases everything it took; up to the plan's
 * commit nothing on disk has changed.
 */
export function openSlot(options: OpenSlotOptions): Slot {
  const files = options.files ?? defaultFiles;
  const senderId = options.senderId ?? 'default';
  const dir = slotDirectory(options.sfDir, senderId);
  const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  // Arguments first: a bad one must fail before anything is created.
  checkSegmentSize(segmentSize);
  const maxTotalBytes = options.maxTotalBytes ?? Number.POSITIVE_INFINITY;
  if (!(maxTotalBytes >= segmentSize)) {
    throw new BadArgumentError(
      `sf_max_total_bytes ${maxTotalBytes} is smaller than one ${segmentSize}-byte segment`,
    );
  }
  ensureDirectory(files, options.sfDir);
  const locks = takeSlotLocks(options.sfDir, senderId, dir, files);
  try {
    try {
      return recoverSlot(dir, locks.slot, options, files);
    } catch (err) {
      if (options.quarantineUnreplayable !== true || !isUnreplayable(err)) {
        closeInto(err, () => locks.slot.close());
        throw err;
      }
      const reason = reasonOf(err);
      locks.slot.close();
      const path = quarantineSlot(options.sfDir, senderId, reason, files);
      locks.slot = SlotLock.acquire(dir, { files });
      let slot: Slot;
      try {
        slot = recoverSlot(dir, locks.slot, options, files);
      } catch (again) {
        closeInto(again, () => locks.slot.close());
        throw again;
      }
      slot.report.quarantinedSlot = { path, reason };
      return slot;
    }
  } finally {
    try {
      locks.logical.close();
    } catch (err) {
      options.onError?.(err as Error);
    }
  }
}

function closeInto(primary: unknown, close: () => void): void {
  try {
    close();
  } catch (err) {
    suppress(primary, err);
  }
}

/** Recovers the locked slot `dir`; on failure releases what it opened (not the lock) and throws. */
function recoverSlot(
  dir: string,
  lock: SlotLock,
  options: OpenSlotOptions,
  files: FilesFacade,
): Slot {
  let dict: PersistedSymbolDict | undefined;
  let ring: SegmentRing | undefined;
  let manifest: SfManifest | undefined;
  let watermark: AckWatermark | undefined;
  const opened: MmapSegment[] = [];
  const manager = new SegmentManager({
    dir,
    // `.symbol-dict` and `.lock.pid` count against sf_max_total_bytes too.
    extraBytes: () => (dict?.length ?? 0) + lock.sizeBytes,
    segmentSize: options.segmentSize ?? DEFAULT_SEGMENT_SIZE,
    maxTotalBytes: options.maxTotalBytes,
    files,
    inlineProvision: options.inlineProvision,
    autoService: options.autoService,
    onError: options.onError,
    segmentFlags: SEGMENT_FLAG_MANIFEST_REQUIRED,
    provisionalBase: () => ring?.nextFsn ?? 0,
  });
  const report = emptyReport(dir);
  try {
    // Step: scan. Step: validate the chain and apply the manifest (a plan: nothing changes yet).
    const qwp = options.qwp === true;
    const scan = scanSlot(dir, files, { qwp });
    manager.nextGeneration = scan.nextGeneration;
    const manifestState = readManifest(dir, files);
    const plan = planChain(scan, manifestState);
    if (plan.kind === 'fresh') {
      const fresh = startFresh(dir, plan, manager, report, files, options);
      ({ dict, watermark, manifest } = fresh);
      opened.push(fresh.first);
      report.freshStart = true;
      ring = buildRing(manager, opened, -1, fresh, options, files, dir);
      return finish(dir, files, lock, ring, manager, fresh, report, options);
    }
    // Step: open the chain (sealed segments are validated now and mapped when read).
    for (let i = 0; i < plan.chain.length; i++) {
      const s = plan.chain[i]!;
      const seg = MmapSegment.openExisting(s.path, {
        files,
        lazy: i < plan.chain.length - 1,
        scan: s,
      });
      opened.push(seg);
      manager.adopt(seg);
      if (seg.baseSeq !== s.baseSeq || seg.frameCount !== s.frameCount) {
        throw new SegmentCorruptError(
          `${s.path} changed while the slot was being recovered`,
          s.path,
        );
      }
    }
    // Step: check the dictionary against the frames (a plan; may find the slot unreplayable).
    let definedIds = 0;
    for (const s of plan.chain) {
      const d = s.definedIds ?? -1;
      definedIds = d < 0 || definedIds < 0 ? -1 : Math.max(definedIds, d);
    }
    const dictPlan = planDictionary(dir, opened, { files, qwp, definedIds });

    // Nothing has changed on disk up to here. Step: commit the plan.
    manifest = commitChain(dir, plan, manifestState, opened, report, files, options);
    for (let i = 0; i < opened.length - 1; i++) {
      if (opened[i]!.tornTailBytes > 0) {
        opened[i]!.zeroTornTail();
        report.sanitizedResidue.push(opened[i]!.path);
      }
    }
    // Step: seed the ACK.
    watermark = AckWatermark.open(dir, files);
    const nextFsn = opened[opened.length - 1]!.nextSeq;
    const found = watermark.found;
    const seed = seedAck(
      found.kind === 'valid' ? found.ackedFsn : undefined,
      opened[0]!.baseSeq,
      nextFsn,
    );
    report.watermark = found.kind === 'valid' ? found.ackedFsn : null;
    if (found.kind === 'invalid') report.watermarkProblem = `${found.reason}; reset`;
    if (seed.repair) {
      report.watermarkProblem = `${watermark.path} held FSN ${report.watermark}, at or beyond the next FSN ${nextFsn}; repaired to ${seed.ackedFsn}`;
      watermark.write(seed.ackedFsn);
      watermark.sync();
    }
    // Step: open the dictionary (healed or replaced as planned).
    const applied = applyDictionary(dictPlan, files);
    dict = applied.dict;
    report.rebuiltSymbols = dictPlan.rebuilt.length;
    report.dictionaryQuarantinedTo = applied.quarantinedTo;
    report.symbolDictTornTailBytes = dictPlan.tornTailBytes;
    // Step: analyse the aborted tail, and cut what is not acknowledged of it.
    const uncommitted = options.uncommitted ?? (qwp ? isQwpDeferCommit : undefined);
    if (uncommitted !== undefined) {
      cutTail(opened, uncommitted, seed.ackedFsn, manifest, manager, dict, report);
    }
    opened[opened.length - 1]!.prepareForAppends();
    ring = buildRing(
      manager,
      opened,
      seed.ackedFsn,
      { dict, manifest, watermark },
      options,
      files,
      dir,
    );
    return finish(dir, files, lock, ring, manager, { dict, manifest, watermark }, report, options);
  } catch (err) {
    // Every release runs (the lock stays: the caller releases it); a failing one
    // must not replace the recovery failure, so it goes to onError.
    const releases: (() => void)[] = [
      () => {
        if (ring !== undefined) ring.close();
        else for (const s of opened) s.close();
      },
      () => dict?.close(),
      () => watermark?.close(),
      () => manifest?.close(),
      () => manager.close(),
    ];
    for (const r of releases) {
      try {
        r();
      } catch (closeErr) {
        options.onError?.(closeErr as Error);
      }
    }
    throw err;
  }
}

/** Finds the aborted tail of `opened` and cuts its unacknowledged frames (see aborted-tail-step). */
function cutTail(
  opened: MmapSegment[],
  uncommitted: FramePredicate,
  ackedFsn: number,
  manifest: SfManifest,
  manager: SegmentManager,
  dict: PersistedSymbolDict,
  report: RecoveryReport,
): void {
  const tail = findAbortedTail(opened, uncommitted);
  report.commitBoundaryFsn =
    tail !== null ? tail.boundaryFsn : opened[opened.length - 1]!.nextSeq - 1;
  if (tail === null) return;
  const cutFrom = Math.max(tail.fromFsn, ackedFsn + 1);
  let cutFrames = 0;
  if (cutFrom <= tail.toFsn) {
    cutFrames = tail.toFsn - cutFrom + 1;
    // The cut frames may define symbols the next frames build on: those ids must
    // be durable in the dictionary before the frames that also define them go.
    if (dict.needsSync) dict.fsync();
    for (const e of cutAbortedTail(opened, cutFrom, manifest)) {
      opened.splice(opened.indexOf(e), 1);
      manager.release(e); // emptied: closed and deleted by the manager
    }
  }
  report.abortedTail = { fromFsn: tail.fromFsn, toFsn: tail.toFsn, cutFrames };
}

function buildRing(
  manager: SegmentManager,
  segments: MmapSegment[],
  ackedFsn: number,
  parts: { dict: PersistedSymbolDict; manifest: SfManifest; watermark: AckWatermark },
  options: OpenSlotOptions,
  files: FilesFacade,
  dir: string,
): SegmentRing {
  return new SegmentRing({
    segments,
    provider: manager,
    control: new ControlBlock(),
    ackedFsn,
    journal: new SlotJournal(
      dir,
      files,
      parts.watermark,
      parts.manifest,
      () => parts.dict,
      options.ackWrittenElsewhere === true,
    ),
    onError: options.onError,
    onActivate: options.onActivate,
  });
}

function finish(
  dir: string,
  files: FilesFacade,
  lock: SlotLock,
  ring: SegmentRing,
  manager: SegmentManager,
  parts: { dict: PersistedSymbolDict; manifest: SfManifest; watermark: AckWatermark },
  report: RecoveryReport,
  options: OpenSlotOptions,
): Slot {
  const { dict, manifest, watermark } = parts;
  const segs = ring.segments();
  const frames = segs.reduce((n, s) => n + s.frameCount, 0);
  report.segments = segs.map((s) => ({
    file: s.path,
    baseSeq: s.baseSeq,
    frames: s.frameCount,
    tornTailBytes: s.tornTailBytes,
    flags: s.flags,
  }));
  report.frames = frames;
  report.firstFsn = frames > 0 ? ring.firstFsn : -1;
  report.lastFsn = frames > 0 ? ring.nextFsn - 1 : -1;
  report.tornTailBytes = segs.reduce((n, s) => n + s.tornTailBytes, 0);
  report.ackedFsn = ring.control.ackedFsn;
  report.manifest = { headBase: manifest.headBase, activeBase: manifest.activeBase };
  report.symbols = dict.size;
  report.failed = slotFailureForReport(dir, files, options.onError);
  return new OpenSlotImpl({ dir, files, lock, ring, manager, dict, manifest, watermark, report });
}

function emptyReport(dir: string): RecoveryReport {
  return {
    slotDir: dir,
    segments: [],
    frames: 0,
    firstFsn: -1,
    lastFsn: -1,
    ackedFsn: -1,
    watermark: null,
    watermarkProblem: null,
    manifest: { headBase: 0, activeBase: 0 },
    freshStart: false,
    migratedLegacy: false,
    tornTailBytes: 0,
    droppedEmpty: [],
    droppedAcknowledged: [],
    undeletable: [],
    quarantined: [],
    sanitizedResidue: [],
    symbols: 0,
    symbolDictTornTailBytes: 0,
    rebuiltSymbols: 0,
    dictionaryQuarantinedTo: null,
    failed: null,
    commitBoundaryFsn: -1,
    abortedTail: null,
    quarantinedSlot: null,
  };
}

/**
 * Deletes the plan's leftovers and renames its quarantined files to
 * `.corrupt`, then fsyncs the directory. A leftover that cannot be deleted
 * or renamed is harmless (the next open retries): reported, not fatal.
 */
function removeLeftovers(
  dir: string,
  plan: ChainPlan,
  headBase: number,
  report: RecoveryReport,
  files: FilesFacade,
  options: OpenSlotOptions,
): void {
  let changed = false;
  for (const s of plan.remove) {
    try {
      files.unlink(s.path);
      changed = true;
      if (s.frameCount > 0 && s.baseSeq < headBase) report.droppedAcknowledged.push(s.path);
      else report.droppedEmpty.push(s.path);
    } catch (err) {
      report.undeletable.push(s.path);
      options.onError?.(
        new SegmentIoError(
          `cannot delete leftover segment ${s.path}: ${reasonOf(err)}`,
          s.path,
          err,
        ),
      );
    }
  }
  for (const q of plan.quarantine) {
    if (quarantineFile(q, report, files, options)) changed = true;
  }
  if (changed) syncDirectory(files, dir);
}

function quarantineFile(
  q: ScannedSegment | CorruptFile,
  report: RecoveryReport,
  files: FilesFacade,
  options: OpenSlotOptions,
): boolean {
  const aside = `${q.path}${CORRUPT_SUFFIX}`;
  try {
    files.rename(q.path, aside);
    report.quarantined.push(aside);
    return true;
  } catch (err) {
    options.onError?.(
      new SegmentIoError(`cannot quarantine ${q.path} to ${aside}: ${reasonOf(err)}`, q.path, err),
    );
    return false;
  }
}

/** Commits a chain plan: the manifest (quarantined, created or kept), the flags, the leftovers. */
function commitChain(
  dir: string,
  plan: ChainPlan,
  state: ReturnType<typeof readManifest>,
  opened: MmapSegment[],
  report: RecoveryReport,
  files: FilesFacade,
  options: OpenSlotOptions,
): SfManifest {
  if (plan.quarantineManifest) report.quarantined.push(SfManifest.quarantine(dir, files));
  const first = opened[0]!;
  const last = opened[opened.length - 1]!;
  let manifest: SfManifest;
  if (plan.manifest === 'create') {
    // A legacy slot: the chain validated; the manifest is created, then every
    // segment flagged (one way: older clients cannot read flagged segments).
    manifest = SfManifest.create(dir, first.baseSeq, last.baseSeq, files);
    report.migratedLegacy = true;
  } else if (state.kind === 'valid') {
    manifest = SfManifest.open(dir, state.bounds, files);
  } else {
    throw new RecoveryError(`${dir}: no manifest to keep`, dir);
  }
  try {
    // Also finishes a migration a crash interrupted part-way.
    for (const s of opened) s.stampManifestRequired();
    removeLeftovers(dir, plan, manifest.headBase, report, files, options);
  } catch (err) {
    closeInto(err, () => manifest.close());
    throw err;
  }
  return manifest;
}

/**
 * The fresh-start order (no segment survived), as the Rust client does it:
 * leftovers removed, a stale watermark removed and a stale dictionary
 * truncated before the first frame (an old high watermark must never skip
 * new frames); a new zeroed watermark made durable; the first segment made
 * durable unflagged; the manifest created; the segment flagged. A crash at
 * any point recovers as a legacy or a manifested slot.
 */
function startFresh(
  dir: string,
  plan: ChainPlan,
  manager: SegmentManager,
  report: RecoveryReport,
  files: FilesFacade,
  options: OpenSlotOptions,
): {
  first: MmapSegment;
  dict: PersistedSymbolDict;
  watermark: AckWatermark;
  manifest: SfManifest;
} {
  if (plan.quarantineManifest) report.quarantined.push(SfManifest.quarantine(dir, files));
  if (plan.manifest === 'remove') SfManifest.remove(dir, files);
  removeLeftovers(dir, plan, 0, report, files, options);
  AckWatermark.remove(dir, files);
  const opened: { close(): void }[] = [];
  try {
    const dict = PersistedSymbolDict.openClean(dir, { files });
    opened.push(dict);
    const watermark = AckWatermark.open(dir, files);
    opened.push(watermark);
    watermark.sync();
    manager.setSegmentFlags(0);
    const first = manager.createFirst(0);
    opened.push(first);
    const manifest = SfManifest.create(dir, 0, 0, files);
    opened.push(manifest);
    first.stampManifestRequired();
    manager.setSegmentFlags(SEGMENT_FLAG_MANIFEST_REQUIRED);
    return { first, dict, watermark, manifest };
  } catch (err) {
    for (const o of opened.reverse()) closeInto(err, () => o.close());
    throw err;
  }
}
