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

const SEGMENT = 4 * 2 ** 20;
const FRAME = 512;

/**
 * Writes a slot of `segments` full 4 MiB segments of 512-byte frames and its
 * manifest (untimed): one segment image is built once and written with each
 * segment's baseSeq, so making 10 GiB costs only the writes.
 */
function makeSlot(sfDir: string, segments: number): { frames: number } {
  const dir = join(sfDir, 'big');
  mkdirSync(dir, { recursive: true });
  const seg = MmapSegment.createInMemory(0, SEGMENT);
  const payload = new Uint8Array(FRAME);
  for (let i = 0; i < FRAME; i++) payload[i] = (i * 31 + 7) & 0xff;
  while (seg.tryAppend(payload) >= 0);
  const perSegment = seg.frameCount;
  const image = seg.bytes;
  image[5] = SEGMENT_FLAG_MANIFEST_REQUIRED;
  const view = new DataView(image.buffer);
  for (let i = 0; i < segments; i++) {
    view.setUint32(8, i * perSegment, true);
    writeFileSync(join(dir, segmentFileName(i)), image);
  }
  SfManifest.create(dir, 0, (segments - 1) * perSegment).close();
  return { frames: segments * perSegment };
}

/** Recovery of a large slot: every frame's CRC is checked once, by positioned reads. */
export const segmentRecoverySuite: Suite = {
  name: 'segment-recovery',
  description: 'openSlot of a 10 GiB slot of 4 MiB segments holding 512-byte frames',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const gib = options.quick ? 1 : 10;
    const segments = (gib * 2 ** 30) / SEGMENT;
    const rounds = options.quick ? 2 : 3;
    const sfDir = mkdtempSync(join(tmpdir(), 'qwp-bench-recovery-'));
    const rows: (string | number)[][] = [];
    const data: Record<string, number[]> = {};
    try {
      const { frames } = makeSlot(sfDir, segments);
      for (const qwp of [false, true]) {
        const ms: number[] = [];
        const cpu: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const slot = openSlot({
            sfDir,
            senderId: 'big',
            segmentSize: SEGMENT,
            autoService: false,
            qwp,
          });
          const t1 = performance.now();
          const c = process.cpuUsage(c0);
          if (slot.report.frames !== frames) {
            throw new Error(`expected ${frames} frames, got ${slot.report.frames}`);
          }
          slot.close(); // nothing acknowledged: every file stays
          ms.push(t1 - t0);
          cpu.push((c.user + c.system) / 1000);
        }
        const best = Math.min(...ms);
        data[qwp ? 'qwpMs' : 'opaqueMs'] = ms;
        rows.push([
          `${gib} GiB`,
          segments,
          frames,
          qwp ? 'qwp: true' : 'opaque',
          fmt(ms[0]!, 0),
          fmt(best, 0),
          fmt(Math.min(...cpu), 0),
          fmt((gib * 1024) / (best / 1000), 0),
        ]);
      }
    } finally {
      rmSync(sfDir, { recursive: true, force: true });
    }
    return {
      suite: 'segment-recovery',
      notes: [
        `A slot of ${gib} GiB in ${segments} full ${SEGMENT / 2 ** 20} MiB segments of ${FRAME}-byte frames, manifested, written just before (so it sits in the page cache: this is recovery after a process crash or a restart, not from a cold disk); ${rounds} opens per row.`,
        "Recovery reads every segment with positioned reads (never a mapping, so a bad sector is an error, not SIGBUS) and checks every frame's CRC32C once; sealed segments are not opened again and are mapped only when read. With qwp: true the scan also notes the highest symbol id each segment's frames define (so the dictionary check reads no frame again) and the aborted-tail check reads the newest segment.",
        'ms = wall time of openSlot; CPU = user + system of this process, best round.',
        'Machine: 2 cores shared by producer and any server; no server runs in this suite.',
      ],
      columns: [
        'slot',
        'segments',
        'frames',
        'mode',
        'first open ms',
        'best open ms',
        'best CPU ms',
        'MiB/s',
      ],
      rows,
      data,
    };
  },
};
