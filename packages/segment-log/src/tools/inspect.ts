import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { inspectSymbolDict, type SymbolDictScan } from '../dictionary/symbol-dict.js';
import { errnoOf } from '../errors.js';
import {
  ACK_WATERMARK_FILE_NAME,
  CORRUPT_SUFFIX,
  DICT_FILE_NAME,
  FAILED_FILE_NAME,
  LOCK_FILE_NAME,
  LOCK_PID_FILE_NAME,
  MANIFEST_FILE_NAME,
  parseSegmentGeneration,
} from '../format.js';
import { planChain } from '../recovery/chain-step.js';
import { scanSegmentFile, scanSlot } from '../recovery/scan-step.js';
import type { SegmentScan } from '../segment/segment-scan.js';
import { readAckWatermark } from '../slot-files/ack-watermark.js';
import { readManifest } from '../slot-files/manifest.js';
import { slotFailureForReport } from '../slot-files/slot-failure.js';
import { SlotLock } from '../slot-files/slot-lock.js';

/**
 * Scans one segment file read-only with positioned reads (never mapped,
 * never modified): header, good frames, where appends would resume and the
 * torn tail.
 */
export function inspectSegmentFile(path: string, files: FilesFacade = defaultFiles): SegmentScan {
  return scanSegmentFile(files, path);
}

/**
 * What a recovery would do with a segment: `chain` (kept), `empty` (a
 * leftover without frames: deleted), `acknowledged` (below the manifest's
 * head: deleted), `corrupt` (renamed `.corrupt`); null when recovery would
 * refuse the slot.
 */
export type SegmentRole = 'chain' | 'empty' | 'acknowledged' | 'corrupt' | null;

/** One segment of a slot as {@link inspectSlot} saw it. */
export type InspectedSegment =
  | ({
      file: string;
      /** The generation its name carries, null for `sf-initial.sfa` and foreign names. */
      generation: number | null;
      role: SegmentRole;
      error?: undefined;
    } & SegmentScan)
  | { file: string; generation: number | null; role: SegmentRole; error: Error };

/** What {@link inspectSlot} found, without changing anything. */
export interface SlotInspection {
  slotDir: string;
  /** The `.lock` state (holder PID from `.lock.pid`), or null when there is no `.lock`. */
  lock: { held: boolean; pid: number | undefined } | null;
  /** Every `*.sfa` (names carry no FSN), readable ones by baseSeq, then the unreadable. */
  segments: InspectedSegment[];
  /** `sf-manifest.bin`: its bounds, why it is unusable, or null when absent. */
  manifest:
    | { file: string; generation: number; headBase: number; activeBase: number }
    | { file: string; error: string }
    | null;
  /** `.ack-watermark`: the persisted acked FSN (-1 none), why it is unusable, or null when absent. */
  watermark:
    | { file: string; generation: number; ackedFsn: number }
    | { file: string; error: string }
    | null;
  /** The dictionary, null when absent, or the error that made it unreadable. */
  dictionary:
    | (SymbolDictScan & { file: string; fileSize: number })
    | { file: string; error: Error }
    | null;
  /** Adjacent segments with frames whose FSNs do not continue each other. */
  gaps: { previous: string; expected: number; next: string; found: number }[];
  /** Why recovery would refuse the slot as it is, or null when it would open it. */
  problem: string | null;
  /** `*.corrupt` files: quarantined segments or manifests. */
  quarantined: string[];
  /** Files the slot format does not define (left alone by every client). */
  unrecognized: string[];
  frames: number;
  /** First / last FSN held, -1 when no frame. */
  firstFsn: number;
  lastFsn: number;
  tornTailBytes: number;
  /** The reason in `.failed`, or null when the slot is not marked failed. */
  failed: string | null;
}

const KNOWN = new Set([
  LOCK_FILE_NAME,
  LOCK_PID_FILE_NAME,
  FAILED_FILE_NAME,
  MANIFEST_FILE_NAME,
  ACK_WATERMARK_FILE_NAME,
  DICT_FILE_NAME,
]);

function generationOf(name: string): number | null {
  const g = parseSegmentGeneration(name);
  return g >= 0 ? g : null;
}

