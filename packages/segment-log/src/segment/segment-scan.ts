import { crc32cRange } from '@qwp/crc32c';
import type { FilesFacade } from '@qwp/files-native';
import { SegmentCorruptError, SegmentIoError, UnsupportedVersionError } from '../errors.js';
import { readFully } from '../file-io.js';
import {
  FRAME_HEADER_SIZE,
  readU64,
  SEGMENT_FLAG_MANIFEST_REQUIRED,
  SEGMENT_HEADER_SIZE,
  SEGMENT_MAGIC,
  SEGMENT_VERSION,
} from '../format.js';

/**
 * Called by {@link scanSegment} with the first bytes of each good frame's
 * payload (`bytes[offset, offset + length)`, at most {@link PROBE_BYTES};
 * the scan's own window: read, never keep).
 */
export type FrameProbe = (bytes: Uint8Array, offset: number, length: number) => void;

/** How much of each payload a {@link FrameProbe} sees. */
export const PROBE_BYTES = 32;

/** What a positioned-read walk of one segment file found. */
export interface SegmentScan {
  baseSeq: number;
  createdMicros: number;
  flags: number;
  /** Frames with a valid length and CRC, counted from the header. */
  frameCount: number;
  /** Offset just past the last good frame: where appends resume. */
  appendOffset: number;
  /** Sum of the good frames' payload lengths. */
  payloadBytes: number;
  /** Length of the suffix after the last good frame when it holds any non-zero byte; else 0. */
  tornTailBytes: number;
  fileSize: number;
  /** Index of the first good frame with an empty payload (the references refuse such a slot); -1 when none. */
  emptyFrameIndex: number;
}

const WINDOW_SIZE = 256 * 1024;
let sharedWindow: Uint8Array | undefined;

/**
 * A sliding window over a file filled with positioned reads, so a scan never
 * touches a mapping (a sparse or short file reads back zeros or fails cleanly
 * instead of raising SIGBUS).
 */
class PreadWindow {
  readonly buf: Uint8Array;
  readonly view: DataView;
  start = 0;
  length = 0;

