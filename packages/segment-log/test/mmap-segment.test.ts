import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles, type FileStat } from '@qwp/files-native';
import { FaultInjectingFiles } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { payloadFor, recordingFiles, removeDir, tempDir, thrown } from './helpers.js';
import {
  inspectSegmentFile,
  MmapSegment,
  SEGMENT_HEADER_SIZE,
  SegmentCorruptError,
  SegmentIoError,
  SegmentLogError,
  UnsupportedVersionError,
} from './internals.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => removeDir(dir));

const bytes = (...xs: number[]) => new Uint8Array(xs);

describe('memory segments', () => {
  test('a reused buffer is zeroed where frames were, and gets the new header', () => {
    const old = MmapSegment.createInMemory(0, 4096);
    for (let i = 0; i < 20; i++) expect(old.tryAppend(payloadFor(i, 100))).toBeGreaterThan(0);
    const used = old.publishedOffset;
    const reused = MmapSegment.createInMemory(500, 4096, undefined, {
      buffer: old.buffer as SharedArrayBuffer,
      usedBytes: used,
    });
    expect(reused.buffer).toBe(old.buffer);
    expect(reused.baseSeq).toBe(500);
    expect(reused.view.getBigUint64(8, true)).toBe(500n);
    const body = new Uint8Array(reused.buffer, SEGMENT_HEADER_SIZE, used - SEGMENT_HEADER_SIZE);
    expect(body.every((b) => b === 0)).toBe(true);
    // A buffer of another size is not reused.
    const other = MmapSegment.createInMemory(0, 8192, undefined, {
      buffer: old.buffer as SharedArrayBuffer,
      usedBytes: used,
    });
    expect(other.buffer).not.toBe(old.buffer);
  });
});

