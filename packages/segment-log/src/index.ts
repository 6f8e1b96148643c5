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
export { type AbortedTail, cutAbortedTail, findAbortedTail } from './recovery/aborted-tail-step.js';
export { type ChainPlan, checkContiguous, planChain } from './recovery/chain-step.js';
export {
  applyDictionary,
  type DictionaryPlan,
  planDictionary,
} from './recovery/dictionary-step.js';
export { cleanupDrainedSlot } from './recovery/drained-close.js';
export { type SlotLocks, takeSlotLocks } from './recovery/lock-step.js';
export { isUnreplayable, type OpenSlotOptions, openSlot } from './recovery/open-slot.js';
export {
  type CorruptFile,
  type ScannedSegment,
  type SlotScan,
  scanSlot,
} from './recovery/scan-step.js';
export { type AckSeed, seedAck } from './recovery/seed-ack-step.js';
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
export type { SegmentScan } from './segment/segment-scan.js';
export {
  ACK_WATERMARK_MAGIC,
  AckWatermark,
  readAckWatermark,
  type WatermarkState,
} from './slot-files/ack-watermark.js';
export {
  DUAL_RECORD_FILE_SIZE,
  type DualRecord,
  decodeRecord,
  encodeRecord,
  selectRecord,
} from './slot-files/dual-record.js';
export {
  MANIFEST_MAGIC,
  type ManifestBounds,
  type ManifestState,
  readManifest,
  SfManifest,
} from './slot-files/manifest.js';
export { quarantineSlot } from './slot-files/quarantine.js';
export { markSlotFailed, readSlotFailure } from './slot-files/slot-failure.js';
export {
  logicalLockDirectory,
  SlotLock,
  slotDirectory,
  validateSenderId,
} from './slot-files/slot-lock.js';
export {
  type InspectedSegment,
  inspectSegmentFile,
  inspectSlot,
  type SegmentRole,
  type SlotInspection,
} from './tools/inspect.js';
export { findOrphanSlots, type OrphanSlot } from './tools/orphans.js';
