/**
 * Quarantine of a slot that cannot be replayed (Java's CursorSendEngine):
 * the slot directory is renamed `<sender_id>.unreplayable-<n>` (the first
 * free n in 0..63) inside sf_dir, a `.failed` sentinel with the reason is
 * written into it, and sf_dir is fsynced. Orphan scans never adopt it; its
 * bytes are kept for inspection. The caller holds the slot's logical lock
 * and has released the slot's own `.lock` (it moves with the directory).
 */
import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { BadDirectoryError, errnoOf, reasonOf, SegmentIoError } from '../errors.js';
import { syncDirectory } from '../file-io.js';
import { MAX_UNREPLAYABLE, UNREPLAYABLE_INFIX } from '../format.js';
import { markSlotFailed } from './slot-failure.js';
import { validateSenderId } from './slot-lock.js';

/** Moves `<sfDir>/<senderId>` aside; returns its new path. */
export function quarantineSlot(
  sfDir: string,
  senderId: string,
  reason: string,
  files: FilesFacade = defaultFiles,
): string {
  validateSenderId(senderId, sfDir);
  const root = sfDir.replace(/\/+$/, '');
  const from = `${root}/${senderId}`;
  for (let n = 0; n < MAX_UNREPLAYABLE; n++) {
    const to = `${root}/${senderId}${UNREPLAYABLE_INFIX}${n}`;
    try {
      files.stat(to);
      continue; // taken by an earlier quarantine
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') {
        throw new SegmentIoError(`cannot check quarantine name ${to}: ${reasonOf(err)}`, to, err);
      }
    }
    try {
      files.rename(from, to);
    } catch (err) {
      throw new SegmentIoError(
        `cannot move slot ${from} aside to ${to}: ${reasonOf(err)}`,
        from,
        err,
      );
    }
    markSlotFailed(to, `unreplayable: ${reason}`, files);
    syncDirectory(files, root);
    return to;
  }
  throw new BadDirectoryError(
    `cannot quarantine ${from}: ${senderId}${UNREPLAYABLE_INFIX}0..${MAX_UNREPLAYABLE - 1} are all taken; inspect and remove old ones`,
    from,
  );
}
