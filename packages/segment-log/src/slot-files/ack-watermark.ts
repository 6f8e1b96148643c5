/**
 * `.ack-watermark`: the highest acknowledged FSN, persisted (Java's
 * AckWatermark, Rust's SfaAckWatermark). Same 8192-byte two-record shape as
 * the manifest; record field `first` is the FSN (-1 = none acknowledged).
 *
 * Like Java, the file is mapped for the slot's lifetime: recording an ACK is
 * a few stores and a CRC into the mapping, no syscall, and survives a
 * process crash (the page cache has it). {@link AckWatermark.sync} (msync)
 * makes it survive an OS crash; the trim and close orders call it before
 * they delete anything the ACK covers. A missing or unusable watermark only
 * costs a re-replay of acknowledged frames, never a loss, so a bad file is
 * reset rather than refused.
 */
import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { ClosedError, errnoOf, reasonOf, SegmentIoError } from '../errors.js';
import {
  mapFile,
  openFile,
  readFully,
  sizeOf,
  syncDirectory,
  unmapQuietlyInto,
  useThenClose,
} from '../file-io.js';
import { ACK_WATERMARK_FILE_NAME } from '../format.js';
import { DUAL_RECORD_FILE_SIZE, encodeRecord, recordOffset, selectRecord } from './dual-record.js';

/** 'AKW1' read as a little-endian u32. */
export const ACK_WATERMARK_MAGIC = 0x31574b41;

/** What `.ack-watermark` holds, read without changing it. */
export type WatermarkState =
  | { kind: 'absent'; path: string }
  | { kind: 'valid'; path: string; generation: number; ackedFsn: number }
  /**
   * Wrong size (the legacy 16-byte format too) or no valid record: reset when
   * the slot opens. `empty`: all zeros, as the file is created before its
   * first ACK (nothing acknowledged yet, not damage).
   */
  | { kind: 'invalid'; path: string; reason: string; empty?: boolean };

export function watermarkPath(slotDir: string): string {
  return `${slotDir}/${ACK_WATERMARK_FILE_NAME}`;
}

function judge(path: string, image: Uint8Array): WatermarkState {
  if (image.length !== DUAL_RECORD_FILE_SIZE) {
    return {
      kind: 'invalid',
      path,
      reason: `${path} is ${image.length} bytes, not ${DUAL_RECORD_FILE_SIZE}`,
    };
  }
  const record = selectRecord(image, ACK_WATERMARK_MAGIC, (r) => r.first >= -1);
  if (record === undefined) {
    const empty = image.every((b) => b === 0);
    return {
      kind: 'invalid',
      path,
      reason: empty
        ? `${path} holds no record yet (all zeros: nothing acknowledged)`
        : `${path} holds no valid CRC-checked record`,
      empty,
    };
  }
  return { kind: 'valid', path, generation: record.generation, ackedFsn: record.first };
}

