import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  statfsSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fallocate, mmap, munmap } from '@qwp/files-native';
import { fmt } from '../report.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';

const SEGMENT = 64 * 2 ** 20;
const WRITE = 512;
/** Writes timed together: 64 KiB, so the clock's own cost (~tens of ns) is spread thin. */
const BATCH = 128;
const BATCHES = SEGMENT / (WRITE * BATCH);

type Sizing = 'fallocate' | 'sparse';

interface Figures {
  target: string;
  phase: string;
  writes: number;
  /** ns per write, one sample per batch. */
  samples: Float64Array;
  totalNs: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));
  return sorted[i] as number;
}

function payload(): Uint8Array {
  const p = new Uint8Array(WRITE);
  for (let i = 0; i < WRITE; i++) p[i] = (i * 31 + 1) & 0xff;
  return p;
}

/** A fresh 64 MiB file: real blocks (fallocate) or a hole (ftruncate). */
function createSegment(dir: string, name: string, sizing: Sizing): number {
  const fd = openSync(join(dir, name), 'w+');
  if (sizing === 'fallocate') fallocate(fd, 0, SEGMENT);
  else ftruncateSync(fd, SEGMENT);
  return fd;
}

/** One pass of sequential 512-byte writes over the whole view; appends ns/write per batch. */
function passOverView(view: Uint8Array, data: Uint8Array, out: Float64Array, at: number): number {
  let pos = 0;
  const start = process.hrtime.bigint();
  let prev = start;
  for (let b = 0; b < BATCHES; b++) {
    for (let i = 0; i < BATCH; i++) {
      view.set(data, pos);
      pos += WRITE;
    }
    const now = process.hrtime.bigint();
    out[at + b] = Number(now - prev) / BATCH;
    prev = now;
  }
  return Number(prev - start);
}

/** Cold (first touch of every page) and warm passes over fresh mappings, `rounds` times. */
function measureMmap(dir: string, sizing: Sizing, rounds: number): Figures[] {
  const data = payload();
  const cold = new Float64Array(BATCHES * rounds);
  const warm = new Float64Array(BATCHES * rounds);
  let coldNs = 0;
  let warmNs = 0;
  for (let r = 0; r < rounds; r++) {
    const name = `mmap-${sizing}-${r}.sfa`;
    const fd = createSegment(dir, name, sizing);
    const buf = mmap(fd, 0, SEGMENT, 'rw');
    const view = new Uint8Array(buf);
    coldNs += passOverView(view, data, cold, r * BATCHES);
    warmNs += passOverView(view, data, warm, r * BATCHES);
    munmap(buf);
    closeSync(fd);
    rmSync(join(dir, name));
  }
  const writes = BATCHES * BATCH * rounds;
  const target = `mmap + Uint8Array.set, ${sizing === 'fallocate' ? "fallocate'd" : 'sparse'} file`;
  return [
    { target, phase: 'first touch', writes, samples: cold, totalNs: coldNs },
    { target, phase: 'warm', writes, samples: warm, totalNs: warmNs },
  ];
}

/** fs.writeSync of 512 B at an explicit position, sequentially over the segment. */
function measureWriteSync(dir: string, sizing: 'fallocate' | 'empty', rounds: number): Figures {
  const data = payload();
  const samples = new Float64Array(BATCHES * rounds);
  let totalNs = 0;
  for (let r = 0; r < rounds; r++) {
    const name = `pwrite-${sizing}-${r}.sfa`;
    const fd =
      sizing === 'empty' ? openSync(join(dir, name), 'w+') : createSegment(dir, name, sizing);
    let pos = 0;
    const start = process.hrtime.bigint();
    let prev = start;
    for (let b = 0; b < BATCHES; b++) {
      for (let i = 0; i < BATCH; i++) {
        writeSync(fd, data, 0, WRITE, pos);
        pos += WRITE;
      }
      const now = process.hrtime.bigint();
      samples[r * BATCHES + b] = Number(now - prev) / BATCH;
      prev = now;
    }
    totalNs += Number(prev - start);
    closeSync(fd);
    rmSync(join(dir, name));
  }
  const what = sizing === 'fallocate' ? "fallocate'd file" : 'empty file (grows)';
  return {
    target: `fs.writeSync 512 B at position, ${what}`,
    phase: 'syscall per write',
    writes: BATCHES * BATCH * rounds,
    samples,
    totalNs,
  };
}

function fsType(dir: string): string {
  const types: Record<number, string> = {
    61267: 'ext4',
    1481003842: 'xfs',
    2435016766: 'btrfs',
    16914836: 'tmpfs',
    2035054128: 'overlayfs',
  };
  const type = statfsSync(dir).type;
  return types[type] ?? `0x${type.toString(16)}`;
}

/** Sequential 512-byte writes into a mapped 64 MiB segment, against fs.writeSync. */
export const mmapSuite: Suite = {
  name: 'mmap',
  description:
    "512-byte writes into a mapped 64 MiB segment (fallocate'd vs sparse) vs fs.writeSync",
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const rounds = options.quick ? 1 : 5;
    const dir = mkdtempSync(join(tmpdir(), 'qwp-bench-mmap-'));
    const figures: Figures[] = [];
    // Compile the timed loop on plain memory first, so no row pays for the JIT.
    const scratch = new Float64Array(BATCHES);
    const heap = new Uint8Array(SEGMENT);
    for (let i = 0; i < 3; i++) passOverView(heap, payload(), scratch, 0);
    try {
      figures.push(...measureMmap(dir, 'fallocate', rounds));
      figures.push(...measureMmap(dir, 'sparse', rounds));
      figures.push(measureWriteSync(dir, 'fallocate', rounds));
      figures.push(measureWriteSync(dir, 'empty', rounds));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rows = figures.map((f) => {
      const sorted = Float64Array.from(f.samples).sort();
      const mean = f.totalNs / f.writes;
      return [
        f.target,
        f.phase,
        f.writes,
        fmt(percentile(sorted, 50), 1),
        fmt(percentile(sorted, 99), 1),
        fmt(mean, 1),
        fmt((WRITE * 1e3) / mean, 0),
      ];
    });
    return {
      suite: 'mmap',
      notes: [
        `Each row: ${rounds} fresh 64 MiB file(s) in ${tmpdir()} (${fsType(tmpdir())}), written front to back in 512-byte writes from one prepared payload.`,
        `Timed in batches of ${BATCH} writes (64 KiB); p50/p99 are over batches, divided by ${BATCH}; mean = total time / writes.`,
        '"first touch" is the first pass over a fresh mapping (a page fault per 4 KiB page, plus block allocation for the sparse file); "warm" is a second pass over the same, now resident, pages.',
        'No msync inside the timed loops; the page cache writes back on its own schedule, and a page it has cleaned faults again on the next write (dirty tracking), which shows in the warm p99.',
        'The machine has 2 cores, shared by the producer and anything else running (no server in this suite).',
      ],
      columns: [
        'target',
        'phase',
        'writes',
        'p50 ns/write',
        'p99 ns/write',
        'mean ns/write',
        'MB/s',
      ],
      rows,
      data: figures.map((f) => ({
        target: f.target,
        phase: f.phase,
        writes: f.writes,
        totalNs: f.totalNs,
        batchNsPerWrite: Array.from(f.samples),
      })),
    };
  },
};