describe('MmapSegment.create', () => {
  test('reserves the full size, writes the header, appends and publishes', () => {
    const path = join(dir, 'a.sfa');
    const seg = MmapSegment.create(path, 7, 4096);
    expect(statSync(path).size).toBe(4096);
    expect(seg.publishedOffset).toBe(24);
    expect(seg.tryAppend(bytes(1, 2, 3))).toBe(24);
    expect(seg.publishedOffset).toBe(35);
    expect(seg.frameCount).toBe(1);
    expect(seg.nextSeq).toBe(8);
    seg.close();
    const scan = inspectSegmentFile(path);
    expect(scan).toMatchObject({ baseSeq: 7, frameCount: 1, appendOffset: 35, payloadBytes: 3 });
  });

  test('returns -1 when a frame does not fit, without writing', () => {
    const seg = MmapSegment.create(join(dir, 'b.sfa'), 0, 64);
    expect(seg.tryAppend(new Uint8Array(20))).toBe(24);
    const before = seg.bytes.slice();
    expect(seg.tryAppend(new Uint8Array(20))).toBe(-1);
    expect(seg.bytes).toEqual(before);
    expect(seg.frameCount).toBe(1);
    seg.close();
  });

  test('an empty payload is refused, writing nothing (the Java and Rust clients refuse a slot holding one)', () => {
    const path = join(dir, 'e.sfa');
    const seg = MmapSegment.create(path, 0, 64);
    expect(() => seg.tryAppend(new Uint8Array(0))).toThrow(/empty frame payload/);
    seg.close();
    expect(inspectSegmentFile(path).frameCount).toBe(0);
  });

  test('refuses to create over an existing file and leaves it untouched', () => {
    const path = join(dir, 'c.sfa');
    writeFileSync(path, 'precious');
    expect(() => MmapSegment.create(path, 0, 64)).toThrow(SegmentIoError);
    expect(readFileSync(path, 'utf8')).toBe('precious');
  });

  test('ENOSPC on fallocate unlinks the half-made file', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    files.enospcOnFallocate({ next: 1 });
    const path = join(dir, 'd.sfa');
    const err = (() => {
      try {
        MmapSegment.create(path, 0, 4096, { files });
      } catch (e) {
        return e;
      }
    })() as SegmentIoError;
    expect(err).toBeInstanceOf(SegmentIoError);
    expect(err.errno).toBe('ENOSPC');
    expect(err.message).toContain(path);
    expect(err.message).toContain('fallocate');
    expect(existsSync(path)).toBe(false);
  });

  test('a failed mmap unlinks the half-made file', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    files.failMmap({ next: 1 });
    const path = join(dir, 'm.sfa');
    expect(() => MmapSegment.create(path, 0, 4096, { files })).toThrow(/mmap failed/);
    expect(existsSync(path)).toBe(false);
  });

  test('a close failing at the end of create unlinks the half-made file', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('close', { next: 1, code: 'EIO' });
    const path = join(dir, 'cl.sfa');
    expect(() => MmapSegment.create(path, 0, 4096, { files })).toThrow(/close failed/);
    expect(existsSync(path)).toBe(false);
    expect(files.calls.munmap).toBe(1);
  });

  test('an unlink that fails after a failed create is kept on the error, not lost', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    files.enospcOnFallocate({ next: 1 });
    files.failUnlink({ next: 1 });
    const path = join(dir, 'u.sfa');
    const err = thrown(() => MmapSegment.create(path, 0, 4096, { files })) as SegmentIoError;
    expect(err).toBeInstanceOf(SegmentIoError);
    expect(err.errno).toBe('ENOSPC'); // the create failure stays the error
    expect(err.suppressed).toHaveLength(1);
    const unlinkErr = err.suppressed[0] as SegmentIoError;
    expect(unlinkErr).toBeInstanceOf(SegmentIoError);
    expect(unlinkErr.errno).toBe('EACCES');
    expect(unlinkErr.message).toContain(`cannot unlink half-made segment ${path}`);
    expect(existsSync(path)).toBe(true); // it could not be deleted, and the error says so
  });

  test('rejects sizes that cannot hold a header and one frame', () => {
    expect(() => MmapSegment.create(join(dir, 's.sfa'), 0, 32)).toThrow(/segment size/);
    expect(existsSync(join(dir, 's.sfa'))).toBe(false);
  });

  test('rebaseSeq re-stamps an empty segment and refuses one with frames', () => {
    const path = join(dir, 'r.sfa');
    const seg = MmapSegment.create(path, 0, 128);
    seg.rebaseSeq(1000);
    seg.tryAppend(bytes(9));
    expect(() => seg.rebaseSeq(5)).toThrow(/already holds 1 frame/);
    seg.close();
    expect(inspectSegmentFile(path).baseSeq).toBe(1000);
  });

  test('appending to a closed segment is a typed error', () => {
    const seg = MmapSegment.create(join(dir, 'x.sfa'), 0, 128);
    seg.close();
    expect(() => seg.tryAppend(bytes(1))).toThrow(/closed/);
  });
});

describe('MmapSegment.createInMemory', () => {
  test('has the same layout in a SharedArrayBuffer', () => {
    const seg = MmapSegment.createInMemory(42, 64, 1234567890123);
    expect(seg.buffer).toBeInstanceOf(SharedArrayBuffer);
    seg.tryAppend(new TextEncoder().encode('one'));
    seg.tryAppend(new TextEncoder().encode('two-two'));
    const path = join(dir, 'mem.sfa');
    writeFileSync(path, seg.bytes);
    expect(inspectSegmentFile(path)).toMatchObject({ baseSeq: 42, frameCount: 2 });
  });
});

