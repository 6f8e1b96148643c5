export { ControlBlock } from './control-block.js';
export {
  inspectSymbolDict,
  type OpenDictOptions,
  PersistedSymbolDict,
  parseSymbolDict,
  type SymbolDictScan,
} from './dictionary/symbol-dict.js';
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
export { type FramePredicate, isQwpDeferCommit } from './qwp-frame.js';
export {
  type OpenSlotOptions,
  openSlot,
  type RecoveryReport,
  type Slot,
} from './recovery/open-slot.js';
export { FrameReader, type SegmentSource, type SegmentView } from './segment/frame-reader.js';
export {
  type CreateSegmentOptions,
  MmapSegment,
  type OpenSegmentOptions,
} from './segment/mmap-segment.js';
export {
  describeMemoryRing,
  describeSlot,
  openReader,
  type ReaderDescription,
} from './segment/reader-source.js';
export {
  SegmentManager,
  type SegmentManagerOptions,
  type SegmentProvider,
} from './segment/segment-manager.js';
export { SegmentRing, type SegmentRingOptions } from './segment/segment-ring.js';
export type { SegmentScan } from './segment/segment-scan.js';
export { markSlotFailed, readSlotFailure } from './slot-files/slot-failure.js';
export { SlotLock, slotDirectory, validateSenderId } from './slot-files/slot-lock.js';
export {
  type InspectedSegment,
  inspectSegmentFile,
  inspectSlot,
  type SlotInspection,
} from './tools/inspect.js';
export { findOrphanSlots, type OrphanSlot } from './tools/orphans.js';
