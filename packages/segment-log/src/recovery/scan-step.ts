/**
 * Recovery step "scan": every `*.sfa` in the slot, whatever its name, read
 * with positioned reads (never mapped): header, valid frames, torn tail.
 * Nothing is changed. A file whose header is not a segment's (bad magic,
 * too short, undefined flag or reserved bits, a baseSeq out of range) is
 * set aside for quarantine once the surviving chain validates; an
 * unreadable file or an unknown format version stops recovery (it may be
 * an intact segment this build cannot read: never drop it).
 */
import type { FilesFacade } from '@qwp/files-native';
import { BadDirectoryError, reasonOf, SegmentCorruptError } from '../errors.js';
import { openFile, sizeOf, useThenClose } from '../file-io.js';
import {
  INITIAL_SEGMENT_FILE_NAME,
  parseSegmentGeneration,
  SEGMENT_FLAG_MANIFEST_REQUIRED,
  SEGMENT_SUFFIX,
} from '../format.js';
import { qwpDeltaEnd } from '../qwp-frame.js';
import { type FrameProbe, type SegmentScan, scanSegment } from '../segment/segment-scan.js';

/** One segment file the scan could read. */
export interface ScannedSegment extends SegmentScan {
  name: string;
  path: string;
  /** Its name's generation, -1 for `sf-initial.sfa` and foreign names. */
  generation: number;
  manifestRequired: boolean;
  /**
   * With `qwp`: one past the highest symbol id its frames define (0 when
   * none does; -1 when a frame's delta header did not fit the probe, so the
   * dictionary step must read the frames). Undefined otherwise.
   */
  definedIds?: number;
}

/** A `*.sfa` whose header is not a segment's. */
export interface CorruptFile {
  name: string;
  path: string;
  error: SegmentCorruptError;
}

/** What {@link scanSlot} found. */
export interface SlotScan {
  dir: string;
  /** Every entry of the directory. */
  names: string[];
  /** Readable segments, by baseSeq then name. */
  segments: ScannedSegment[];
  corrupt: CorruptFile[];
  /**
   * With `tolerant` only: files recovery would stop at (unreadable, another
   * format version, an empty frame). Without it, the first of these throws.
   */
  unreadable: { name: string; path: string; error: Error }[];
  /** One above the highest generation named in the slot (`.corrupt` names too), or 0. */
  nextGeneration: number;
}

/** Lists `dir`, as a typed error naming it on failure. */
export function listDirectory(files: FilesFacade, dir: string): string[] {
  try {
    return files.readdir(dir);
  } catch (err) {
    throw new BadDirectoryError(`cannot list slot directory ${dir}: ${reasonOf(err)}`, dir, err);
  }
}

/** Reads one segment file's header and frames (see {@link scanSegment}). */
export function scanSegmentFile(files: FilesFacade, path: string, probe?: FrameProbe): SegmentScan {
  const fd = openFile(files, path, 'r', 'open segment');
  return useThenClose(files, fd, path, () =>
    scanSegment(files, fd, path, sizeOf(files, fd, path), probe),
  );
}

/**
 * Scans every `*.sfa` in `dir`. Throws only on an operational failure or
 * an empty frame, unless `tolerant` (inspection), which lists those in
 * `unreadable` instead.
 */
export function scanSlot(
  dir: string,
  files: FilesFacade,
  options: { tolerant?: boolean; qwp?: boolean } = {},
): SlotScan {
  const names = listDirectory(files, dir);
  const segments: ScannedSegment[] = [];
  const corrupt: CorruptFile[] = [];
  const unreadable: SlotScan['unreadable'] = [];
  let maxGeneration = -1;
  for (const name of names) {
    maxGeneration = Math.max(maxGeneration, parseSegmentGeneration(name));
    if (!name.endsWith(SEGMENT_SUFFIX)) continue;
    const path = `${dir}/${name}`;
    let scan: SegmentScan;
    // With QWP frames, note the highest symbol id they define while the bytes are at hand.
    let defined = 0;
    const probe: FrameProbe | undefined =
      options.qwp === true
        ? (bytes, offset, length) => {
            const end = qwpDeltaEnd(bytes, offset, length);
            defined = end < 0 || defined < 0 ? -1 : Math.max(defined, end);
          }
        : undefined;
    try {
      scan = scanSegmentFile(files, path, probe);
    } catch (err) {
      if (err instanceof SegmentCorruptError) {
        corrupt.push({ name, path, error: err });
        continue;
      }
      if (options.tolerant !== true) throw err;
      unreadable.push({ name, path, error: err as Error });
      continue;
    }
    if (scan.emptyFrameIndex >= 0) {
      // The Java and Rust clients refuse such a slot too: a frame must carry a message.
      const err = new SegmentCorruptError(
        `${path} holds an empty frame (FSN ${scan.baseSeq + scan.emptyFrameIndex})`,
        path,
      );
      if (options.tolerant !== true) throw err;
      unreadable.push({ name, path, error: err });
      continue;
    }
    // Extended in place (one object per segment: a slot may hold tens of thousands).
    const seg = scan as ScannedSegment;
    seg.name = name;
    seg.path = path;
    seg.generation = name === INITIAL_SEGMENT_FILE_NAME ? -1 : parseSegmentGeneration(name);
    seg.manifestRequired = (scan.flags & SEGMENT_FLAG_MANIFEST_REQUIRED) !== 0;
    if (options.qwp === true) seg.definedIds = defined;
    segments.push(seg);
  }
  segments.sort((a, b) => a.baseSeq - b.baseSeq || (a.name < b.name ? -1 : 1));
  return { dir, names, segments, corrupt, unreadable, nextGeneration: maxGeneration + 1 };
}
