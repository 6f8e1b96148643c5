import { defaultFiles, type FilesFacade } from '@qwp/files-native';
import type { SegmentSource, SegmentView } from '@qwp/segment-log';
import { WorkerError } from '../errors.js';
import type { SegmentAnnouncement } from '../shared/messages.js';

interface Entry {
  readonly announcement: SegmentAnnouncement;
  view: SegmentView | null;
}

/**
 * The segments the producer announced, as a FrameReader source on the I/O
 * worker. Memory-mode segments are the producer's own SharedArrayBuffers;
 * SF segments are mapped read-only here, on first use. A segment stays
 * available until every frame in it is acknowledged (a reconnect replays
 * from the acked FSN, possibly in a segment the reader already left), then
 * {@link release} drops (unmaps) it.
 */
export class AnnouncedSegments implements SegmentSource {
  private readonly entries: Entry[] = [];

  /**
   * @param onError receives failures that do not stop the worker (closing
   *   an fd after mapping, unmapping a released segment)
   */
  constructor(
    private readonly onError: (err: Error) => void,
    private readonly files: FilesFacade = defaultFiles,
  ) {}

  /** Adds a segment the producer activated; announcements arrive in baseSeq order. */
  add(announcement: SegmentAnnouncement): void {
    const last = this.entries.at(-1);
    if (last !== undefined && last.announcement.baseSeq >= announcement.baseSeq) {
      // A segment re-announced (the ring replaced an empty active segment): the newer wins.
      while (
        this.entries.length > 0 &&
        this.entries.at(-1)!.announcement.baseSeq >= announcement.baseSeq
      ) {
        this.unmap(this.entries.pop()!);
      }
    }
    this.entries.push({ announcement, view: null });
  }

  /** Number of segments held. */
  get size(): number {
    return this.entries.length;
  }

  segmentFor(fsn: number): SegmentView | null {
    let pick: Entry | undefined;
    for (const e of this.entries) {
      if (e.announcement.baseSeq <= fsn) pick = e;
      else break;
    }
    return pick === undefined ? null : this.viewOf(pick);
  }

  segmentStartingAt(baseSeq: number): SegmentView | null {
    for (const e of this.entries) {
      if (e.announcement.baseSeq === baseSeq) return this.viewOf(e);
      if (e.announcement.baseSeq > baseSeq) break;
    }
    return null;
  }

  /**
   * A published frame is not where `segment` would hold it: corrupt when a
   * later segment is already announced (the frame had to be in this one),
   * otherwise its segment is simply not announced yet (the reader stalls).
   */
  mustHold(_segment: SegmentView, fsn: number): boolean {
    return this.entries.some((e) => e.announcement.baseSeq > fsn);
  }

  /** The reader moved on; the segment stays until it is acknowledged (see {@link release}). */
  done(_segment: SegmentView): void {}

  /** Drops every segment whose frames are all acknowledged (its successor starts at or below ackedFsn + 1). */
  release(ackedFsn: number): void {
    let n = 0;
    while (
      n + 1 < this.entries.length &&
      this.entries[n + 1]!.announcement.baseSeq - 1 <= ackedFsn
    ) {
      this.unmap(this.entries[n]!);
      n++;
    }
    if (n > 0) this.entries.splice(0, n);
  }

  /** Unmaps everything (the worker is ending). */
  close(): void {
    for (const e of this.entries.splice(0)) this.unmap(e);
  }

  private viewOf(e: Entry): SegmentView {
    if (e.view !== null) return e.view;
    const a = e.announcement;
    let buffer: ArrayBuffer | SharedArrayBuffer;
    let path: string;
    if (a.buffer !== undefined) {
      buffer = a.buffer;
      path = `memory:${a.baseSeq}`;
    } else {
      path = a.path!;
      buffer = this.map(path, a.sizeBytes);
    }
    e.view = {
      baseSeq: a.baseSeq,
      buffer,
      bytes: new Uint8Array(buffer),
      view: new DataView(buffer),
      path,
    };
    return e.view;
  }

  private map(path: string, sizeBytes: number): ArrayBuffer {
    const files = this.files;
    let fd: number;
    try {
      fd = files.open(path, 'r');
    } catch (err) {
      throw new WorkerError(`I/O worker cannot open segment ${path}`, { cause: err });
    }
    try {
      const size = files.fstat(fd).size;
      if (size < sizeBytes) {
        throw new WorkerError(
          `segment ${path} is ${size} bytes, smaller than the ${sizeBytes} announced`,
        );
      }
      return files.mmap(fd, 0, sizeBytes, 'r');
    } catch (err) {
      if (err instanceof WorkerError) throw err;
      throw new WorkerError(`I/O worker cannot map segment ${path}`, { cause: err });
    } finally {
      try {
        files.close(fd);
      } catch (err) {
        this.onError(new WorkerError(`I/O worker cannot close segment ${path}`, { cause: err }));
      }
    }
  }

  private unmap(e: Entry): void {
    const v = e.view;
    e.view = null;
    if (v === null || e.announcement.buffer !== undefined) return;
    try {
      this.files.munmap(v.buffer as ArrayBuffer);
    } catch (err) {
      this.onError(new WorkerError(`I/O worker cannot unmap segment ${v.path}`, { cause: err }));
    }
  }
}