/** Reads `.ack-watermark` of `slotDir` with positioned reads, changing nothing. */
export function readAckWatermark(
  slotDir: string,
  files: FilesFacade = defaultFiles,
): WatermarkState {
  const path = watermarkPath(slotDir);
  let fd: number;
  try {
    fd = files.open(path, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return { kind: 'absent', path };
    throw new SegmentIoError(`cannot open ACK watermark ${path}: ${reasonOf(err)}`, path, err);
  }
  return useThenClose(files, fd, path, () => {
    const size = sizeOf(files, fd, path);
    // A wrong size is judged on the size alone: never read a huge file into memory.
    const image = new Uint8Array(size === DUAL_RECORD_FILE_SIZE ? size : 0);
    if (size === DUAL_RECORD_FILE_SIZE) readFully(files, fd, path, image, 0, size, 0);
    const state = judge(path, image);
    return state.kind === 'invalid' && size !== DUAL_RECORD_FILE_SIZE
      ? { ...state, reason: `${path} is ${size} bytes, not ${DUAL_RECORD_FILE_SIZE}` }
      : state;
  });
}

/** An open, mapped `.ack-watermark`. */
export class AckWatermark {
  private generationValue: number;
  private fsn: number | undefined;
  private closed = false;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  private constructor(
    private readonly files: FilesFacade,
    readonly path: string,
    private readonly buffer: ArrayBuffer,
    /** What the file held when opened (before any reset). */
    readonly found: WatermarkState,
  ) {
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    this.generationValue = found.kind === 'valid' ? found.generation : 0;
    this.fsn = found.kind === 'valid' ? found.ackedFsn : undefined;
  }

  /**
   * Opens `<slotDir>/.ack-watermark` and maps it. A missing file is created;
   * one of the wrong size is reset to 8192 zero bytes (no record), as the
   * references do. A file created or reset here has its directory entry
   * fsynced before this returns.
   */
  static open(slotDir: string, files: FilesFacade = defaultFiles): AckWatermark {
    const path = watermarkPath(slotDir);
    let size = -1;
    try {
      size = files.stat(path).size;
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') {
        throw new SegmentIoError(`cannot stat ACK watermark ${path}: ${reasonOf(err)}`, path, err);
      }
    }
    const reuse = size === DUAL_RECORD_FILE_SIZE;
    const fd = reuse
      ? openFile(files, path, 'r+', 'open ACK watermark')
      : openFile(files, path, 'w+', 'create ACK watermark', 0o644);
    let buffer: ArrayBuffer | undefined;
    try {
      const found = useThenClose(files, fd, path, () => {
        if (!reuse) {
          try {
            files.fallocate(fd, 0, DUAL_RECORD_FILE_SIZE);
          } catch (err) {
            throw new SegmentIoError(`cannot reserve ${path}: ${reasonOf(err)}`, path, err);
          }
        }
        buffer = mapFile(files, fd, path, DUAL_RECORD_FILE_SIZE, false);
        return judge(path, new Uint8Array(buffer));
      });
      if (!reuse) syncDirectory(files, slotDir);
      const state: WatermarkState = reuse
        ? found
        : size < 0
          ? { kind: 'absent', path }
          : {
              kind: 'invalid',
              path,
              reason: `${path} was ${size} bytes, not ${DUAL_RECORD_FILE_SIZE}; reset`,
            };
      return new AckWatermark(files, path, buffer!, state);
    } catch (err) {
      unmapQuietlyInto(files, buffer, err);
      throw err;
    }
  }

  /** Deletes `.ack-watermark` if present. */
  static remove(slotDir: string, files: FilesFacade = defaultFiles): void {
    const path = watermarkPath(slotDir);
    try {
      files.unlink(path);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') {
        throw new SegmentIoError(`cannot delete ${path}: ${reasonOf(err)}`, path, err);
      }
    }
  }

  /**
   * Re-reads the current record from the mapping: another mapping of the
   * same file (an I/O worker's, see `openSlot`'s `ackWrittenElsewhere`) may
   * have written newer records since this one last wrote.
   */
  refresh(): void {
    if (this.closed) throw new ClosedError(`ACK watermark ${this.path}`);
    const state = judge(this.path, this.bytes);
    if (state.kind === 'valid' && state.generation >= this.generationValue) {
      this.generationValue = state.generation;
      this.fsn = state.ackedFsn;
    }
  }

  /** The FSN of the current record, or undefined when no record is valid yet. */
  get ackedFsn(): number | undefined {
    return this.fsn;
  }

  /** The generation of the current record: it grows by one per write. */
  get generation(): number {
    return this.generationValue;
  }

  /**
   * Writes `fsn` (>= -1) as the next generation into the record that is not
   * current. Stores into the mapping only: no syscall, no allocation.
   */
  write(fsn: number): void {
    if (this.closed) throw new ClosedError(`ACK watermark ${this.path}`);
    const generation = this.generationValue + 1;
    encodeRecord(
      this.bytes,
      this.view,
      recordOffset(generation),
      ACK_WATERMARK_MAGIC,
      generation,
      fsn,
      0,
    );
    this.generationValue = generation;
    this.fsn = fsn;
  }

  /** msync(MS_SYNC) of the file: the record written last survives an OS crash. */
  sync(): void {
    if (this.closed) throw new ClosedError(`ACK watermark ${this.path}`);
    try {
      this.files.msync(this.buffer, 0, DUAL_RECORD_FILE_SIZE, true);
    } catch (err) {
      throw new SegmentIoError(`cannot msync ${this.path}: ${reasonOf(err)}`, this.path, err);
    }
  }

  /** Unmaps the file (whatever was written stays in the page cache). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.files.munmap(this.buffer);
    } catch (err) {
      throw new SegmentIoError(`cannot unmap ${this.path}: ${reasonOf(err)}`, this.path, err);
    }
  }
}
