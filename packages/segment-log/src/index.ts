/**
 * The store-and-forward segment log: `openSlot` recovers or creates a slot
 * directory and returns its segment ring; `SegmentRing` / `SegmentManager` /
 * `MmapSegment` append CRC-checked frames, `FrameReader` reads them back
 * (on any thread), `AckWatermark` and `SfManifest` persist what was
 * acknowledged and which segments form the chain. Read-only inspection of
 * slots, segments and dictionaries is `@qwp/segment-log/inspect`.
 *
 * @module @qwp/segment-log
 */

export { ControlBlock } from './control-block.js';
export { type OpenDictOptions, PersistedSymbolDict } from './dictionary/symbol-dict.js';

export {
  BadArgumentError,
  BadDirectoryError,
  BadSenderIdError,
  ClosedError,
  FrameTooLargeError,
  FsnGapError,
  RecoveryError,
  SegmentCorruptError,
  SegmentIoError,
  SegmentLogError,
  type SegmentLogErrorCode,
  SlotLockedError,
  UnreplayableSlotError,
  UnsupportedVersionError,
} from './errors.js';
export {
  ACK_WATERMARK_FILE_NAME,
  DEFAULT_SEGMENT_SIZE,
  DICT_FILE_NAME,
  FAILED_FILE_NAME,
  FRAME_HEADER_SIZE,
  INITIAL_SEGMENT_FILE_NAME,
  LOCK_FILE_NAME,
  LOCK_PID_FILE_NAME,
  LOGICAL_LOCK_DIR_NAME,
  MANIFEST_FILE_NAME,
  parseSegmentGeneration,
  SEGMENT_FLAG_MANIFEST_REQUIRED,
  SEGMENT_HEADER_SIZE,
  segmentFileName,
} from './format.js';
export {
  type FramePredicate,
  isQwpDeferCommit,
  type QwpDelta,
  readQwpDelta,
} from './qwp-frame.js';
export { cleanupDrainedSlot } from './recovery/drained-close.js';
export { isUnreplayable, type OpenSlotOptions, openSlot } from './recovery/open-slot.js';
export type { RecoveryReport, Slot } from './recovery/slot.js';
export { FrameReader, type SegmentSource, type SegmentView } from './segment/frame-reader.js';
export { forEachFrame } from './segment/frames.js';
export {
  type CreateSegmentOptions,
  MmapSegment,
  type OpenSegmentOptions,
} from './segment/mmap-segment.js';
export {
  describeMemoryRing,
  describeSlot,
  type OpenedReader,
  openReader,
  type ReaderDescription,
  type SegmentFileRef,
} from './segment/reader-source.js';
export {
  SegmentManager,
  type SegmentManagerOptions,
  type SegmentProvider,
} from './segment/segment-manager.js';
export { type RingJournal, SegmentRing, type SegmentRingOptions } from './segment/segment-ring.js';
export { AckWatermark } from './slot-files/ack-watermark.js';
export { SfManifest } from './slot-files/manifest.js';
export { quarantineSlot } from './slot-files/quarantine.js';
export { markSlotFailed } from './slot-files/slot-failure.js';
export {
  logicalLockDirectory,
  SlotLock,
  slotDirectory,
  validateSenderId,
} from './slot-files/slot-lock.js';
export { findOrphanSlots, type OrphanSlot } from './tools/orphans.js';
