import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { reasonOf, SegmentIoError } from '../errors.js';
import {
  openFile,
  openFileIfExists,
  readFully,
  sizeOf,
  syncDirectory,
  useThenClose,
  writeFully,
} from '../file-io.js';
import { FAILED_FILE_NAME } from '../format.js';

/** Longest reason {@link readSlotFailure} returns; the file is for humans, not a log. */
const MAX_REASON_BYTES = 4096;

/**
 * Marks a slot failed: writes `<slotDir>/.failed` holding `reason` (one line
 * for a human), fsyncs it and its directory. Orphan scans then skip the slot
 * until someone deletes the file. Idempotent: a second call replaces the reason.
 */
export function markSlotFailed(
  slotDir: string,
  reason: string,
  files: FilesFacade = defaultFiles,
): void {
  const path = `${slotDir}/${FAILED_FILE_NAME}`;
  const fd = openFile(files, path, 'w', 'create', 0o644);
  useThenClose(files, fd, path, () => {
    const text = Buffer.from(`${reason.replace(/\n/g, ' ')}\n`, 'utf8');
    writeFully(files, fd, path, text, 0, text.length, 0);
    try {
      files.fsync(fd);
    } catch (err) {
      throw new SegmentIoError(`cannot fsync ${path}: ${reasonOf(err)}`, path, err);
    }
  });
  syncDirectory(files, slotDir);
}

/**
 * {@link readSlotFailure} for a report: an unreadable sentinel must stop
 * neither the owner opening its slot nor an inspection, so it becomes the
 * reported reason and is handed to `onError`.
 */
export function slotFailureForReport(
  slotDir: string,
  files: FilesFacade,
  onError?: (err: Error) => void,
): string | null {
  try {
    return readSlotFailure(slotDir, files);
  } catch (err) {
    onError?.(err as Error);
    return `(unreadable .failed: ${reasonOf(err)})`;
  }
}

/**
 * The reason written in `<slotDir>/.failed` (trimmed; '' when empty), or
 * null when the slot is not marked failed. An unreadable sentinel throws.
 */
export function readSlotFailure(slotDir: string, files: FilesFacade = defaultFiles): string | null {
  const path = `${slotDir}/${FAILED_FILE_NAME}`;
  const fd = openFileIfExists(files, path, 'r', 'open');
  if (fd === undefined) return null;
  return useThenClose(files, fd, path, () => {
    const n = Math.min(sizeOf(files, fd, path), MAX_REASON_BYTES);
    const buf = new Uint8Array(n);
    readFully(files, fd, path, buf, 0, n, 0);
    return Buffer.from(buf).toString('utf8').trim();
  });
}
