import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlot, SegmentManager, SegmentRing } from '@qwp/segment-log';
import { fmt } from '../report.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';
import { countAppendSyscalls, type SyscallCount, WINDOW_FRAMES } from './segment-syscalls.js';

const FRAME = 512;
const SEGMENT = 4 * 2 ** 20;
/** Appends timed together for the throughput figure, so the clock's cost is spread thin. */
const BATCH = 256;

interface AppendLog {
  ring: SegmentRing;
  /** The manager's work, run between timed appends as a background thread would. */
  service(): void;
  close(): void;
}

function sfLog(dir: string): AppendLog {
  const slot = openSlot({
    sfDir: dir,
    senderId: 'bench',
    segmentSize: SEGMENT,
    autoService: false,
  });
  return { ring: slot.ring, service: () => slot.manager.service(), close: () => slot.close() };
}

function memoryLog(): AppendLog {
  const manager = new SegmentManager({ segmentSize: SEGMENT, autoService: false });
  const ring = new SegmentRing({ segments: [manager.createFirst(0)], provider: manager });
  return { ring, service: () => manager.service(), close: () => ring.close() };
}

function payload(): Uint8Array {
  const p = new Uint8Array(FRAME);
  for (let i = 0; i < FRAME; i++) p[i] = (i * 131 + 7) & 0xff;
  return p;
}

/** Median cost of one hrtime.bigint() pair, subtracted from every single-append sample. */
function clockCost(): number {
  const n = 20_000;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    const b = process.hrtime.bigint();
    s[i] = Number(b - a);
  }
  s.sort();
  return s[n >> 1]!;
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Figures {
  mode: string;
  /** Steady-state syscalls of the producer thread, by strace; undefined where strace cannot trace. */
  syscalls?: SyscallCount;
  frames: number;
  rotations: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  framesPerSec: number;
}

/**
 * Appends `frames` 512-byte frames, timing each one alone (latency
 * percentiles, clock cost subtracted) and, in a second pass, BATCH at a time
 * (throughput). Everything is acked every 4096 frames and the manager's
 * service runs untimed between appends, like the sender's background work.
 */
/** One event-loop turn: lets the segment manager's background flush-ahead complete, as in an application. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function measure(mode: string, log: AppendLog, frames: number): Promise<Figures> {
  const data = payload();
  const ring = log.ring;
  const clock = clockCost();
  const lat = new Float64Array(frames);
  let rotations = 0;
  let lastBase = ring.activeSegment!.baseSeq;
  for (let i = 0; i < frames; i++) {
    const t0 = process.hrtime.bigint();
    const fsn = ring.tryAppend(data);
    const t1 = process.hrtime.bigint();
    if (fsn < 0) throw new Error('backpressure in an unbounded benchmark');
    lat[i] = Math.max(0, Number(t1 - t0) - clock);
    if ((i & 4095) === 4095) {
      ring.acknowledge(fsn);
      log.service();
      await turn();
    }
    const base = ring.activeSegment!.baseSeq;
    if (base !== lastBase) {
      rotations++;
      lastBase = base;
      log.service(); // make the next spare now, off the timed path
    }
  }
  lat.sort();
  let totalNs = 0;
  for (let done = 0; done < frames; done += BATCH) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) ring.tryAppend(data);
    totalNs += Number(process.hrtime.bigint() - t0);
    ring.acknowledge(ring.nextFsn - 1);
    log.service();
    if ((done & 4095) === 0) await turn();
  }
  return {
    mode,
    frames,
    rotations,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    p999: pct(lat, 99.9),
    max: lat[frames - 1]!,
    framesPerSec: (Math.ceil(frames / BATCH) * BATCH) / (totalNs / 1e9),
  };
}

/** Append latency of one 512-byte frame (CRC32C + length + copy + publish), SF and memory mode. */
export const segmentAppendSuite: Suite = {
  name: 'segment-append',
  description:
    'SegmentRing.tryAppend of 512-byte frames across rotations, SF (mmap) and memory mode',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const frames = options.quick ? 100_000 : 2_000_000;
    const dir = mkdtempSync(join(tmpdir(), 'qwp-bench-seglog-'));
    const results: Figures[] = [];
    try {
      for (const [mode, make, kind] of [
        ['SF (mmap file)', () => sfLog(dir), 'sf'],
        ['memory (SharedArrayBuffer)', () => memoryLog(), 'memory'],
      ] as const) {
        const log = make();
        try {
          await measure(mode, log, Math.min(frames, 50_000)); // warm-up: JIT and page cache
          results.push({
            ...(await measure(mode, log, frames)),
            syscalls: countAppendSyscalls(kind),
          });
        } finally {
          log.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      suite: 'segment-append',
      notes: [
        `${frames} frames of ${FRAME} bytes per mode into ${SEGMENT / 2 ** 20} MiB segments, after a warm-up run; everything acked every 4096 frames.`,
        'Latency: each append timed alone with process.hrtime.bigint(), the median cost of the clock pair subtracted. Throughput: a second pass timed 256 appends at a time.',
        "The segment manager's work (unlink trimmed segments and fsync the directory once, pre-make the spare, start the active segment's fdatasync on a libuv thread once a quarter of it is not on disk) runs untimed between appends, as a background service would, and the event loop turns every 4096 frames as in an application; the rotation itself (msync of the sealed segment's frames not yet on disk, re-stamp and header msync of the spare, manifest pwrite + fsync in SF mode) is timed and shows in the tail.",
        `Syscalls: a child process appends ${WINDOW_FRAMES} frames of 512 bytes to a warm segment (no rotation) under strace -f; the column counts the producer thread's syscalls between two marker stat() calls (target 0; n/a where strace cannot trace).`,
        ...results
          .filter((r) => (r.syscalls?.syscalls ?? 0) > 0)
          .map((r) => `${r.mode}: syscalls seen: ${r.syscalls!.names.join(', ')}`),
        'Machine: 2 cores shared by producer and any server; no server runs in this suite.',
      ],
      columns: [
        'mode',
        'frames',
        'rotations',
        'p50 ns',
        'p99 ns',
        'p99.9 ns',
        'max ns',
        'frames/s',
        `syscalls / ${WINDOW_FRAMES} appends`,
      ],
      rows: results.map((r) => [
        r.mode,
        r.frames,
        r.rotations,
        fmt(r.p50, 0),
        fmt(r.p99, 0),
        fmt(r.p999, 0),
        fmt(r.max, 0),
        fmt(r.framesPerSec, 0),
        r.syscalls === undefined ? 'n/a' : r.syscalls.syscalls,
      ]),
      data: results,
    };
  },
};
