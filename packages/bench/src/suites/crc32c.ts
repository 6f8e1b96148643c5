import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { crc32c, crc32cRange, implementation, implementations } from '@qwp/crc32c';
import { fmt } from '../report.js';
import { pairedRatios, type Spread, spread } from '../stats.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';

type Checksum = (data: Buffer) => number;

/** A checksum function under a display name. */
export interface Contender {
  name: string;
  fn: Checksum;
}

const SIZES: [string, number][] = [
  ['64 B', 64],
  ['512 B', 512],
  ['4 KiB', 4096],
  ['64 KiB', 65536],
  ['1 MiB', 1 << 20],
];

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Loads each peer; one that fails to load or disagrees with us is noted, not fatal. */
export function loadPeers(notes: string[]): Contender[] {
  const candidates: [string, () => Checksum][] = [
    [
      'sse4_crc32',
      () => {
        const m = require('sse4_crc32') as { calculate(b: Buffer): number };
        return (b) => m.calculate(b);
      },
    ],
    [
      'fast-crc32c',
      () => {
        const m = require('fast-crc32c') as { calculate(b: Buffer): number };
        return (b) => m.calculate(b);
      },
    ],
    [
      '@node-rs/crc32',
      () => {
        const m = require('@node-rs/crc32') as { crc32c(b: Buffer): number };
        return (b) => m.crc32c(b);
      },
    ],
    [
      '@aws-crypto/crc32c',
      () => {
        const m = require('@aws-crypto/crc32c') as { crc32c(b: Uint8Array): number };
        return (b) => m.crc32c(b);
      },
    ],
  ];
  const peers: Contender[] = [];
  const probe = Buffer.alloc(100_003);
  randomFillSync(probe);
  for (const [name, load] of candidates) {
    try {
      const fn = load();
      const label = `${name} ${versionOf(name)}`;
      for (const n of [0, 9, 64, 1000, probe.length]) {
        const slice = probe.subarray(0, n);
        const want = crc32c(slice);
        const got = fn(slice) >>> 0;
        if (got !== want) {
          throw new Error(
            `gives 0x${got.toString(16)} for ${n} bytes, ours 0x${want.toString(16)}`,
          );
        }
      }
      peers.push({ name: label, fn });
    } catch (err) {
      notes.push(`peer ${name} left out: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return peers;
}

/**
 * ns/op of each contender in each of `rounds` rounds of ~`roundMs`, the
 * contenders interleaved within a round (so a burst of load hits them all).
 */
export function measureRounds(
  contenders: Contender[],
  data: Buffer,
  rounds: number,
  roundMs: number,
): Map<string, number[]> {
  let sink = 0;
  const iterations = new Map<string, number>();
  for (const c of contenders) {
    // Calibrate: double the batch until it takes a measurable time.
    let n = 1;
    for (;;) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) sink ^= c.fn(data);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (ms >= 2 || n >= 1 << 26) {
        iterations.set(c.name, Math.max(1, Math.round((n * roundMs) / Math.max(ms, 0.001))));
        break;
      }
      n *= 2;
    }
  }
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      const n = iterations.get(c.name)!;
      // CPU time, not wall time: other processes share the 2 cores, and time
      // spent descheduled is not the checksum's cost.
      const t0 = process.cpuUsage();
      for (let i = 0; i < n; i++) sink ^= c.fn(data);
      const dt = process.cpuUsage(t0);
      samples.get(c.name)!.push(((dt.user + dt.system) * 1000) / n);
    }
  }
  if (sink === 0.5) console.log(sink); // keeps the results observable
  return samples;
}

/** Median ns/op per contender (see {@link measureRounds}). */
function measure(
  contenders: Contender[],
  data: Buffer,
  rounds: number,
  roundMs: number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, s] of measureRounds(contenders, data, rounds, roundMs)) {
    out.set(name, spread(s).median);
  }
  return out;
}

/** One contender at one size. */
interface CrcFigure {
  /** Median over the rounds. */
  nsPerOp: number;
  gbPerS: number;
  /** GB/s of each round, median and min - max. */
  gbPerSSpread: Spread;
  rounds: number;
}

async function run(options: SuiteOptions): Promise<SuiteResult> {
  const rounds = options.quick ? 5 : 15;
  const roundMs = options.quick ? 8 : 40;
  const notes: string[] = [
    'Machine: 2 cores shared by the benchmark and everything else (no server in this suite).',
    `Ours: @qwp/crc32c default kernel '${implementation()}'; other kernels listed for reference (all called through one shared closure, so their small-size figures carry some extra call overhead). 'js' is the pure-JavaScript kernel every call runs where the addon cannot load.`,
    `Each figure: median of ${rounds} rounds of ~${roundMs} ms, contenders interleaved per round; ns/op is process CPU time (user+sys) per call including the JS->native call, so time descheduled by other load is excluded; GB/s = 10^9 bytes/s.`,
    'Every peer is checked to give our CRC on several lengths before it is timed.',
  ];
  const loadBefore = loadavg()[0]!;
  const peers = loadPeers(notes);
  // Every contender is a closure calling its library's export, the way a
  // user's code calls it. Handing the bare native function to the shared
  // `c.fn(data)` site instead would make V8 take its generic (slower) path
  // for calls to native functions, charging ~20 ns at 64 B to ours alone.
  const oursDefault: Contender = {
    name: `@qwp/crc32c (${implementation()})`,
    fn: (b) => crc32c(b),
  };
  const otherKernels: Contender[] = implementations()
    .filter((k) => k.name !== implementation())
    .map((k) => ({ name: `@qwp/crc32c (${k.name})`, fn: (b: Buffer) => k.crc32c(b) }));
  const contenders = [oursDefault, ...otherKernels, ...peers];

  const rows: (string | number)[][] = [];
  const data: Record<string, Record<string, CrcFigure>> = {};
  const ratios: Record<string, number> = {};
  const ratioSpreads: Record<string, { vs: string; ratio: Spread }> = {};
  for (const [label, size] of SIZES) {
    const buf = Buffer.alloc(size);
    randomFillSync(buf);
    const samples = measureRounds(contenders, buf, rounds, roundMs);
    const ns = new Map([...samples].map(([name, s]) => [name, spread(s).median]));
    data[label] = {};
    let best = 0;
    let bestName = '';
    for (const p of peers) {
      const g = size / ns.get(p.name)!;
      if (g > best) {
        best = g;
        bestName = p.name;
      }
    }
    const ours = size / ns.get(oursDefault.name)!;
    ratios[label] = best > 0 ? ours / best : Number.NaN;
    if (best > 0) {
      // Per round: the best peer's ns/op over ours, i.e. our GB/s over its.
      const ratio = pairedRatios(samples.get(bestName)!, samples.get(oursDefault.name)!);
      ratioSpreads[label] = { vs: bestName, ratio };
    }
    for (const c of contenders) {
      const t = ns.get(c.name)!;
      const gb = spread(samples.get(c.name)!.map((v) => size / v));
      data[label]![c.name] = { nsPerOp: t, gbPerS: size / t, gbPerSSpread: gb, rounds };
      const ratio = c === oursDefault ? `${fmt(ratios[label]!)}x vs ${bestName}` : '';
      rows.push([label, c.name, fmt(t, 1), fmt(size / t, 2), ratio]);
    }
  }

  // Call overhead of the two entry points on a small frame.
  const small = Buffer.alloc(64);
  randomFillSync(small);
  const overhead = measure(
    [
      { name: 'crc32c(buf)', fn: (b) => crc32c(b) },
      { name: 'crc32cRange(buf, 0, 64)', fn: (b) => crc32cRange(b, 0, 64) },
      {
        name: 'crc32cRange(buf, 0, 64, crc)',
        fn: (b) => crc32cRange(b, 0, 64, 0x1234),
      },
    ],
    small,
    rounds,
    roundMs,
  );
  for (const [name, t] of overhead)
    rows.push(['64 B', `@qwp/crc32c ${name}`, fmt(t, 1), fmt(64 / t, 2), 'call overhead']);

  notes.push(
    `1-min load average ${fmt(loadBefore)} before, ${fmt(loadavg()[0]!)} after (above ~1 other work shared the 2 cores).`,
  );
  return {
    suite: 'crc32c',
    notes,
    columns: ['size', 'library', 'ns/op', 'GB/s', 'ours / best peer (GB/s)'],
    rows,
    data: {
      implementation: implementation(),
      sizes: data,
      ratios,
      ratioSpreads,
      peers: peers.map((p) => p.name),
      ours: oursDefault.name,
      overheadNs: Object.fromEntries(overhead),
    },
  };
}

/** CRC32C throughput and latency: our addon beside the npm peers, one run. */
export const crc32cSuite: Suite = {
  name: 'crc32c',
  description:
    'CRC32C GB/s and ns/op at 64 B..1 MiB vs sse4_crc32, fast-crc32c, @node-rs/crc32, @aws-crypto/crc32c',
  run,
};
