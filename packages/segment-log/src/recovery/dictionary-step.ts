/**
 * Recovery step "open the dictionary". The symbol dictionary must cover
 * every id a stored frame defines, or a replay sends symbol ids the server
 * was never told about. A crash can tear its newest chunks while the frames
 * that introduced them survive (they may even be durable first: the kernel
 * writes pages back in any order), so with QWP frames recovery checks the
 * frames' delta sections against it (Rust's
 * rebuild_recovered_dict_from_frames, Java's seedGlobalDictionaryFromPersisted):
 * ids the frames define beyond the file are appended to it (and fsynced)
 * before anything else can take them. A frame whose delta starts past
 * every id known (its ids' definitions are lost), or redefines a known id
 * with another symbol, makes the slot unreplayable: nothing is changed and
 * {@link UnreplayableSlotError} says which frame.
 *
 * An unusable file (bad header, another format version) is moved aside to
 * `.symbol-dict.corrupt` and replaced when the frames rebuild every id from
 * 0; otherwise the slot is unreplayable. Without QWP frames (a generic log)
 * the file is taken as it is, and an unusable one is an error that leaves it
 * alone.
 */
import type { FilesFacade } from '@qwp/files-native';
import { inspectSymbolDict, PersistedSymbolDict, parseEntries } from '../dictionary/symbol-dict.js';
import { errnoOf, reasonOf, SegmentIoError, suppress, UnreplayableSlotError } from '../errors.js';
import { DICT_FILE_NAME, DICT_HEADER_SIZE } from '../format.js';
import { type QwpDelta, readQwpDelta } from '../qwp-frame.js';
import { forEachFrame } from '../segment/frames.js';
import type { MmapSegment } from '../segment/mmap-segment.js';

/** What the dictionary step found and will do. */
export interface DictionaryPlan {
  dir: string;
  /** `ok`: a readable file; `absent`: none, or shorter than a header; `unusable`: bad header or version. */
  state: 'ok' | 'absent' | 'unusable';
  /** Why it is unusable. */
  problem: Error | undefined;
  /** Symbols in the file (CRC-valid chunks). */
  known: string[];
  /** Bytes after the last valid chunk (cut at open). */
  tornTailBytes: number;
  /** Symbols the frames define beyond `known`, in id order: appended to the file. */
  rebuilt: string[];
  /** The frames' delta sections were checked (QWP frames). */
  checked: boolean;
}

/** One past the highest id any frame of `segments` defines; 0 when no frame has a delta. */
function lastDefinedId(segments: readonly MmapSegment[]): number {
  const d: QwpDelta = { start: 0, count: 0, entriesOffset: 0, entriesEnd: 0 };
  // Ids only grow along the log, so the newest frame with a delta has the highest.
  for (let k = segments.length - 1; k >= 0; k--) {
    let end = -1;
    forEachFrame(segments[k]!, (_fsn, bytes, off, len) => {
      if (readQwpDelta(bytes, off, len, d) === 1) end = d.start + d.count;
      return true;
    });
    if (end >= 0) return end;
  }
  return 0;
}

/**
 * Folds every frame's delta into `known`: returns the ids the frames add,
 * or throws {@link UnreplayableSlotError} at the first gap or conflict.
 */
function fold(dir: string, segments: readonly MmapSegment[], known: readonly string[]): string[] {
  const d: QwpDelta = { start: 0, count: 0, entriesOffset: 0, entriesEnd: 0 };
  const rebuilt: string[] = [];
  const symbol = (id: number) => (id < known.length ? known[id] : rebuilt[id - known.length]);
  for (const seg of segments) {
    forEachFrame(seg, (fsn, bytes, off, len) => {
      if (readQwpDelta(bytes, off, len, d) !== 1 || d.count === 0) return true;
      const have = known.length + rebuilt.length;
      if (d.start > have) {
        throw new UnreplayableSlotError(
          `frame ${fsn} of ${seg.path} defines symbol ids from ${d.start}, but the dictionary and the frames before it know only ${have}: ids ${have}..${d.start - 1} are lost`,
          dir,
          fsn,
        );
      }
      const entries = parseEntries(bytes, d.entriesOffset, d.entriesEnd, d.count) ?? [];
      for (let i = 0; i < entries.length; i++) {
        const id = d.start + i;
        if (id < have) {
          if (symbol(id) !== entries[i]) {
            throw new UnreplayableSlotError(
              `frame ${fsn} of ${seg.path} defines symbol id ${id} as ${JSON.stringify(entries[i])}, but it is ${JSON.stringify(symbol(id))}`,
              dir,
              fsn,
            );
          }
        } else {
          rebuilt.push(entries[i]!);
        }
      }
      return true;
    });
  }
  return rebuilt;
}

/**
 * Reads `<dir>/.symbol-dict` and, when `qwp`, checks the frames of
 * `segments` against it. Changes nothing; throws when the slot cannot be
 * replayed (or, without `qwp`, when the file is unusable).
 */
export function planDictionary(
  dir: string,
  segments: readonly MmapSegment[],
  options: {
    files: FilesFacade;
    qwp: boolean;
    /** One past the highest id the frames define, when the scan already found it (saves reading them). */
    definedIds?: number;
  },
): DictionaryPlan {
  const path = `${dir}/${DICT_FILE_NAME}`;
  const plan: DictionaryPlan = {
    dir,
    state: 'absent',
    problem: undefined,
    known: [],
    tornTailBytes: 0,
    rebuilt: [],
    checked: false,
  };
  let size = -1;
  try {
    size = options.files.stat(path).size;
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') {
      throw new SegmentIoError(`cannot stat dictionary ${path}: ${reasonOf(err)}`, path, err);
    }
  }
  if (size >= DICT_HEADER_SIZE) {
    try {
      const scan = inspectSymbolDict(path, options.files);
      plan.state = 'ok';
      plan.known = scan.entries;
      plan.tornTailBytes = scan.tornTailBytes;
    } catch (err) {
      if (err instanceof SegmentIoError) throw err;
      if (!options.qwp) throw err;
      plan.state = 'unusable';
      plan.problem = err as Error;
    }
  }
  if (!options.qwp) return plan;
  plan.checked = true;
  const needed =
    options.definedIds !== undefined && options.definedIds >= 0
      ? options.definedIds
      : lastDefinedId(segments);
  if (needed <= plan.known.length && plan.state !== 'unusable') return plan;
  try {
    plan.rebuilt = fold(dir, segments, plan.known);
  } catch (err) {
    if (plan.problem !== undefined && err instanceof UnreplayableSlotError) {
      (err as { cause?: unknown }).cause = plan.problem;
    }
    throw err;
  }
  return plan;
}

/**
 * Opens the dictionary as planned: cuts a torn tail, appends the rebuilt
 * symbols (fsynced), or replaces an unusable file. Returns the open
 * dictionary and where an unusable file was moved.
 */
export function applyDictionary(
  plan: DictionaryPlan,
  files: FilesFacade,
): { dict: PersistedSymbolDict; quarantinedTo: string | null } {
  if (plan.state === 'unusable') {
    const { dict, quarantinedTo } = PersistedSymbolDict.replace(plan.dir, plan.rebuilt, { files });
    return { dict, quarantinedTo };
  }
  const dict = PersistedSymbolDict.open(plan.dir, { files });
  try {
    dict.extend(plan.rebuilt);
  } catch (err) {
    try {
      dict.close();
    } catch (closeErr) {
      suppress(err, closeErr);
    }
    throw err;
  }
  return { dict, quarantinedTo: null };
}