/**
 * Reports a slot directory read-only: lock holder, manifest, watermark,
 * every segment (with what recovery would do with it), the dictionary, the
 * FSN range and the files it does not recognise. Unreadable files are
 * reported per file, not thrown; only an unreadable directory throws. The
 * lock probe may hold the flock for an instant when it is free
 * ({@link SlotLock.acquire} retries briefly, so a sender starting then
 * still gets it).
 */
export function inspectSlot(slotDir: string, files: FilesFacade = defaultFiles): SlotInspection {
  const scan = scanSlot(slotDir, files, { tolerant: true });
  const manifestState = readManifest(slotDir, files);
  let problem: string | null = null;
  let roles = new Map<string, SegmentRole>();
  try {
    const plan = planChain(scan, manifestState);
    for (const s of plan.chain) roles.set(s.path, 'chain');
    for (const s of plan.remove) roles.set(s.path, s.frameCount > 0 ? 'acknowledged' : 'empty');
    for (const q of plan.quarantine) roles.set(q.path, 'corrupt');
  } catch (err) {
    problem = (err as Error).message;
    roles = new Map();
  }
  if (problem === null && scan.unreadable.length > 0) problem = scan.unreadable[0]!.error.message;
  const segments: InspectedSegment[] = [
    ...scan.segments.map((s) => {
      const { name: _name, path, generation: _g, manifestRequired: _m, ...fields } = s;
      return {
        file: path,
        generation: generationOf(s.name),
        role: roles.get(path) ?? null,
        ...fields,
      };
    }),
    ...[...scan.corrupt, ...scan.unreadable].map((c) => ({
      file: c.path,
      generation: generationOf(c.name),
      role: roles.get(c.path) ?? null,
      error: c.error,
    })),
  ];
  const gaps: SlotInspection['gaps'] = [];
  let frames = 0;
  let firstFsn = -1;
  let lastFsn = -1;
  let tornTailBytes = 0;
  let prev: (typeof scan.segments)[number] | undefined;
  for (const s of scan.segments) {
    tornTailBytes += s.tornTailBytes;
    if (s.frameCount === 0) continue;
    if (prev !== undefined && prev.baseSeq + prev.frameCount !== s.baseSeq) {
      gaps.push({
        previous: prev.path,
        expected: prev.baseSeq + prev.frameCount,
        next: s.path,
        found: s.baseSeq,
      });
    }
    if (firstFsn < 0) firstFsn = s.baseSeq;
    lastFsn = s.baseSeq + s.frameCount - 1;
    frames += s.frameCount;
    prev = s;
  }
  const dictPath = `${slotDir}/${DICT_FILE_NAME}`;
  let dictionary: SlotInspection['dictionary'] = null;
  try {
    dictionary = { file: dictPath, ...inspectSymbolDict(dictPath, files) };
  } catch (err) {
    const cause = (err as Error).cause;
    if (errnoOf(cause) !== 'ENOENT') dictionary = { file: dictPath, error: err as Error };
  }
  const wm = readAckWatermark(slotDir, files);
  return {
    slotDir,
    lock: SlotLock.probe(slotDir, files) ?? null,
    segments,
    manifest:
      manifestState.kind === 'absent'
        ? null
        : manifestState.kind === 'valid'
          ? { file: manifestState.path, ...manifestState.bounds }
          : { file: manifestState.path, error: manifestState.reason },
    watermark:
      wm.kind === 'absent'
        ? null
        : wm.kind === 'valid'
          ? { file: wm.path, generation: wm.generation, ackedFsn: wm.ackedFsn }
          : wm.empty === true
            ? { file: wm.path, generation: 0, ackedFsn: -1 } // created, no ACK yet
            : { file: wm.path, error: wm.reason },
    dictionary,
    gaps,
    problem,
    quarantined: scan.names.filter((n) => n.endsWith(CORRUPT_SUFFIX)).map((n) => `${slotDir}/${n}`),
    unrecognized: scan.names
      .filter((n) => !KNOWN.has(n) && !n.endsWith('.sfa') && !n.endsWith(CORRUPT_SUFFIX))
      .sort()
      .map((n) => `${slotDir}/${n}`),
    frames,
    firstFsn,
    lastFsn,
    tornTailBytes,
    failed: slotFailureForReport(slotDir, files),
  };
}
