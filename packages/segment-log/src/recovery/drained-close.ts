/**
 * The clean-up of a fully drained close (everything published is
 * acknowledged), in the order of the Rust client's record_all_sfa_cleanup:
 * the directory is listed completely before anything is deleted; the
 * manifest collapses (head = active: nothing is committed any more); every
 * `*.sfa` is unlinked (Java's `sf-initial.sfa` first, then by generation,
 * stopping at the first failure); the directory is fsynced; then
 * `.ack-watermark`, `.symbol-dict` and `sf-manifest.bin` are removed and the
 * directory fsynced again. `.lock` and `.lock.pid` stay. The caller has
 * already synced the final watermark. A crash at any point leaves a slot
 * that recovers as empty (a collapsed manifest with no segments is a fresh
 * slot) or with only acknowledged frames.
 */
import type { FilesFacade } from '@qwp/files-native';
import { errnoOf, reasonOf, SegmentIoError } from '../errors.js';
import { syncDirectory } from '../file-io.js';
import {
  ACK_WATERMARK_FILE_NAME,
  DICT_FILE_NAME,
  INITIAL_SEGMENT_FILE_NAME,
  MANIFEST_FILE_NAME,
  parseSegmentGeneration,
  SEGMENT_SUFFIX,
} from '../format.js';
import type { SfManifest } from '../slot-files/manifest.js';
import { listDirectory } from './scan-step.js';

function cleanupRank(name: string): [number, number] {
  if (name === INITIAL_SEGMENT_FILE_NAME) return [0, 0];
  const g = parseSegmentGeneration(name);
  return g >= 0 ? [1, g] : [2, 0];
}

function unlinkIfExists(files: FilesFacade, path: string): void {
  try {
    files.unlink(path);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') {
      throw new SegmentIoError(`cannot delete ${path}: ${reasonOf(err)}`, path, err);
    }
  }
}

/**
 * Runs the drained-close clean-up of `dir`; `manifest` is the slot's open
 * manifest (collapsed here; the caller closes it). Throws the first failure:
 * what was not deleted stays, and the next open recovers it.
 */
export function cleanupDrainedSlot(dir: string, manifest: SfManifest, files: FilesFacade): void {
  const names = listDirectory(files, dir);
  const segments = names
    .filter((n) => n.endsWith(SEGMENT_SUFFIX))
    .sort((a, b) => {
      const [ra, ga] = cleanupRank(a);
      const [rb, gb] = cleanupRank(b);
      return ra - rb || ga - gb || (a < b ? -1 : a > b ? 1 : 0);
    });
  if (segments.length > 0) manifest.update(manifest.activeBase, manifest.activeBase);
  for (const name of segments) unlinkIfExists(files, `${dir}/${name}`);
  syncDirectory(files, dir);
  unlinkIfExists(files, `${dir}/${ACK_WATERMARK_FILE_NAME}`);
  unlinkIfExists(files, `${dir}/${DICT_FILE_NAME}`);
  unlinkIfExists(files, `${dir}/${MANIFEST_FILE_NAME}`);
  syncDirectory(files, dir);
}