  constructor(
    private readonly files: FilesFacade,
    private readonly fd: number,
    private readonly path: string,
    private readonly fileSize: number,
  ) {
    sharedWindow ??= new Uint8Array(WINDOW_SIZE);
    this.buf = sharedWindow;
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes `[offset, offset+n)` resident (n <= window size); returns its index in `buf`. */
  ensure(offset: number, n: number): number {
    if (offset >= this.start && offset + n <= this.start + this.length) return offset - this.start;
    if (offset + n > this.fileSize) {
      throw new SegmentIoError(`read past the end of ${this.path} at offset ${offset}`, this.path);
    }
    const len = Math.min(WINDOW_SIZE, this.fileSize - offset);
    readFully(this.files, this.fd, this.path, this.buf, 0, len, offset);
    this.start = offset;
    this.length = len;
    return 0;
  }

  u32(offset: number): number {
    return this.view.getUint32(this.ensure(offset, 4), true);
  }

  /** CRC32C of `[offset, offset+n)` of the file, chained across windows. */
  crc(offset: number, n: number): number {
    let crc = 0;
    let pos = offset;
    let left = n;
    while (left > 0) {
      const idx = this.ensure(pos, 1);
      const chunk = Math.min(left, this.length - idx);
      crc = crc32cRange(this.buf, idx, chunk, crc);
      pos += chunk;
      left -= chunk;
    }
    return crc;
  }

  hasNonZero(offset: number, n: number): boolean {
    let pos = offset;
    let left = n;
    while (left > 0) {
      const idx = this.ensure(pos, 1);
      const chunk = Math.min(left, this.length - idx);
      const b = this.buf;
      for (let i = idx; i < idx + chunk; i++) if (b[i] !== 0) return true;
      pos += chunk;
      left -= chunk;
    }
    return false;
  }
}

/**
 * Validates the 24-byte segment header at `h` of `view` and returns its
 * fields: a bad magic, undefined flag or reserved bits, or a baseSeq above
 * 2^53 - 1 throw {@link SegmentCorruptError}, another version
 * {@link UnsupportedVersionError}. `createdMicros` out of range reads as 0.
 */
export function readSegmentHeader(
  view: DataView,
  h: number,
  path: string,
): { baseSeq: number; createdMicros: number; flags: number } {
  const magic = view.getUint32(h, true);
  if (magic !== SEGMENT_MAGIC) {
    throw new SegmentCorruptError(
      `${path} has bad segment magic 0x${magic.toString(16).padStart(8, '0')}`,
      path,
    );
  }
  const version = view.getUint8(h + 4);
  if (version !== SEGMENT_VERSION) throw new UnsupportedVersionError(path, version);
  const flags = view.getUint8(h + 5);
  // Only bit 0 (the Java client's manifest-required flag) is defined; reserved must be zero.
  if ((flags & ~SEGMENT_FLAG_MANIFEST_REQUIRED) !== 0 || view.getUint16(h + 6, true) !== 0) {
    throw new SegmentCorruptError(
      `${path} has undefined flag or reserved bits set in its header`,
      path,
    );
  }
  const baseSeq = readU64(view, h + 8);
  if (baseSeq < 0) throw new SegmentCorruptError(`${path} has an out-of-range baseSeq`, path);
  return { baseSeq, createdMicros: Math.max(readU64(view, h + 16), 0), flags };
}

/**
 * True when any byte of the open file `fd` from `start` to `fileSize` is
 * non-zero (positioned reads, never a mapping).
 */
export function hasNonZeroFrom(
  files: FilesFacade,
  fd: number,
  path: string,
  fileSize: number,
  start: number,
): boolean {
  return new PreadWindow(files, fd, path, fileSize).hasNonZero(start, fileSize - start);
}

/**
 * Validates the header of the open segment `fd` and walks its frames with
 * positioned reads, stopping at the first impossible length or bad CRC.
 * Throws on a bad header (corrupt or unsupported version) or an I/O error;
 * a bad frame is never an error, it ends the valid prefix.
 */
export function scanSegment(
  files: FilesFacade,
  fd: number,
  path: string,
  fileSize: number,
  probe?: FrameProbe,
): SegmentScan {
  if (fileSize < SEGMENT_HEADER_SIZE) {
    throw new SegmentCorruptError(
      `${path} is ${fileSize} bytes, shorter than the ${SEGMENT_HEADER_SIZE}-byte segment header`,
      path,
    );
  }
  const w = new PreadWindow(files, fd, path, fileSize);
  const { baseSeq, createdMicros, flags } = readSegmentHeader(
    w.view,
    w.ensure(0, SEGMENT_HEADER_SIZE),
    path,
  );
  let pos = SEGMENT_HEADER_SIZE;
  let frameCount = 0;
  let payloadBytes = 0;
  let emptyFrameIndex = -1;
  while (fileSize - pos >= FRAME_HEADER_SIZE) {
    const storedCrc = w.u32(pos);
    const len = w.u32(pos + 4);
    if (len > fileSize - pos - FRAME_HEADER_SIZE) break;
    if (w.crc(pos + 4, 4 + len) !== storedCrc) break;
    if (len === 0 && emptyFrameIndex < 0) emptyFrameIndex = frameCount;
    if (probe !== undefined && len > 0) {
      const n = Math.min(len, PROBE_BYTES);
      probe(w.buf, w.ensure(pos + FRAME_HEADER_SIZE, n), n);
    }
    pos += FRAME_HEADER_SIZE + len;
    frameCount++;
    payloadBytes += len;
  }
  const tornTailBytes = pos < fileSize && w.hasNonZero(pos, fileSize - pos) ? fileSize - pos : 0;
  return {
    baseSeq,
    createdMicros,
    flags,
    frameCount,
    appendOffset: pos,
    payloadBytes,
    tornTailBytes,
    fileSize,
    emptyFrameIndex,
  };
}