describe('MmapSegment.openExisting', () => {
  function twoFrames(path: string): void {
    const seg = MmapSegment.create(path, 100, 256);
    seg.tryAppend(bytes(1, 1, 1));
    seg.tryAppend(bytes(2, 2, 2, 2));
    seg.close();
  }

  test('resumes appends after the last frame', () => {
    const path = join(dir, 'o.sfa');
    twoFrames(path);
    const seg = MmapSegment.openExisting(path);
    expect(seg.frameCount).toBe(2);
    expect(seg.tornTailBytes).toBe(0);
    expect(seg.tryAppend(bytes(3))).toBe(24 + 11 + 12);
    seg.close();
    expect(inspectSegmentFile(path).frameCount).toBe(3);
  });

  test('stops at a bad CRC, reports the torn tail and zeroes it before appending', () => {
    const path = join(dir, 't.sfa');
    twoFrames(path);
    const image = readFileSync(path);
    image[24 + 11 + 8] = image[24 + 11 + 8]! ^ 0xff; // second frame's payload
    writeFileSync(path, image);
    const seg = MmapSegment.openExisting(path);
    expect(seg.frameCount).toBe(1);
    expect(seg.appendOffset).toBe(35);
    expect(seg.tornTailBytes).toBe(256 - 35);
    seg.prepareForAppends();
    seg.close();
    const after = readFileSync(path);
    expect(after.subarray(35).every((b) => b === 0)).toBe(true);
    expect(inspectSegmentFile(path).tornTailBytes).toBe(0);
  });

  test('an impossible length ends the valid prefix', () => {
    const path = join(dir, 'l.sfa');
    twoFrames(path);
    const image = readFileSync(path);
    image.writeUInt32LE(0x7fffffff, 35 + 4);
    writeFileSync(path, image);
    const scan = inspectSegmentFile(path);
    expect(scan.frameCount).toBe(1);
    expect(scan.tornTailBytes).toBe(256 - 35);
  });

  test('a sparse file reads as zeros: no frames, no torn tail, no SIGBUS', () => {
    const path = join(dir, 'sparse.sfa');
    const seg = MmapSegment.createInMemory(5, 64);
    writeFileSync(path, seg.bytes.subarray(0, 24));
    truncateSync(path, 1 << 20);
    const opened = MmapSegment.openExisting(path);
    expect(opened.frameCount).toBe(0);
    expect(opened.tornTailBytes).toBe(0);
    opened.prepareForAppends();
    expect(opened.tryAppend(bytes(1, 2))).toBe(24);
    opened.close();
    expect(inspectSegmentFile(path).frameCount).toBe(1);
  });

  test('every positioned read comes before the mapping; a bad header is never mapped', () => {
    const path = join(dir, 'order.sfa');
    twoFrames(path);
    const { files, calls } = recordingFiles();
    MmapSegment.openExisting(path, { files }).close();
    const ops = calls.map((c) => c.op);
    const mapAt = ops.indexOf('mmap');
    expect(ops.filter((op) => op === 'pread').length).toBeGreaterThan(0);
    expect(mapAt).toBeGreaterThan(ops.lastIndexOf('pread'));
    const image = readFileSync(path);
    image[0] = 0;
    writeFileSync(path, image);
    calls.length = 0;
    expect(() => MmapSegment.openExisting(path, { files })).toThrow(SegmentCorruptError);
    expect(calls.some((c) => c.op === 'mmap')).toBe(false);
  });

  test('a file cut short inside a frame: a torn tail, appends resume within it, no SIGBUS', () => {
    const path = join(dir, 'cut.sfa');
    twoFrames(path); // frame 1 at [24, 35), frame 2 at [35, 47)
    truncateSync(path, 45);
    const seg = MmapSegment.openExisting(path);
    expect(seg.sizeBytes).toBe(45);
    expect(seg.frameCount).toBe(1);
    expect(seg.appendOffset).toBe(35);
    expect(seg.tornTailBytes).toBe(10);
    seg.prepareForAppends();
    expect(seg.tryAppend(bytes(7, 7, 7))).toBe(-1); // 35 + 8 + 3 > 45
    expect(seg.tryAppend(bytes(7, 7))).toBe(35);
    seg.close();
    expect(inspectSegmentFile(path)).toMatchObject({ frameCount: 2, tornTailBytes: 0 });
  });

  test('a file whose size changes while it is scanned is an I/O error and is never mapped', () => {
    const path = join(dir, 'grow.sfa');
    twoFrames(path);
    let fstats = 0;
    const { files, calls } = recordingFiles(defaultFiles, (call, result) =>
      call.op === 'fstat' && ++fstats === 2 ? { ...(result as FileStat), size: 128 } : result,
    );
    expect(() => MmapSegment.openExisting(path, { files })).toThrow(
      /changed size while it was scanned \(256 -> 128 bytes\)/,
    );
    expect(calls.some((c) => c.op === 'mmap')).toBe(false);
  });

  test('a file truncated while it is mapped is an I/O error and the mapping is released', () => {
    /** A two-frame segment at `name` and a facade that cuts it to 100 bytes as soon as it is mapped. */
    const shrinkingOnMmap = (name: string) => {
      const path = join(dir, name);
      twoFrames(path);
      const recorded = recordingFiles(defaultFiles, (call, result) => {
        if (call.op === 'mmap') truncateSync(path, 100);
        return result;
      });
      return { path, ...recorded };
    };
    const { path, files, calls } = shrinkingOnMmap('shrink.sfa');
    const err = thrown(() => MmapSegment.openExisting(path, { files }));
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as Error).message).toContain(`${path} changed size while it was mapped`);
    expect(calls.filter((c) => c.op === 'munmap').length).toBe(1);
    // The same holds for a segment validated now and mapped later.
    const lazy = shrinkingOnMmap('lazy.sfa');
    const seg = MmapSegment.openExisting(lazy.path, { files: lazy.files, lazy: true });
    expect(() => seg.ensureMapped()).toThrow(SegmentLogError);
    expect(lazy.calls.filter((c) => c.op === 'munmap').length).toBe(1);
  });

  test('a file shorter than the header is corrupt', () => {
    const path = join(dir, 'short.sfa');
    writeFileSync(path, bytes(0x46, 0x53, 0x30));
    expect(() => MmapSegment.openExisting(path)).toThrow(SegmentCorruptError);
  });

  test('a bad magic is corrupt and an unknown version is unsupported', () => {
    const path = join(dir, 'h.sfa');
    twoFrames(path);
    const image = readFileSync(path);
    image[0] = 0;
    writeFileSync(path, image);
    expect(() => MmapSegment.openExisting(path)).toThrow(SegmentCorruptError);
    image[0] = 0x53;
    image[4] = 9;
    writeFileSync(path, image);
    expect(() => MmapSegment.openExisting(path)).toThrow(UnsupportedVersionError);
    expect(readFileSync(path)).toEqual(image);
  });

  test('a failed mmap on open is a typed error and closes the file', () => {
    const path = join(dir, 'mm.sfa');
    twoFrames(path);
    const files = new FaultInjectingFiles(defaultFiles);
    files.failMmap({ next: 1 });
    expect(() => MmapSegment.openExisting(path, { files })).toThrow(/cannot map/);
    expect(MmapSegment.openExisting(path, { files }).frameCount).toBe(2);
  });

  test('a read error is an I/O error, never an empty segment', () => {
    const path = join(dir, 'eio.sfa');
    twoFrames(path);
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('pread', { next: 1, code: 'EIO' });
    expect(() => MmapSegment.openExisting(path, { files })).toThrow(SegmentIoError);
  });

  test('msync flushes; an msync failure is a typed error naming the segment', () => {
    const files = new FaultInjectingFiles(defaultFiles);
    const path = join(dir, 'ms.sfa');
    const seg = MmapSegment.create(path, 0, 8192, { files });
    seg.tryAppend(new Uint8Array(100));
    seg.msync(true);
    expect(seg.durableOffset).toBe(24 + 108);
    seg.tryAppend(new Uint8Array(100));
    files.inject('msync', { next: 1, code: 'EIO' });
    let err: unknown;
    try {
      seg.msync(true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as SegmentIoError).errno).toBe('EIO');
    expect((err as Error).message).toContain(path);
    expect(seg.durableOffset).toBe(24 + 108); // a failed msync moves nothing
    seg.msync(true);
    expect(seg.durableOffset).toBe(24 + 216);
    seg.close();
  });

  test('prefault touches every page and changes no byte', () => {
    const seg = MmapSegment.create(join(dir, 'pf.sfa'), 3, 3 * 4096 + 100);
    seg.tryAppend(new Uint8Array([9, 9, 9]));
    const before = seg.bytes.slice();
    seg.prefault();
    expect(seg.bytes).toEqual(before);
    seg.close();
  });
});
