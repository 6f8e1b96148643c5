/**
 * Recovery step "lock": Java's logical lock `<sf_dir>/.slot-locks/<sender_id>.lock`
 * first (it serialises an open against an orphan drainer adopting the slot
 * and against a slot being quarantined under the same name), then the
 * slot's own `.lock`, held for the slot's lifetime. The logical lock is
 * released once the open is done (`release()`), as Java does. Either held by
 * a live process is a {@link SlotLockedError} naming its PID.
 */
import type { FilesFacade } from '@qwp/files-native';
import { suppress } from '../errors.js';
import { SlotLock } from '../slot-files/slot-lock.js';

/** The two locks of an open in progress. */
export interface SlotLocks {
  readonly logical: SlotLock;
  slot: SlotLock;
}

/** Takes the logical lock, then the slot lock of `<sfDir>/<senderId>` (`slotDir`). */
export function takeSlotLocks(
  sfDir: string,
  senderId: string,
  slotDir: string,
  files: FilesFacade,
): SlotLocks {
  const logical = SlotLock.acquireLogical(sfDir, senderId, { files });
  try {
    return { logical, slot: SlotLock.acquire(slotDir, { files }) };
  } catch (err) {
    try {
      logical.close();
    } catch (closeErr) {
      suppress(err, closeErr);
    }
    throw err;
  }
}
