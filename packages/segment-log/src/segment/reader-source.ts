import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import { ControlBlock } from '../control-block.js';
import { BadDirectoryError, errnoOf, reasonOf, SegmentCorruptError } from '../errors.js';
import {
  expectSize,
  mapFile,
  openFileIfExists,
  readFully,
  sizeOf,
  unmapQuietlyInto,
  useThenClose,
} from '../file-io.js';
import { FRAME_HEADER_SIZE, SEGMENT_HEADER_SIZE, SEGMENT_SUFFIX } from '../format.js';
import type { Slot } from '../recovery/slot.js';
import { FrameReader, type SegmentSource, type SegmentView } from './frame-reader.js';
import type { SegmentRing } from './segment-ring.js';
import { readSegmentHeader } from './segment-scan.js';

/** A segment file as a reader on another thread learns of it. */
export interface SegmentFileRef {
  baseSeq: number;
  path: string;
}

/**
 * Everything a second thread needs to read a log, as structured-clonable
 * data: post it to a worker and call {@link openReader} there.
 */
export type ReaderDescription =
  | {
      kind: 'file';
      slotDir: string;
      control: SharedArrayBuffer;
      /** The slot's segments when described; later ones are found by the reader (or posted). */
      segments: SegmentFileRef[];
    }
  | {
      kind: 'memory';
      control: SharedArrayBuffer;
      segments: { baseSeq: number; buffer: SharedArrayBuffer }[];
    };

/**
 * Describes an open file-mode slot for a reader thread, which maps its
 * segment files read-only itself. Segments activated later are found by
 * the reader in the directory (by their headers' baseSeq; names carry no
 * FSN), or posted to it from the ring's `onActivate` with
 * {@link OpenedReader.addSegment}`(baseSeq, path)`, which saves it a
 * directory scan per segment.
 */
