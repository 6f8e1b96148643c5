import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { inspectSymbolDict, type SymbolDictScan } from '../dictionary/symbol-dict.js';
import { errnoOf } from '../errors.js';
import { openFile, sizeOf, useThenClose } from '../file-io.js';
import { DICT_FILE_NAME } from '../format.js';
import { listSegmentFiles } from '../recovery/open-slot.js';
import { type SegmentScan, scanSegment } from '../segment/segment-scan.js';
import { slotFailureForReport } from '../slot-files/slot-failure.js';
import { SlotLock } from '../slot-files/slot-lock.js';

/**
 * Scans one segment file read-only with positioned reads (never mapped,
 * never modified): header, good frames, where appends would resume and the
 * torn tail.
 */
export function inspectSegmentFile(path: string, files: FilesFacade = defaultFiles): SegmentScan {
  const fd = openFile(files, path, 'r', 'open segment');
  return useThenClose(files, fd, path, () => scanSegment(files, fd, path, sizeOf(files, fd, path)));
}

/** One segment of a slot as {@link inspectSlot} saw it. */
export type InspectedSegment =
  | ({ file: string; error?: undefined } & SegmentScan)
  | { file: string; error: Error };

/** What {@link inspectSlot} found, without changing anything. */
export interface SlotInspection {
  slotDir: string;
  /** The lock file's state, or null when there is no `.lock`. */
  lock: { held: boolean; pid: number | undefined } | null;
  /** Canonical `sf-<baseSeq>.sfa` files in baseSeq order. */
  segments: InspectedSegment[];
  /** Other `*.sfa` files (spares, leftovers). */
  otherFiles: string[];
  /** The dictionary, null when absent, or the error that made it unreadable. */
  dictionary:
    | (SymbolDictScan & { file: string; fileSize: number })
    | { file: string; error: Error }
    | null;
  /** Adjacent segments whose FSNs do not continue each other. */
  gaps: { previous: string; expected: number; next: string; found: number }[];
  frames: number;
  /** First / last FSN held, -1 when no frame. */
  firstFsn: number;
  lastFsn: number;
  tornTailBytes: number;
  /** The reason in `.failed`, or null when the slot is not marked failed. */
  failed: string | null;
}

/**
 * Reports a slot directory read-only: lock holder, every segment, the
 * dictionary and the FSN range. Unreadable files are reported per file, not
 * thrown; only an unreadable directory throws. The lock probe may hold the
 * flock for an instant when it is free ({@link SlotLock.acquire} retries
 * briefly, so a sender starting then still gets it).
 */
export function inspectSlot(slotDir: string, files: FilesFacade = defaultFiles): SlotInspection {
  const { segments: named, others } = listSegmentFiles(slotDir, files);
  const segments: InspectedSegment[] = named.map(({ name }) => {
    const file = `${slotDir}/${name}`;
    try {
      return { file, ...inspectSegmentFile(file, files) };
    } catch (err) {
      return { file, error: err as Error };
    }
  });
  const gaps: SlotInspection['gaps'] = [];
  let prev: (SegmentScan & { file: string }) | undefined;
  let frames = 0;
  let firstFsn = -1;
  let lastFsn = -1;
  let tornTailBytes = 0;
  for (const s of segments) {
    if (s.error !== undefined) {
      prev = undefined;
      continue;
    }
    if (prev !== undefined && prev.baseSeq + prev.frameCount !== s.baseSeq) {
      gaps.push({
        previous: prev.file,
        expected: prev.baseSeq + prev.frameCount,
        next: s.file,
        found: s.baseSeq,
      });
    }
    if (s.frameCount > 0) {
      if (firstFsn < 0) firstFsn = s.baseSeq;
      lastFsn = s.baseSeq + s.frameCount - 1;
    }
    frames += s.frameCount;
    tornTailBytes += s.tornTailBytes;
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
  return {
    slotDir,
    lock: SlotLock.probe(slotDir, files) ?? null,
    segments,
    otherFiles: others.map((n) => `${slotDir}/${n}`),
    dictionary,
    gaps,
    frames,
    firstFsn,
    lastFsn,
    tornTailBytes,
    failed: slotFailureForReport(slotDir, files),
  };
}
