export { ControlBlock } from './control-block.js';
export {
  BadArgumentError,
  BadDirectoryError,
  BadSenderIdError,
  ClosedError,
  FrameTooLargeError,
  FsnGapError,
  SegmentCorruptError,
  SegmentIoError,
  SegmentLogError,
  type SegmentLogErrorCode,
  SlotLockedError,
  UnsupportedVersionError,
} from './errors.js';
export {
  DEFAULT_SEGMENT_SIZE,
  DICT_FILE_NAME,
  FAILED_FILE_NAME,
  FRAME_HEADER_SIZE,
  LOCK_FILE_NAME,
  parseSegmentFileName,
  SEGMENT_HEADER_SIZE,
  segmentFileName,
} from './format.js';
export { FrameReader, type SegmentSource, type SegmentView } from './frame-reader.js';
export {
  type InspectedSegment,
  inspectSegmentFile,
  inspectSlot,
  type SlotInspection,
} from './inspect.js';
export { type CreateSegmentOptions, MmapSegment, type OpenSegmentOptions } from './mmap-segment.js';
export { findOrphanSlots, type OrphanSlot } from './orphans.js';
export { type FramePredicate, isQwpDeferCommit } from './qwp-frame.js';
export {
  describeMemoryRing,
  describeSlot,
  openReader,
  type ReaderDescription,
} from './reader-source.js';
export {
  type OpenSlotOptions,
  openSlot,
  type RecoveryReport,
  type Slot,
} from './recovery.js';
export {
  SegmentManager,
  type SegmentManagerOptions,
  type SegmentProvider,
} from './segment-manager.js';
export { SegmentRing, type SegmentRingOptions } from './segment-ring.js';
export type { SegmentScan } from './segment-scan.js';
export { markSlotFailed, readSlotFailure } from './slot-failure.js';
export { SlotLock, slotDirectory, validateSenderId } from './slot-lock.js';
export {
  inspectSymbolDict,
  type OpenDictOptions,
  PersistedSymbolDict,
  parseSymbolDict,
  type SymbolDictScan,
} from './symbol-dict.js';
