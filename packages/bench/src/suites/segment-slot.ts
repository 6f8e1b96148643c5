import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlot } from '@qwp/segment-log';
import { fmt } from '../report.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';
import { countAppendSyscalls, WINDOW_FRAMES } from './segment-syscalls.js';

const SEGMENT = 4 * 2 ** 20;
const FRAME = 512;

function payload(): Uint8Array {
  const p = new Uint8Array(FRAME);
  for (let i = 0; i < FRAME; i++) p[i] = (i * 131 + 7) & 0xff;
  return p;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** ns per `slot.acknowledge(fsn)` that trims nothing: the watermark record and a trim check. */
function ackCost(dir: string, calls: number): number[] {
  const slot = openSlot({ sfDir: dir, senderId: 'ack', segmentSize: SEGMENT, autoService: false });
  try {
    const p = payload();
    for (let i = 0; i < calls; i++) slot.ring.tryAppend(p); // all in the one active segment
    const ns: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = process.hrtime.bigint();
      slot.acknowledge(i);
      ns.push(Number(process.hrtime.bigint() - t0));
    }
    return ns;
  } finally {
    slot.close(); // everything acknowledged: the drained clean-up runs
  }
}

/**
 * One trim of `k` sealed 4 MiB segments: the ACK call (watermark msync,
 * directory fsync, manifest pwrite + fsync, release) and the service pass
 * that unlinks them and fsyncs the directory, in ms.
 */
function trimCost(dir: string, k: number): { ack: number; unlink: number } {
  const slot = openSlot({
    sfDir: dir,
    senderId: `trim-${k}`,
    segmentSize: SEGMENT,
    autoService: false,
  });
  try {
    const p = payload();
    while (slot.ring.segments().length < k + 1) {
      slot.ring.tryAppend(p);
      if (!slot.manager.hasSpare) slot.manager.service(); // spares made off the timed part
    }
    slot.manager.service();
    const lastSealed = slot.ring.segments()[k - 1]!.nextSeq - 1;
    const t0 = performance.now();
    const trimmed = slot.acknowledge(lastSealed);
    const t1 = performance.now();
    slot.manager.service();
    const t2 = performance.now();
    if (trimmed !== k) throw new Error(`expected ${k} segments trimmed, got ${trimmed}`);
    return { ack: t1 - t0, unlink: t2 - t1 };
  } finally {
    slot.close();
  }
}

/** What the slot files cost: an ACK that trims nothing, a trim per segment, and the syscalls of either. */
export const segmentSlotSuite: Suite = {
  name: 'segment-slot',
  description:
    'slot.acknowledge without a trim (ns), trim cost per 4 MiB segment (ms), syscalls on the ACK path',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const rounds = options.quick ? 2 : 7;
    const dir = mkdtempSync(join(tmpdir(), 'qwp-bench-slot-'));
    const rows: (string | number)[][] = [];
    const data: Record<string, unknown> = {};
    try {
      ackCost(dir, 2000); // warm-up
      const ns = ackCost(dir, 8000);
      const sorted = ns.slice().sort((a, b) => a - b);
      data.ackNs = { p50: median(ns), p99: sorted[Math.floor(sorted.length * 0.99)] };
      const sys = countAppendSyscalls('sf-ack');
      rows.push([
        'acknowledge, nothing to trim',
        '-',
        `p50 ${fmt(median(ns), 0)} ns, p99 ${fmt(sorted[Math.floor(sorted.length * 0.99)]!, 0)} ns`,
        '-',
        sys === undefined
          ? 'n/a'
          : `${sys.syscalls} in ${WINDOW_FRAMES} appends + ${WINDOW_FRAMES / 100} acks`,
      ]);
      for (const k of [1, 8, 64]) {
        if (options.quick && k === 64) continue;
        trimCost(dir, k); // warm-up
        const ack: number[] = [];
        const unlink: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const c = trimCost(dir, k);
          ack.push(c.ack);
          unlink.push(c.unlink);
        }
        data[`trim${k}`] = { ack, unlink };
        rows.push([
          `trim ${k} segment(s) at once`,
          k,
          `${fmt(median(ack), 2)} ms (${fmt(median(ack) / k, 3)} ms / segment)`,
          `${fmt(median(unlink), 2)} ms (${fmt(median(unlink) / k, 3)} ms / segment)`,
          '-',
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      suite: 'segment-slot',
      notes: [
        `A slot of ${SEGMENT / 2 ** 20} MiB segments of ${FRAME}-byte frames in ${tmpdir()} (ext4); medians of ${rounds} rounds after a warm-up.`,
        'acknowledge without a trim: the acked FSN written as the next .ack-watermark record through its mapping (a CRC of 60 bytes and a few stores), then a check that no sealed segment is fully acknowledged; timed one call at a time with process.hrtime.bigint() (the clock pair included). Syscalls: the producer thread under strace -f, as in segment-append.',
        'trim: the ACK call makes the ACK durable (msync of .ack-watermark, fsync of the directory) and advances the manifest head (pwrite + fsync) once for the whole batch, then releases the segments; the service pass unlinks them and fsyncs the directory once. Per-segment figures divide the batch by its size.',
        'Machine: 2 cores shared by producer and any server; no server runs in this suite.',
      ],
      columns: [
        'operation',
        'segments',
        'on the ACK call',
        'in the service pass (unlink)',
        'producer syscalls',
      ],
      rows,
      data,
    };
  },
};
