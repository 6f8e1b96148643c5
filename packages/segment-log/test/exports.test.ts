import { describe, expect, it } from 'vitest';
import * as root from '../src/index.js';
import * as inspect from '../src/inspect.js';

// Each entry point's runtime surface, spelled out: adding or removing an
// export is a decision to make here, not a side effect of a refactor.
const ROOT = [
  'ACK_WATERMARK_FILE_NAME',
  'AckWatermark',
  'BadArgumentError',
  'BadDirectoryError',
  'BadSenderIdError',
  'ClosedError',
  'ControlBlock',
  'DEFAULT_SEGMENT_SIZE',
  'DICT_FILE_NAME',
  'FAILED_FILE_NAME',
  'FRAME_HEADER_SIZE',
  'FrameReader',
  'FrameTooLargeError',
  'FsnGapError',
  'INITIAL_SEGMENT_FILE_NAME',
  'LOCK_FILE_NAME',
  'LOCK_PID_FILE_NAME',
  'LOGICAL_LOCK_DIR_NAME',
  'MANIFEST_FILE_NAME',
  'MmapSegment',
  'PersistedSymbolDict',
  'RecoveryError',
  'SEGMENT_FLAG_MANIFEST_REQUIRED',
  'SEGMENT_HEADER_SIZE',
  'SegmentCorruptError',
  'SegmentIoError',
  'SegmentLogError',
  'SegmentManager',
  'SegmentRing',
  'SfManifest',
  'SlotLock',
  'SlotLockedError',
  'UnreplayableSlotError',
  'UnsupportedVersionError',
  'cleanupDrainedSlot',
  'describeMemoryRing',
  'describeSlot',
  'findOrphanSlots',
  'forEachFrame',
  'isQwpDeferCommit',
  'isUnreplayable',
  'logicalLockDirectory',
  'markSlotFailed',
  'openReader',
  'openSlot',
  'parseSegmentGeneration',
  'quarantineSlot',
  'readQwpDelta',
  'segmentFileName',
  'slotDirectory',
  'validateSenderId',
];
const INSPECT = [
  'inspectSegmentFile',
  'inspectSlot',
  'inspectSymbolDict',
  'parseSymbolDict',
  'readAckWatermark',
  'readManifest',
  'readSlotFailure',
];

describe('segment-log entry points', () => {
  it('export exactly their lists', () => {
    expect(Object.keys(root).sort()).toEqual(ROOT);
    expect(Object.keys(inspect).sort()).toEqual(INSPECT);
  });

  it('keep the internals out of the root', () => {
    for (const name of [
      'scanSlot',
      'planChain',
      'seedAck',
      'takeSlotLocks',
      'cutAbortedTail',
      'planDictionary',
      'encodeRecord',
      'MANIFEST_MAGIC',
    ])
      expect(Object.hasOwn(root, name), name).toBe(false);
  });
});
