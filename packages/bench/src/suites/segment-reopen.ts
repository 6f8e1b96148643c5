import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MmapSegment,
  openSlot,
  SEGMENT_FLAG_MANIFEST_REQUIRED,
  SfManifest,
  segmentFileName,
} from '@qwp/segment-log';
import { fmt } from '../report.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';

/** Writes `n` contiguous one-frame 4 KiB segments and their manifest straight to disk (untimed). */
function makeSlot(sfDir: string, n: number): void {
  const dir = join(sfDir, 'bench');
  mkdirSync(dir, { recursive: true });
  const seg = MmapSegment.createInMemory(0, 4096);
  seg.tryAppend(new Uint8Array(64).fill(7));
  const image = seg.bytes;
  image[5] = SEGMENT_FLAG_MANIFEST_REQUIRED;
  const view = new DataView(image.buffer);
  for (let i = 0; i < n; i++) {
    view.setUint32(8, i, true);
    writeFileSync(join(dir, segmentFileName(i)), image);
  }
  SfManifest.create(dir, 0, n - 1).close();
}

/** Time to recover (lock, list, sort, validate every segment, open the dictionary) a slot of 16k segments. */
export const segmentReopenSuite: Suite = {
  name: 'segment-reopen',
  description: 'openSlot of a slot holding 16384 small segments',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const n = 16_384;
    const rounds = options.quick ? 2 : 5;
    const sfDir = mkdtempSync(join(tmpdir(), 'qwp-bench-reopen-'));
    const open: number[] = [];
    const close: number[] = [];
    try {
      makeSlot(sfDir, n);
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        const slot = openSlot({ sfDir, senderId: 'bench', segmentSize: 4096, autoService: false });
        const t1 = performance.now();
        if (slot.report.frames !== n)
          throw new Error(`expected ${n} frames, got ${slot.report.frames}`);
        slot.close(); // nothing acknowledged: not drained, every file stays
        open.push(t1 - t0);
        close.push(performance.now() - t1);
      }
    } finally {
      rmSync(sfDir, { recursive: true, force: true });
    }
    const sorted = open.slice().sort((a, b) => a - b);
    return {
      suite: 'segment-reopen',
      notes: [
        `${n} segment files of 4 KiB, one frame each, in one slot; ${rounds} reopen rounds (page cache warm after the first).`,
        'Reopen = logical lock and slot lock, readdir, pread-validate every header and frame, plan the chain under the manifest (contiguity, bounds), open the watermark and the dictionary, map the newest. Sealed segments are mapped lazily (not opened again after the scan).',
        'Machine: 2 cores shared by producer and any server; no server runs in this suite.',
      ],
      columns: ['segments', 'first reopen ms', 'median reopen ms', 'best reopen ms', 'close ms'],
      rows: [
        [
          n,
          fmt(open[0]!, 1),
          fmt(sorted[sorted.length >> 1]!, 1),
          fmt(sorted[0]!, 1),
          fmt(close[0]!, 1),
        ],
      ],
      data: { segments: n, openMs: open, closeMs: close },
    };
  },
};
