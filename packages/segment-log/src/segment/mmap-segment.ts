import { crc32cRange } from '@qwp/crc32c';
import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import {
  BadArgumentError,
  ClosedError,
  reasonOf,
  SegmentCorruptError,
  SegmentIoError,
  suppress,
} from '../errors.js';
import {
  closeQuietlyInto,
  expectSize,
  mapFile,
  openFile,
  sizeOf,
  unmapQuietlyInto,
  useThenClose,
  writeFully,
} from '../file-io.js';
import {
  FRAME_HEADER_SIZE,
  MAX_SEGMENT_SIZE,
  MIN_SEGMENT_SIZE,
  maxPayloadOf,
  SEGMENT_FLAG_MANIFEST_REQUIRED,
  SEGMENT_HEADER_SIZE,
  SEGMENT_MAGIC,
  SEGMENT_VERSION,
  writeU64,
} from '../format.js';
import { type SegmentScan, scanSegment } from './segment-scan.js';

/** Where a segment's frames stand when it is constructed: a scan's findings, or those of an empty segment. */
type FrameState = Pick<
  SegmentScan,
  'baseSeq' | 'flags' | 'appendOffset' | 'frameCount' | 'payloadBytes' | 'tornTailBytes'
>;

function emptyState(baseSeq: number, flags: number): FrameState {
  return {
    baseSeq,
    flags,
    appendOffset: SEGMENT_HEADER_SIZE,
    frameCount: 0,
    payloadBytes: 0,
    tornTailBytes: 0,
  };
}

/** Options of {@link MmapSegment.create}. */
export interface CreateSegmentOptions {
  files?: FilesFacade;
  /** Header timestamp; defaults to now. */
  createdMicros?: number;
  /**
   * Header flags: {@link SEGMENT_FLAG_MANIFEST_REQUIRED} once the slot has a
   * manifest (a fresh slot's first segment is made without it, then stamped).
   * Default 0.
   */
  flags?: number;
}

/** Options of {@link MmapSegment.openExisting}. */
export interface OpenSegmentOptions {
  files?: FilesFacade;
  /** Map read-only and never write (inspection, a reader thread). Default false. */
  readOnly?: boolean;
  /**
   * Validate now but map on first use ({@link MmapSegment.ensureMapped}):
   * recovery of a slot with many sealed segments maps only those a reader
   * reaches. Default false.
   */
  lazy?: boolean;
  /**
   * What a scan of this file just found (recovery scans every segment
   * once, with the slot locked): used instead of scanning it again.
   */
  scan?: SegmentScan;
}

const UNMAPPED_BUFFER = new ArrayBuffer(0);
const UNMAPPED_BYTES = new Uint8Array(UNMAPPED_BUFFER);
const UNMAPPED_VIEW = new DataView(UNMAPPED_BUFFER);

function nowMicros(): number {
  return Date.now() * 1000;
}

/** Writes the header, magic last: a crash part-way leaves no magic, so the file reads as a half-made spare. */
function writeHeader(view: DataView, baseSeq: number, createdMicros: number, flags: number): void {
  view.setUint8(4, SEGMENT_VERSION);
  view.setUint8(5, flags);
  view.setUint16(6, 0, true);
  writeU64(view, 8, baseSeq);
  writeU64(view, 16, createdMicros);
  view.setUint32(0, SEGMENT_MAGIC, true);
}

/** Throws {@link BadArgumentError} unless `sizeBytes` is a usable segment size. */
export function checkSegmentSize(sizeBytes: number): void {
  if (
    !Number.isInteger(sizeBytes) ||
    sizeBytes < MIN_SEGMENT_SIZE ||
    sizeBytes > MAX_SEGMENT_SIZE
  ) {
    throw new BadArgumentError(
      `segment size ${sizeBytes} is outside [${MIN_SEGMENT_SIZE}, ${MAX_SEGMENT_SIZE}] bytes`,
    );
  }
}

