import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { ControlBlock } from '../control-block.js';
import { SegmentCorruptError } from '../errors.js';
import {
  expectSize,
  mapFile,
  openFileIfExists,
  sizeOf,
  unmapQuietlyInto,
  useThenClose,
} from '../file-io.js';
import { SEGMENT_HEADER_SIZE, segmentFileName } from '../format.js';
import { listSegmentFiles, type Slot } from '../recovery/open-slot.js';
import { FrameReader, type SegmentSource, type SegmentView } from './frame-reader.js';
import type { SegmentRing } from './segment-ring.js';
import { readSegmentHeader } from './segment-scan.js';

/**
 * Everything a second thread needs to read a log, as structured-clonable
 * data: post it to a worker and call {@link openReader} there.
 */
export type ReaderDescription =
  | { kind: 'file'; slotDir: string; control: SharedArrayBuffer }
  | {
      kind: 'memory';
      control: SharedArrayBuffer;
      segments: { baseSeq: number; buffer: SharedArrayBuffer }[];
    };

/** Describes an open file-mode slot for a reader thread (which maps its files read-only itself). */
export function describeSlot(slot: Slot): ReaderDescription {
  return { kind: 'file', slotDir: slot.dir, control: slot.ring.control.buffer };
}

/**
 * Describes a memory-mode ring. Segments activated later reach the reader
 * through {@link OpenedReader.addSegment} (post them from the ring's `onActivate`).
 */
export function describeMemoryRing(ring: SegmentRing): ReaderDescription {
  return {
    kind: 'memory',
    control: ring.control.buffer,
    segments: ring.segments().map((s) => ({
      baseSeq: s.baseSeq,
      buffer: s.buffer as SharedArrayBuffer,
    })),
  };
}

function viewOf(
  baseSeq: number,
  buffer: ArrayBuffer | SharedArrayBuffer,
  path: string,
): SegmentView {
  return { baseSeq, buffer, bytes: new Uint8Array(buffer), view: new DataView(buffer), path };
}

/** Finds segments by name in a slot directory and maps them read-only. */
class FileSegmentSource implements SegmentSource {
  constructor(
    private readonly dir: string,
    private readonly files: FilesFacade,
  ) {}

  segmentFor(fsn: number): SegmentView | null {
    const { segments } = listSegmentFiles(this.dir, this.files);
    let pick: string | undefined;
    for (const s of segments) if (s.baseSeq <= fsn) pick = s.name;
    return pick === undefined ? null : this.map(`${this.dir}/${pick}`);
  }

  segmentStartingAt(baseSeq: number): SegmentView | null {
    const seg = this.map(`${this.dir}/${segmentFileName(baseSeq)}`);
    if (seg !== null && seg.baseSeq !== baseSeq) {
      this.done(seg);
      throw new SegmentCorruptError(
        `${seg.path} has baseSeq ${seg.baseSeq} in its header, not ${baseSeq}`,
        seg.path,
      );
    }
    return seg;
  }

  done(segment: SegmentView): void {
    this.files.munmap(segment.buffer as ArrayBuffer);
  }

  private map(path: string): SegmentView | null {
    const files = this.files;
    const fd = openFileIfExists(files, path, 'r', 'open segment');
    if (fd === undefined) return null;
    // Closed once mapped: the mapping keeps the file alive.
    let buffer: ArrayBuffer | undefined;
    try {
      useThenClose(files, fd, path, () => {
        const size = sizeOf(files, fd, path);
        if (size < SEGMENT_HEADER_SIZE) {
          throw new SegmentCorruptError(`${path} is shorter than a segment header`, path);
        }
        buffer = mapFile(files, fd, path, size, true);
        // A file cut short after the fstat would fault (SIGBUS) past its new end.
        expectSize(files, fd, path, size, 'while it was mapped');
      });
      const mapped = buffer!;
      return viewOf(readSegmentHeader(new DataView(mapped), 0, path).baseSeq, mapped, path);
    } catch (err) {
      unmapQuietlyInto(files, buffer, err);
      throw err;
    }
  }
}

/** Memory-mode segments as SharedArrayBuffers, keyed by baseSeq. */
class MemorySegmentSource implements SegmentSource {
  private readonly byBase = new Map<number, SharedArrayBuffer>();

  add(baseSeq: number, buffer: SharedArrayBuffer): void {
    this.byBase.set(baseSeq, buffer);
  }

  segmentFor(fsn: number): SegmentView | null {
    let best = -1;
    for (const b of this.byBase.keys()) if (b <= fsn && b > best) best = b;
    return best < 0 ? null : this.segmentStartingAt(best);
  }

  segmentStartingAt(baseSeq: number): SegmentView | null {
    const buf = this.byBase.get(baseSeq);
    return buf === undefined ? null : viewOf(baseSeq, buf, `memory:${baseSeq}`);
  }

  done(segment: SegmentView): void {
    // A segment the reader has left is never needed again: forget it and every older one.
    for (const b of this.byBase.keys()) if (b <= segment.baseSeq) this.byBase.delete(b);
  }
}

/** A reader opened from a {@link ReaderDescription}. */
export interface OpenedReader {
  readonly reader: FrameReader;
  readonly control: ControlBlock;
  /** Memory mode: hands the reader a segment activated after the description was made. */
  addSegment(baseSeq: number, buffer: SharedArrayBuffer): void;
}

/**
 * Builds a reader from a description, typically on a worker thread. File
 * mode maps segments read-only as it reaches them; memory mode reads the
 * shared buffers. Reads start at `fromFsn` (default: first un-acked FSN).
 */
export function openReader(
  description: ReaderDescription,
  options: { files?: FilesFacade; fromFsn?: number } = {},
): OpenedReader {
  const control = new ControlBlock(description.control);
  const from = options.fromFsn ?? control.ackedFsn + 1;
  if (description.kind === 'file') {
    const source = new FileSegmentSource(description.slotDir, options.files ?? defaultFiles);
    return {
      reader: new FrameReader(source, control, from),
      control,
      addSegment() {},
    };
  }
  const source = new MemorySegmentSource();
  for (const s of description.segments) source.add(s.baseSeq, s.buffer);
  return {
    reader: new FrameReader(source, control, from),
    control,
    addSegment: (baseSeq, buffer) => source.add(baseSeq, buffer),
  };
}
