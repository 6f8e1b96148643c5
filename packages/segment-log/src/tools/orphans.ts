import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { BadDirectoryError, errnoOf, reasonOf } from '../errors.js';
import { LOGICAL_LOCK_DIR_NAME, SEGMENT_SUFFIX, UNREPLAYABLE_INFIX } from '../format.js';
import { listDirectory } from '../recovery/scan-step.js';
import { readSlotFailure } from '../slot-files/slot-failure.js';
import { isValidSenderId, SlotLock } from '../slot-files/slot-lock.js';
import { inspectSegmentFile } from './inspect.js';

/** A sibling slot that still holds frames nobody is sending. */
export interface OrphanSlot {
  senderId: string;
  slotDir: string;
  /** Segment files (`*.sfa`) in the slot. */
  segments: number;
}

/**
 * Lists the slots under `sfDir` other than `ownSenderId` that an orphan
 * drainer should adopt (store-and-forward concepts, "Orphan adoption"): a
 * directory named like a sender_id, not `.slot-locks` (Java's logical
 * locks), not a quarantined `<sender_id>.unreplayable-<n>`, not marked
 * `.failed`, whose `.lock` no live process holds, with at least one
 * `*.sfa` that holds a frame or cannot be read (the drainer's recovery then
 * reports it). Sorted by sender_id. Changes nothing; the lock probe may hold
 * a free `.lock` for an instant, and a drainer must still take the logical
 * lock and then the slot's lock itself (another process may win the race).
 * A missing `sfDir` has no orphans; an unreadable one throws.
 */
export function findOrphanSlots(
  sfDir: string,
  ownSenderId: string,
  files: FilesFacade = defaultFiles,
): OrphanSlot[] {
  const root = sfDir.replace(/\/+$/, '');
  let names: string[];
  try {
    names = files.readdir(root);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw new BadDirectoryError(`cannot list sf_dir ${root}: ${reasonOf(err)}`, root, err);
  }
  const orphans: OrphanSlot[] = [];
  for (const name of names.sort()) {
    if (name === ownSenderId || name === LOGICAL_LOCK_DIR_NAME) continue;
    if (name.includes(UNREPLAYABLE_INFIX) || !isValidSenderId(name)) continue;
    const slotDir = `${root}/${name}`;
    let isDir: boolean;
    try {
      isDir = files.stat(slotDir).isDirectory;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') continue; // removed while we looked
      throw new BadDirectoryError(`cannot stat ${slotDir}: ${reasonOf(err)}`, slotDir, err);
    }
    if (!isDir || readSlotFailure(slotDir, files) !== null) continue;
    const segments = listDirectory(files, slotDir).filter((n) => n.endsWith(SEGMENT_SUFFIX));
    if (!segments.some((file) => holdsData(`${slotDir}/${file}`, files))) continue;
    if (SlotLock.probe(slotDir, files)?.held === true) continue;
    orphans.push({ senderId: name, slotDir, segments: segments.length });
  }
  return orphans;
}

/** True when the segment holds a frame, or cannot be read (only recovery may call that empty). */
function holdsData(path: string, files: FilesFacade): boolean {
  try {
    return inspectSegmentFile(path, files).frameCount > 0;
  } catch {
    return true; // unreadable or corrupt: the drainer's recovery names the problem
  }
}