function checkFlags(flags: number): void {
  if ((flags & ~SEGMENT_FLAG_MANIFEST_REQUIRED) !== 0) {
    throw new BadArgumentError(`segment flags 0x${flags.toString(16)} set an undefined bit`);
  }
}

function checkSeq(baseSeq: number): void {
  if (!Number.isSafeInteger(baseSeq) || baseSeq < 0) {
    throw new BadArgumentError(`baseSeq ${baseSeq} is not a non-negative safe integer`);
  }
}

/**
 * One segment: a fixed-size file mapped MAP_SHARED (or a SharedArrayBuffer
 * in memory mode) holding a 24-byte header and CRC32C-framed payloads.
 * It holds no file descriptor: the mapping alone keeps the file's pages, so
 * a slot of thousands of segments never runs out of descriptors.
 *
 * Single producer: only the owning thread calls {@link tryAppend}. Bytes
 * below {@link publishedOffset} are complete and never change again.
 */
export class MmapSegment {
  private mem: ArrayBuffer | SharedArrayBuffer;
  private memBytes: Uint8Array;
  private memView: DataView;
  readonly sizeBytes: number;
  /** True for a SharedArrayBuffer segment with no file behind it. */
  readonly inMemory: boolean;
  readonly readOnly: boolean;
  /** Length of the torn suffix found by {@link openExisting}; 0 otherwise. */
  readonly tornTailBytes: number;
  private _path: string;
  private _baseSeq: number;
  private _flags: number;
  /** Bytes below this offset are known to be on disk (msynced); recovered segments start at the header. */
  private durableCursor: number;
  private _frameCount: number;
  private _payloadBytes: number;
  private appendCursor: number;
  private publishedCursor: number;
  private mapped: boolean;
  /** mapped, not closed, not read-only: the one flag the hot path checks. */
  private writable: boolean;
  private closed = false;
  /** The torn tail found at open was zeroed on disk. */
  private tailZeroed = false;

  private constructor(
    private readonly files: FilesFacade | undefined,
    path: string,
    buffer: ArrayBuffer | SharedArrayBuffer | undefined,
    sizeBytes: number,
    state: FrameState,
    readOnly: boolean,
  ) {
    this._path = path;
    // An unmapped (lazy) segment shares one empty view until it is mapped.
    this.mem = buffer ?? UNMAPPED_BUFFER;
    this.memBytes = buffer === undefined ? UNMAPPED_BYTES : new Uint8Array(buffer);
    this.memView = buffer === undefined ? UNMAPPED_VIEW : new DataView(buffer);
    this.sizeBytes = sizeBytes;
    this.inMemory = files === undefined;
    this.readOnly = readOnly;
    this.mapped = buffer !== undefined;
    this.writable = this.mapped && !readOnly;
    this._baseSeq = state.baseSeq;
    this._flags = state.flags;
    this.durableCursor = SEGMENT_HEADER_SIZE;
    this.appendCursor = state.appendOffset;
    this.publishedCursor = state.appendOffset;
    this._frameCount = state.frameCount;
    this._payloadBytes = state.payloadBytes;
    this.tornTailBytes = state.tornTailBytes;
  }

