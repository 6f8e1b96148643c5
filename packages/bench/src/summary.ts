/**
 * The headline comparisons, read back from the suites' JSON results:
 * @qwp/sender rows/s against the ILP client, @qwp/crc32c against its peers,
 * and confirmed latency percentiles. Rendered as bench-results/summary.md
 * and as the SVG chart the READMEs embed (see chart.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from './report.js';
import { pairedRatios, type Spread, spread } from './stats.js';
import type { SuiteResult } from './suite.js';

/** What index.ts writes to bench-results/<suite>.json. */
export interface StoredResult extends SuiteResult {
  machine: string;
  /** ISO time the suite finished; absent in results written before it was recorded. */
  measuredAt?: string;
  /** A --quick run (too short to quote). */
  quick?: boolean;
  /** 1-minute load average when the suite started and ended. */
  load?: { before: number; after: number };
}

/** One bar: a contender's median with its spread over repetitions. */
export interface Bar {
  label: string;
  median: number;
  min: number;
  max: number;
  runs: number;
  /** Ours (drawn in the accent colour) or a peer. */
  ours: boolean;
  /** The comparison's ratio for this bar, measured in the same run, or null for the base. */
  ratio: Spread | null;
  /** What the ratio is against, e.g. "x ILP"; with no ratio, what to show instead ("base" or ""). */
  ratioLabel: string;
}

export interface Group {
  label: string;
  bars: Bar[];
}

/** One headline comparison: one suite's run, its context, its groups of bars. */
export interface Comparison {
  id: 'sender' | 'crc32c' | 'latency';
  title: string;
  unit: string;
  lowerIsBetter: boolean;
  /** Each group drawn on its own scale (latency: p50 and p99 differ tenfold). */
  scalePerGroup: boolean;
  /** Machine, Node version, server mode, when, load, repetitions. */
  context: string[];
  groups: Group[];
}

/** Reads bench-results/<name>.json for each headline suite that has one. */
export function loadResults(dir: string): Map<string, StoredResult> {
  const out = new Map<string, StoredResult>();
  for (const name of ['sender', 'crc32c', 'sender-latency']) {
    const file = join(dir, `${name}.json`);
    if (existsSync(file)) out.set(name, JSON.parse(readFileSync(file, 'utf8')) as StoredResult);
  }
  return out;
}

/**
 * True when every result is from a full run that recorded its context, so
 * the chart may replace the committed one (a --quick run never does).
 */
export function quotable(results: Map<string, StoredResult>): boolean {
  return results.size > 0 && [...results.values()].every((r) => r.quick === false);
}

/** The context lines every comparison carries: machine and Node, `extra`, when and under what load. */
function contextOf(r: StoredResult, extra: string[]): string[] {
  const when = r.measuredAt === undefined ? 'time not recorded' : r.measuredAt.slice(0, 10);
  const load =
    r.load === undefined
      ? ''
      : `, 1-min load average ${fmt(r.load.before, 1)} -> ${fmt(r.load.after, 1)} on 2 shared cores`;
  return [
    r.machine.replace(/; producer and any server share these cores$/, ''),
    ...extra,
    `measured ${when}${load}${r.quick === true ? '; QUICK RUN, not for quoting' : ''}`,
  ];
}

/** A ratio stored as a Spread, or as a bare number by older results. */
function asSpread(x: unknown): Spread | null {
  if (typeof x === 'number') return spread([x]);
  if (x !== null && typeof x === 'object' && 'median' in x) return x as Spread;
  return null;
}

interface SenderCase {
  client: string;
  api?: 'row' | 'columnar' | null;
  buffer: string;
  server: string;
  unavailable: string | null;
  rowsPerSec: Spread;
  ratioToIlp: unknown;
}

function senderComparison(r: StoredResult): Comparison {
  const data = r.data as {
    cases: SenderCase[];
    serverMode: string;
    rowsPerRun: number;
    runs?: number;
  };
  const groups = new Map<string, Group>();
  for (const c of data.cases) {
    if (c.unavailable !== null || c.rowsPerSec.values.length === 0) continue;
    const api = c.api ?? (c.server === 'sink' ? null : 'row');
    let g = groups.get(c.client);
    if (g === undefined) {
      g = { label: c.client, bars: [] };
      groups.set(c.client, g);
    }
    g.bars.push({
      label: c.buffer,
      median: c.rowsPerSec.median / 1e6,
      min: c.rowsPerSec.min / 1e6,
      max: c.rowsPerSec.max / 1e6,
      runs: c.rowsPerSec.values.length,
      ours: api !== null,
      ratio: api === null ? null : asSpread(c.ratioToIlp),
      ratioLabel: api === null ? 'base' : 'x ILP',
    });
  }
  return {
    id: 'sender',
    title: 'Rows/s end to end: @qwp/sender vs @questdb/nodejs-client (ILP/HTTP)',
    unit: 'M rows/s',
    lowerIsBetter: false,
    scalePerGroup: false,
    context: contextOf(r, [
      `server: qwp serve --mode throughput (${data.serverMode}); the ILP client posts to a 204 sink`,
      `${data.rowsPerRun} 4-column trades rows per run, flush every 65536, timed to the last ACK; median of ${data.runs ?? '?'} runs, whiskers min - max; ratios per round, interleaved`,
    ]),
    groups: [...groups.values()],
  };
}

interface CrcData {
  sizes: Record<string, Record<string, { gbPerS: number; gbPerSSpread?: Spread; rounds?: number }>>;
  ratioSpreads?: Record<string, { vs: string; ratio: Spread }>;
  ratios: Record<string, number>;
  peers?: string[];
  ours?: string;
  implementation: string;
}

const CRC_SIZES = ['4 KiB', '64 KiB', '1 MiB'];

