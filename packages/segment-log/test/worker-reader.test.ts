import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { childScript, payloadFor, removeDir, tempDir } from './helpers.js';
import {
  describeMemoryRing,
  describeSlot,
  type MmapSegment,
  openReader,
  openSlot,
  SegmentCorruptError,
  SegmentManager,
  SegmentRing,
  segmentFileName,
  UnsupportedVersionError,
} from './internals.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const FRAMES = 5000;

interface Outcome {
  seen: number;
  first: number;
  last: number;
  bad: number;
  ordered: boolean;
}

/** Appends FRAMES frames in bursts while a worker reads them; trims on the worker's acks. */
async function produce(ring: SegmentRing, worker: Worker, service: () => void): Promise<Outcome> {
  const done = new Promise<Outcome>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  for (let i = 0; i < FRAMES; ) {
    const fsn = ring.tryAppend(payloadFor(i, 8 + (i % 200)));
    if (fsn < 0) {
      await new Promise((r) => setTimeout(r, 1)); // backpressure: let the worker ack
      ring.trim();
      service();
      continue;
    }
    i++;
    if (i % 500 === 0) {
      ring.trim();
      service();
      await new Promise((r) => setImmediate(r));
    }
  }
  const outcome = await done;
  await worker.terminate();
  return outcome;
}

describe('a reader on a worker thread, built from a transferable description', () => {
  test('file mode: every frame once, in order, with trimming under a byte cap', async () => {
    const slot = openSlot({
      sfDir,
      segmentSize: 4096,
      maxTotalBytes: 4 * 4096,
      autoService: false,
    });
    const worker = new Worker(childScript('reader-worker.mjs'), {
      workerData: { description: describeSlot(slot), until: FRAMES - 1 },
      execArgv: [], // plain node: the test runner's flags would resolve TypeScript sources
    });
    const out = await produce(slot.ring, worker, () => slot.manager.service());
    expect(out).toEqual({ seen: FRAMES, first: 0, last: FRAMES - 1, bad: 0, ordered: true });
    expect(slot.ring.ackedFsn).toBe(FRAMES - 1);
    slot.close();
  });

  test('memory mode: shared buffers, new segments posted on activation', async () => {
    const manager = new SegmentManager({
      segmentSize: 4096,
      maxTotalBytes: 4 * 4096,
      autoService: false,
    });
    let worker: Worker | undefined;
    const ring = new SegmentRing({
      segments: [manager.createFirst(0)],
      provider: manager,
      onActivate: (s: MmapSegment) => worker?.postMessage({ baseSeq: s.baseSeq, buffer: s.buffer }),
    });
    worker = new Worker(childScript('reader-worker.mjs'), {
      workerData: { description: describeMemoryRing(ring), until: FRAMES - 1 },
      execArgv: [],
    });
    const out = await produce(ring, worker, () => manager.service());
    expect(out).toEqual({ seen: FRAMES, first: 0, last: FRAMES - 1, bad: 0, ordered: true });
  });
});

describe('a file-mode reader checks each segment header as recovery does', () => {
  test.each([
    ['an unknown version', 4, 2, UnsupportedVersionError],
    ['an undefined flag bit', 5, 0x02, SegmentCorruptError],
    ['a bad magic', 0, 0x00, SegmentCorruptError],
  ] as const)('%s is refused with a typed error naming the file', (_what, at, value, cls) => {
    const slot = openSlot({ sfDir, senderId: 'r', segmentSize: 4096, autoService: false });
    for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 16));
    const description = describeSlot(slot);
    const file = join(slot.dir, segmentFileName(0));
    const { reader } = openReader(description);
    expect(reader.next()).toBe(true);
    reader.close();
    const image = readFileSync(file);
    image[at] = value;
    writeFileSync(file, image);
    const again = openReader(description).reader;
    expect(() => again.next()).toThrow(cls);
    expect(() => again.next()).toThrow(file);
    slot.close();
  });
});