  /** The mapping (file mode) or SharedArrayBuffer (memory mode); empty until mapped. */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.mem;
  }

  /** {@link buffer} as bytes. */
  get bytes(): Uint8Array {
    return this.memBytes;
  }

  /** {@link buffer} as a DataView. */
  get view(): DataView {
    return this.memView;
  }

  /**
   * Creates `path` exclusively (O_EXCL: a spare never replaces a file),
   * reserves all `sizeBytes` on disk with fallocate (a full disk fails here,
   * never as SIGBUS later), maps it and writes the header into the mapping.
   * The header is not yet durable: call {@link syncHeader}. On any failure
   * the half-made file is unlinked and a {@link SegmentIoError} names the
   * step that failed.
   */
  static create(
    path: string,
    baseSeq: number,
    sizeBytes: number,
    options: CreateSegmentOptions = {},
  ): MmapSegment {
    checkSegmentSize(sizeBytes);
    checkSeq(baseSeq);
    const flags = options.flags ?? 0;
    checkFlags(flags);
    const files = options.files ?? defaultFiles;
    const fd = openFile(files, path, 'wx+', 'create segment', 0o644);
    let buffer: ArrayBuffer | undefined;
    let step = 'fallocate';
    try {
      files.fallocate(fd, 0, sizeBytes);
      step = 'mmap';
      buffer = files.mmap(fd, 0, sizeBytes, 'rw');
      writeHeader(new DataView(buffer), baseSeq, options.createdMicros ?? nowMicros(), flags);
      step = 'close';
      files.close(fd);
      return new MmapSegment(files, path, buffer, sizeBytes, emptyState(baseSeq, flags), false);
    } catch (err) {
      const failure = new SegmentIoError(
        `cannot create segment ${path}: ${step} failed: ${reasonOf(err)}`,
        path,
        err,
      );
      // Clean-up failures ride on the create failure (its `suppressed`): the
      // mapping is released at GC anyway, and a file left behind by a failed
      // unlink holds no frame (recovery drops it as an empty spare).
      unmapQuietlyInto(files, buffer, failure);
      if (step !== 'close') closeQuietlyInto(files, fd, failure);
      try {
        files.unlink(path);
      } catch (err) {
        suppress(
          failure,
          new SegmentIoError(
            `cannot unlink half-made segment ${path}: ${reasonOf(err)}`,
            path,
            err,
          ),
        );
      }
      throw failure;
    }
  }

  /**
   * A segment with the same layout in a SharedArrayBuffer, for memory mode;
   * `reuse` hands it the buffer of a released segment of the same size.
   */
  static createInMemory(
    baseSeq: number,
    sizeBytes: number,
    createdMicros?: number,
    reuse?: { buffer: SharedArrayBuffer; usedBytes: number },
  ): MmapSegment {
    checkSegmentSize(sizeBytes);
    checkSeq(baseSeq);
    let buffer: SharedArrayBuffer;
    if (reuse !== undefined && reuse.buffer.byteLength === sizeBytes) {
      // A released segment's memory, already faulted in: zeroed where frames were,
      // so no stale frame can pass for a new one behind the append cursor.
      buffer = reuse.buffer;
      new Uint8Array(buffer, 0, Math.min(reuse.usedBytes, sizeBytes)).fill(0);
    } else {
      buffer = new SharedArrayBuffer(sizeBytes);
    }
    writeHeader(new DataView(buffer), baseSeq, createdMicros ?? nowMicros(), 0);
    return new MmapSegment(
      undefined,
      `memory:${baseSeq}`,
      buffer,
      sizeBytes,
      emptyState(baseSeq, 0),
      false,
    );
  }

  /**
   * Opens an existing segment: validates the header and walks the frames
   * with positioned reads BEFORE mapping, stops at the first impossible
   * length or bad CRC, and resumes appends there. Nothing on disk changes
   * here; before appending, the owner calls {@link prepareForAppends}. A bad
   * header throws.
   */
  static openExisting(path: string, options: OpenSegmentOptions = {}): MmapSegment {
    const files = options.files ?? defaultFiles;
    const readOnly = options.readOnly ?? false;
    const given = options.scan;
    if (options.lazy === true && given !== undefined && given.fileSize <= MAX_SEGMENT_SIZE) {
      // Nothing to read: ensureMapped checks the size before and after it maps.
      return new MmapSegment(files, path, undefined, given.fileSize, given, readOnly);
    }
    const fd = openFile(files, path, readOnly ? 'r' : 'r+', 'open segment');
    let buffer: ArrayBuffer | undefined;
    try {
      const scan = useThenClose(files, fd, path, () => {
        const size = sizeOf(files, fd, path);
        if (size > MAX_SEGMENT_SIZE) {
          throw new SegmentCorruptError(`${path} is ${size} bytes, larger than any segment`, path);
        }
        const found =
          options.scan !== undefined && options.scan.fileSize === size
            ? options.scan
            : scanSegment(files, fd, path, size);
        // The scan's findings and the mapping's length both assume `size`: check it
        // held, after the scan and again once mapped (as the Java client does). A
        // lazy segment is checked by ensureMapped instead, before and after it maps,
        // which saves recovery one fstat per sealed segment.
        if (options.lazy !== true) {
          expectSize(files, fd, path, size, 'while it was scanned');
          buffer = mapFile(files, fd, path, size, readOnly);
          expectSize(files, fd, path, size, 'while it was mapped');
        }
        return found;
      });
      return new MmapSegment(files, path, buffer, scan.fileSize, scan, readOnly);
    } catch (err) {
      // A size check or the close failed after mapping; the fd is already closed.
      unmapQuietlyInto(files, buffer, err);
      throw err;
    }
  }

  /** The file path (file mode) or `memory:<baseSeq>` (memory mode). */
  get path(): string {
    return this._path;
  }

  /** FSN of the first frame this segment holds (or will hold). */
  get baseSeq(): number {
    return this._baseSeq;
  }

  /** Frames published in this segment. */
  get frameCount(): number {
    return this._frameCount;
  }

  /** Header flags (bit 0: {@link SEGMENT_FLAG_MANIFEST_REQUIRED}). */
  get flags(): number {
    return this._flags;
  }

  /** Offset below which the segment's bytes are known to be on disk. */
  get durableOffset(): number {
    return this.inMemory ? this.publishedCursor : this.durableCursor;
  }

  /** Sum of the payload lengths of every frame in the segment. */
  get payloadBytes(): number {
    return this._payloadBytes;
  }

  /** Where the next frame goes. */
  get appendOffset(): number {
    return this.appendCursor;
  }

  /** Bytes below this offset are complete frames; never read at or past it. */
  get publishedOffset(): number {
    return this.publishedCursor;
  }

  /** FSN the next appended frame gets. */
  get nextSeq(): number {
    return this._baseSeq + this._frameCount;
  }

  /** Largest payload an empty segment of this size holds. */
  get maxPayload(): number {
    return maxPayloadOf(this.sizeBytes);
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Maps a segment opened with `lazy` (a no-op when already mapped). */
  ensureMapped(): void {
    if (this.mapped) return;
    if (this.closed) throw new ClosedError(`segment ${this._path}`);
    const files = this.files!;
    const path = this._path;
    const fd = openFile(files, path, this.readOnly ? 'r' : 'r+', 'open segment');
    let mapped: ArrayBuffer | undefined;
    try {
      useThenClose(files, fd, path, () => {
        expectSize(files, fd, path, this.sizeBytes, 'since it was validated');
        mapped = mapFile(files, fd, path, this.sizeBytes, this.readOnly);
        expectSize(files, fd, path, this.sizeBytes, 'while it was mapped');
      });
    } catch (err) {
      unmapQuietlyInto(files, mapped, err);
      throw err;
    }
    this.mem = mapped!;
    this.memBytes = new Uint8Array(this.mem);
    this.memView = new DataView(this.mem);
    this.mapped = true;
    this.writable = !this.readOnly;
  }

  /**
   * Appends one frame (CRC32C over length and payload, length, copy) and
   * publishes it. Returns the frame's offset, or -1 when it does not fit (the
   * caller rotates). No allocation, no syscall.
   */
  tryAppend(payload: Uint8Array): number {
    if (!this.writable) throw new ClosedError(`segment ${this._path} for appends`);
    const len = payload.length;
    // The Java and Rust clients refuse a slot holding an empty frame.
    if (len === 0) throw new BadArgumentError(`empty frame payload for ${this._path}`);
    const off = this.appendCursor;
    const end = off + FRAME_HEADER_SIZE + len;
    if (end > this.sizeBytes) return -1;
    this.memView.setUint32(off + 4, len, true);
    this.memBytes.set(payload, off + FRAME_HEADER_SIZE);
    this.memView.setUint32(off, crc32cRange(this.memBytes, off + 4, 4 + len), true);
    this.appendCursor = end;
    this._frameCount++;
    this._payloadBytes += len;
    this.publishedCursor = end;
    return off;
  }

  /**
   * Re-stamps the header's baseSeq of a still-empty segment: a hot spare is
   * made before the producer knows where the active segment will end. Call
   * {@link syncHeader} before anything depends on the new value.
   */
  rebaseSeq(baseSeq: number): void {
    checkSeq(baseSeq);
    if (!this.writable) throw new ClosedError(`segment ${this._path}`);
    if (this._frameCount > 0) {
      throw new BadArgumentError(
        `cannot rebase ${this._path}: it already holds ${this._frameCount} frame(s)`,
      );
    }
    this._baseSeq = baseSeq;
    writeU64(this.memView, 8, baseSeq);
  }

  /** msync(MS_SYNC) of the 24-byte header. No-op in memory mode. */
  syncHeader(): void {
    if (this.files === undefined) return;
    this.ensureMapped();
    try {
      this.files.msync(this.mem as ArrayBuffer, 0, SEGMENT_HEADER_SIZE, true);
    } catch (err) {
      throw new SegmentIoError(
        `cannot msync the header of ${this._path}: ${reasonOf(err)}`,
        this._path,
        err,
      );
    }
  }

  /**
   * Sets the header's MANIFEST_REQUIRED flag and makes it durable (pwrite of
   * the flag byte and fsync, so an unmapped sealed segment stays unmapped).
   * One way: the flag promises `sf-manifest.bin` exists.
   */
  stampManifestRequired(): void {
    const files = this.files;
    if (files === undefined || (this._flags & SEGMENT_FLAG_MANIFEST_REQUIRED) !== 0) return;
    const flags = this._flags | SEGMENT_FLAG_MANIFEST_REQUIRED;
    const path = this._path;
    const fd = openFile(files, path, 'r+', 'open segment');
    useThenClose(files, fd, path, () => {
      writeFully(files, fd, path, Uint8Array.of(flags), 0, 1, 5);
      try {
        files.fsync(fd);
      } catch (err) {
        throw new SegmentIoError(`cannot fsync ${path}: ${reasonOf(err)}`, path, err);
      }
    });
    this._flags = flags;
  }

  /**
   * Makes a recovered segment safe to append to: reserves its blocks (a
   * sparse file would otherwise fault with SIGBUS on a full disk) and zeroes
   * a torn tail, so stale bytes can never pass for frames behind new,
   * shorter ones.
   */
  prepareForAppends(): void {
    const files = this.files;
    if (files === undefined || this.closed || this.readOnly) return;
    const path = this._path;
    const fd = openFile(files, path, 'r+', 'open segment');
    useThenClose(files, fd, path, () => {
      try {
        files.fallocate(fd, 0, this.sizeBytes);
      } catch (err) {
        throw new SegmentIoError(`cannot reserve ${path}: ${reasonOf(err)}`, path, err);
      }
      if (this.tornTailBytes > 0 && !this.tailZeroed) {
        zeroTail(files, fd, path, this.appendCursor, this.sizeBytes);
        this.tailZeroed = true;
      }
    });
  }

  /**
   * Zeroes a torn tail on disk and fsyncs (a sealed segment's residue after
   * its last frame, which can never be data: the next segment continues the
   * FSNs). Positioned writes, so the segment needs no mapping.
   */
  zeroTornTail(): void {
    const files = this.files;
    if (files === undefined || this.tornTailBytes === 0 || this.tailZeroed || this.readOnly) return;
    const path = this._path;
    const fd = openFile(files, path, 'r+', 'open segment');
    useThenClose(files, fd, path, () =>
      zeroTail(files, fd, path, this.appendCursor, this.sizeBytes),
    );
    this.tailZeroed = true;
  }

  /**
   * Cuts the segment back to its first `keep` frames: zeroes every byte from
   * the end of frame `keep - 1` to the old append offset and msyncs that
   * range before returning, so the cut survives an OS crash. A crash part-way
   * leaves a prefix of the cut frames (the scan stops at the first zeroed
   * frame). Recovery-time only (cutting an aborted tail); the segment must be
   * mapped read-write and hold at least `keep` frames.
   */
  truncateFrames(keep: number): void {
    if (keep < 0 || keep > this._frameCount) {
      throw new BadArgumentError(
        `cannot keep ${keep} of the ${this._frameCount} frame(s) of ${this._path}`,
      );
    }
    if (keep === this._frameCount) return;
    this.ensureMapped();
    if (!this.writable) throw new ClosedError(`segment ${this._path} for writes`);
    let off = SEGMENT_HEADER_SIZE;
    let payload = 0;
    for (let i = 0; i < keep; i++) {
      const len = this.memView.getUint32(off + 4, true);
      off += FRAME_HEADER_SIZE + len;
      payload += len;
    }
    const oldEnd = this.appendCursor;
    this.memBytes.fill(0, off, oldEnd);
    this.appendCursor = off;
    this.publishedCursor = off;
    this._frameCount = keep;
    this._payloadBytes = payload;
    if (this.files !== undefined) {
      try {
        this.files.msync(this.mem as ArrayBuffer, off, oldEnd - off, true);
      } catch (err) {
        throw new SegmentIoError(`cannot msync ${this._path}: ${reasonOf(err)}`, this._path, err);
      }
    }
    this.durableCursor = Math.min(this.durableCursor, off);
  }

  /**
   * Touches every page of the mapping (read one byte, write it back) so the
   * page faults of a fresh segment happen here, on the manager's time, and
   * not one per page inside {@link tryAppend}. Changes no byte.
   */
  prefault(): void {
    if (!this.writable) return;
    const b = this.memBytes;
    for (let off = 0; off < b.length; off += PREFAULT_STRIDE) b[off] = b[off]!;
  }

  /**
   * Flushes the published frames not yet known to be on disk (MS_SYNC when
   * `sync`; only MS_SYNC moves {@link durableOffset}). A segment already
   * durable up to its published offset makes no syscall. No-op in memory mode.
   */
  msync(sync = true): void {
    if (this.files === undefined || this.closed) return;
    const from = this.durableCursor;
    const to = this.publishedCursor;
    if (to <= from) return;
    this.ensureMapped();
    try {
      this.files.msync(this.mem as ArrayBuffer, from, to - from, sync);
    } catch (err) {
      throw new SegmentIoError(`cannot msync ${this._path}: ${reasonOf(err)}`, this._path, err);
    }
    if (sync) this.durableCursor = to;
  }

  /**
   * Records that the file's bytes below `offset` reached the disk by other
   * means (an fdatasync of the file started after they were published), so
   * {@link msync} starts past them.
   */
  noteDurable(offset: number): void {
    this.durableCursor = Math.max(this.durableCursor, Math.min(offset, this.publishedCursor));
  }

  /** Unmaps (file mode) or drops the buffer (memory mode). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writable = false;
    const files = this.files;
    if (files === undefined || !this.mapped) return;
    try {
      files.munmap(this.mem as ArrayBuffer);
    } catch (err) {
      throw new SegmentIoError(`cannot unmap ${this._path}: ${reasonOf(err)}`, this._path, err);
    }
  }
}

/** 4 KiB: the smallest page size in use, so every page is touched whatever the real size. */
const PREFAULT_STRIDE = 4096;

let zeroes: Uint8Array | undefined;

/** Zeroes `[from, to)` of the open file with positioned writes, then fsyncs it. */
function zeroTail(files: FilesFacade, fd: number, path: string, from: number, to: number): void {
  zeroes ??= new Uint8Array(64 * 1024);
  for (let pos = from; pos < to; pos += zeroes.length) {
    writeFully(files, fd, path, zeroes, 0, Math.min(zeroes.length, to - pos), pos);
  }
  try {
    files.fsync(fd);
  } catch (err) {
    throw new SegmentIoError(`cannot fsync ${path}: ${reasonOf(err)}`, path, err);
  }
}