export function describeSlot(slot: Slot): ReaderDescription {
  return {
    kind: 'file',
    slotDir: slot.dir,
    control: slot.ring.control.buffer,
    segments: slot.ring.segments().map((s) => ({ baseSeq: s.baseSeq, path: s.path })),
  };
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

const probe = new Uint8Array(SEGMENT_HEADER_SIZE + FRAME_HEADER_SIZE);
const probeView = new DataView(probe.buffer);

/**
 * Finds segments of a slot directory by their header's baseSeq and maps
 * them read-only. A file counts once its first frame has a length, i.e.
 * once it took frames: an empty spare's provisional baseSeq can change.
 */
class FileSegmentSource implements SegmentSource {
  private readonly byBase = new Map<number, string>();
  private readonly known = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly files: FilesFacade,
    refs: SegmentFileRef[],
  ) {
    for (const r of refs) this.add(r.baseSeq, r.path);
  }

  add(baseSeq: number, path: string): void {
    this.byBase.set(baseSeq, path);
    this.known.add(path);
  }

  segmentFor(fsn: number): SegmentView | null {
    // Seeks are rare: look at the directory so a newer segment is not missed.
    this.rescan();
    let best = -1;
    for (const b of this.byBase.keys()) if (b <= fsn && b > best) best = b;
    return best < 0 ? null : this.mapKnown(best);
  }

  segmentStartingAt(baseSeq: number): SegmentView | null {
    if (this.byBase.has(baseSeq)) {
      const seg = this.mapKnown(baseSeq);
      if (seg !== null) return seg;
    }
    this.rescan();
    return this.byBase.has(baseSeq) ? this.mapKnown(baseSeq) : null;
  }

  mustHold(): boolean {
    // Every segment's file exists, its header stamped, before its first frame is published.
    return true;
  }

  done(segment: SegmentView): void {
    this.files.munmap(segment.buffer as ArrayBuffer);
  }

  /** Maps the file known for `baseSeq`; forgets it (and returns null) when it was deleted. */
  private mapKnown(baseSeq: number): SegmentView | null {
    const path = this.byBase.get(baseSeq)!;
    const seg = this.map(path);
    if (seg === null) {
      this.byBase.delete(baseSeq);
      this.known.delete(path);
      return null;
    }
    if (seg.baseSeq !== baseSeq) {
      this.done(seg);
      throw new SegmentCorruptError(
        `${path} has baseSeq ${seg.baseSeq} in its header, not ${baseSeq}`,
        path,
      );
    }
    return seg;
  }

  /** Reads the header of every `*.sfa` not known yet and records those that hold frames. */
  private rescan(): void {
    let names: string[];
    try {
      names = this.files.readdir(this.dir);
    } catch (err) {
      throw new BadDirectoryError(
        `cannot list slot directory ${this.dir}: ${reasonOf(err)}`,
        this.dir,
        err,
      );
    }
    for (const name of names) {
      if (!name.endsWith(SEGMENT_SUFFIX)) continue;
      const path = `${this.dir}/${name}`;
      if (this.known.has(path)) continue;
      const base = this.baseOfUsed(path);
      if (base >= 0) this.add(base, path);
    }
  }

  /** The header's baseSeq when the file holds a first frame; -1 when it holds none yet or vanished. */
  private baseOfUsed(path: string): number {
    const files = this.files;
    const fd = openFileIfExists(files, path, 'r', 'open segment');
    if (fd === undefined) return -1;
    return useThenClose(files, fd, path, () => {
      if (sizeOf(files, fd, path) < probe.length) return -1;
      readFully(files, fd, path, probe, 0, probe.length, 0);
      let baseSeq: number;
      try {
        baseSeq = readSegmentHeader(probeView, 0, path).baseSeq;
      } catch {
        // A spare still being created (no magic yet) or a file recovery will judge: not one to read.
        return -1;
      }
      return probeView.getUint32(SEGMENT_HEADER_SIZE + 4, true) === 0 ? -1 : baseSeq;
    });
  }

  private map(path: string): SegmentView | null {
    const files = this.files;
    let fd: number | undefined;
    try {
      fd = openFileIfExists(files, path, 'r', 'open segment');
    } catch (err) {
      if (errnoOf((err as Error).cause) === 'ENOENT') return null;
      throw err;
    }
    if (fd === undefined) return null;
    const opened = fd;
    // Closed once mapped: the mapping keeps the file alive.
    let buffer: ArrayBuffer | undefined;
    try {
      useThenClose(files, opened, path, () => {
        const size = sizeOf(files, opened, path);
        if (size < SEGMENT_HEADER_SIZE) {
          throw new SegmentCorruptError(`${path} is shorter than a segment header`, path);
        }
        buffer = mapFile(files, opened, path, size, true);
        // A file cut short after the fstat would fault (SIGBUS) past its new end.
        expectSize(files, opened, path, size, 'while it was mapped');
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

  mustHold(_segment: SegmentView, fsn: number): boolean {
    // A later segment already posted proves the frame belongs to this one.
    for (const b of this.byBase.keys()) if (b > fsn) return true;
    return false;
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
  /**
   * Hands the reader a segment activated after the description was made:
   * memory mode `(baseSeq, buffer)` (required: the reader cannot find it
   * otherwise), file mode `(baseSeq, path)` (optional: saves a directory scan).
   */
  addSegment(baseSeq: number, segment: SharedArrayBuffer | string): void;
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
    const source = new FileSegmentSource(
      description.slotDir,
      options.files ?? defaultFiles,
      description.segments ?? [],
    );
    return {
      reader: new FrameReader(source, control, from),
      control,
      addSegment: (baseSeq, segment) => {
        if (typeof segment === 'string') source.add(baseSeq, segment);
      },
    };
  }
  const source = new MemorySegmentSource();
  for (const s of description.segments) source.add(s.baseSeq, s.buffer);
  return {
    reader: new FrameReader(source, control, from),
    control,
    addSegment: (baseSeq, segment) => {
      if (typeof segment !== 'string') source.add(baseSeq, segment);
    },
  };
}
