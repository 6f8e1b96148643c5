import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { reasonOf, SegmentIoError } from './errors.js';
import { sizeOf } from './file-io.js';
import { type SegmentScan, scanSegment } from './segment-scan.js';

/**
 * Scans one segment file read-only with positioned reads (never mapped,
 * never modified): header, good frames, where appends would resume and the
 * torn tail.
 */
export function inspectSegmentFile(path: string, files: FilesFacade = defaultFiles): SegmentScan {
  let fd: number;
  try {
    fd = files.open(path, 'r');
  } catch (err) {
    throw new SegmentIoError(`cannot open segment ${path}: ${reasonOf(err)}`, path, err);
  }
  try {
    return scanSegment(files, fd, path, sizeOf(files, fd, path));
  } finally {
    files.close(fd);
  }
}