function crcComparison(r: StoredResult): Comparison {
  const data = r.data as CrcData;
  const oursName = data.ours ?? `@qwp/crc32c (${data.implementation})`;
  const groups: Group[] = [];
  let rounds = 0;
  for (const size of CRC_SIZES) {
    const figures = data.sizes[size];
    if (figures === undefined) continue;
    const names = data.peers ?? Object.keys(figures).filter((n) => !n.startsWith('@qwp/'));
    const bars: Bar[] = [];
    for (const name of [oursName, ...names]) {
      const f = figures[name];
      if (f === undefined) continue;
      const s = f.gbPerSSpread ?? spread([f.gbPerS]);
      rounds = Math.max(rounds, f.rounds ?? s.values.length);
      const isOurs = name === oursName;
      bars.push({
        label: name,
        median: f.gbPerS,
        min: s.min,
        max: s.max,
        runs: s.values.length,
        ours: isOurs,
        ratio: isOurs ? (data.ratioSpreads?.[size]?.ratio ?? asSpread(data.ratios[size])) : null,
        ratioLabel: isOurs ? 'x best peer' : '',
      });
    }
    groups.push({ label: size, bars });
  }
  return {
    id: 'crc32c',
    title: 'CRC32C GB/s: @qwp/crc32c vs its npm peers',
    unit: 'GB/s',
    lowerIsBetter: false,
    scalePerGroup: false,
    context: contextOf(r, [
      `no server; CPU time per call, median of ${rounds} interleaved rounds, whiskers min - max; ratio per round against the fastest peer`,
    ]),
    groups,
  };
}

interface LatencyCase {
  client: string;
  buffer: string;
  confirmedUs: { p50: number; p99: number }[];
}

function latencyComparison(r: StoredResult): Comparison {
  const data = r.data as {
    cases: LatencyCase[];
    serverMode: string;
    iterations: number;
    runs: number;
  };
  const ilp = data.cases[0]!;
  const groups: Group[] = (['p50', 'p99'] as const).map((k) => ({
    label: `confirmed ${k}`,
    bars: data.cases.map((c, i) => {
      const s = spread(c.confirmedUs.map((t) => t[k]));
      return {
        label: i === 0 ? 'ILP client flush()' : `@qwp/sender, ${c.buffer}`,
        median: s.median,
        min: s.min,
        max: s.max,
        runs: s.values.length,
        ours: i !== 0,
        // The ILP client's time over ours, run by run: above 1, ours is faster.
        ratio:
          i === 0
            ? null
            : pairedRatios(
                ilp.confirmedUs.map((t) => t[k]),
                c.confirmedUs.map((t) => t[k]),
              ),
        ratioLabel: i === 0 ? 'base' : 'x ILP',
      };
    }),
  }));
  return {
    id: 'latency',
    title: 'One row per flush, until confirmed: @qwp/sender ACK vs ILP HTTP response',
    unit: 'µs',
    lowerIsBetter: true,
    scalePerGroup: true,
    context: contextOf(r, [
      `server: qwp serve --mode throughput (${data.serverMode}); the ILP client posts to a 204 sink`,
      `${data.runs} runs x ${data.iterations} flushes of 1 row, median of the runs' percentiles, whiskers min - max; x ILP = the ILP client's time / ours, run by run (above 1: ours is faster)`,
    ]),
    groups,
  };
}

/** The comparisons the results hold, in chart order. */
export function comparisons(results: Map<string, StoredResult>): Comparison[] {
  const out: Comparison[] = [];
  const sender = results.get('sender');
  if (sender !== undefined) out.push(senderComparison(sender));
  const crc = results.get('crc32c');
  if (crc !== undefined) out.push(crcComparison(crc));
  const latency = results.get('sender-latency');
  if (latency !== undefined) out.push(latencyComparison(latency));
  return out;
}

/** "41.9x ILP (30.1 - 44.0)"; "base" or "" for a bar without a ratio. */
export function ratioText(b: Bar): string {
  if (b.ratio === null) return b.ratioLabel;
  const r = b.ratio;
  const digits = r.median >= 10 ? 1 : 2;
  const range = r.values.length > 1 ? ` (${fmt(r.min, digits)} - ${fmt(r.max, digits)})` : '';
  return `${fmt(r.median, digits)}${b.ratioLabel}${range}`;
}

/** Value with a precision that suits its size. */
export function valueText(v: number): string {
  if (v >= 100) return fmt(v, 0);
  if (v >= 10) return fmt(v, 1);
  if (v >= 1) return fmt(v, 2);
  return fmt(v, 3);
}

/** bench-results/summary.md: every comparison as a table, its context above it. */
export function summaryMarkdown(list: Comparison[]): string {
  const out = [
    '# Benchmark summary',
    '',
    'The headline comparisons of the latest run of each suite (`node dist/index.js` in packages/bench). Each ratio is measured in one run, its rounds interleaved; median, then min - max over the repetitions.',
    '',
  ];
  for (const c of list) {
    out.push(`## ${c.title}`, '', ...c.context.map((l) => `- ${l}`), '');
    out.push(`| group | case | runs | median ${c.unit} | min - max | ratio (min - max) |`);
    out.push('|---|---|---|---|---|---|');
    for (const g of c.groups) {
      for (const b of g.bars) {
        out.push(
          `| ${g.label} | ${b.label} | ${b.runs} | ${valueText(b.median)} | ${valueText(b.min)} - ${valueText(b.max)} | ${ratioText(b) || '-'} |`,
        );
      }
    }
    out.push('');
  }
  if (list.length === 0)
    out.push('No headline suite has results yet: run `sender`, `crc32c`, `sender-latency`.', '');
  return out.join('\n');
}
