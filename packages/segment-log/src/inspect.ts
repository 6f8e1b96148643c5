/**
 * Read-only inspection of what a store-and-forward sender left on disk: a
 * slot directory, one segment file, the symbol dictionary, the manifest and
 * the ACK watermark. Nothing here writes or locks; `qwp sf inspect` prints
 * what these return.
 *
 * @module inspect
 */

export {
  inspectSymbolDict,
  parseSymbolDict,
  type SymbolDictScan,
} from './dictionary/symbol-dict.js';
export type { SegmentScan } from './segment/segment-scan.js';
export { readAckWatermark, type WatermarkState } from './slot-files/ack-watermark.js';
export { type ManifestBounds, type ManifestState, readManifest } from './slot-files/manifest.js';
export { readSlotFailure } from './slot-files/slot-failure.js';
export {
  type InspectedSegment,
  inspectSegmentFile,
  inspectSlot,
  type SegmentRole,
  type SlotInspection,
} from './tools/inspect.js';
