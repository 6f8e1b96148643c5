import { describe, expect, it } from 'vitest';
import { escapeXml, headlineSvg } from '../src/chart.js';
import { failures, type SmokeResult } from '../src/smoke.js';
import { spread } from '../src/stats.js';
import { comparisons, quotable, type StoredResult, summaryMarkdown } from '../src/summary.js';

const MACHINE =
  'Test CPU, 2 cores, 8 GiB, Node v20.20.2 (linux-x64); producer and any server share these cores';

function stored(suite: string, data: unknown, quick = false): StoredResult {
  return {
    suite,
    machine: MACHINE,
    measuredAt: '2026-12-02T10:00:00.000Z',
    quick,
    load: { before: 1.5, after: 2.5 },
    notes: [],
    columns: [],
    rows: [],
    data,
  };
}

const senderData = {
  serverMode: 'throughput, sample 0.015625',
  rowsPerRun: 5_000_000,
  cases: [
    {
      client: '@questdb/nodejs-client 4.2.0 ILP/HTTP',
      api: null,
      buffer: 'its own (in memory)',
      server: 'sink',
      unavailable: null,
      rowsPerSec: spread([200_000, 250_000, 220_000]),
      ratioToIlp: spread([1, 1, 1]),
    },
    {
      client: '@qwp/sender row API',
      api: 'row',
      buffer: 'memory',
      server: 'qwp',
      unavailable: null,
      rowsPerSec: spread([8_000_000, 10_000_000, 9_000_000]),
      ratioToIlp: spread([40, 40, 40.9]),
    },
    {
      client: '@qwp/sender columns()',
      api: 'columnar',
      buffer: 'memory',
      server: 'qwp',
      unavailable: null,
      rowsPerSec: spread([20_000_000, 22_000_000, 21_000_000]),
      ratioToIlp: spread([100, 88, 95.5]),
    },
    {
      client: '@qwp/sender row API',
      api: 'row',
      buffer: 'sf, sf_durability=flush',
      server: 'qwp',
      unavailable: 'refused',
      rowsPerSec: spread([]),
      ratioToIlp: spread([]),
    },
  ],
};

const crcData = {
  implementation: 'sse4.2+vpclmulqdq',
  ours: '@qwp/crc32c (sse4.2+vpclmulqdq)',
  peers: ['sse4_crc32 7.0.0', 'fast-crc32c 2.0.0'],
  ratios: { '64 KiB': 5 },
  ratioSpreads: { '64 KiB': { vs: 'sse4_crc32 7.0.0', ratio: spread([5, 4.5, 5.5]) } },
  sizes: {
    '64 KiB': {
      '@qwp/crc32c (sse4.2+vpclmulqdq)': {
        gbPerS: 50,
        gbPerSSpread: spread([50, 45, 55]),
        rounds: 3,
      },
      '@qwp/crc32c (portable)': { gbPerS: 2, gbPerSSpread: spread([2, 2, 2]), rounds: 3 },
      'sse4_crc32 7.0.0': { gbPerS: 10, gbPerSSpread: spread([10, 9, 11]), rounds: 3 },
      'fast-crc32c 2.0.0': { gbPerS: 9, gbPerSSpread: spread([9, 9, 9]), rounds: 3 },
    },
  },
};

const tails = (p50: number[], p99: number[]) =>
  p50.map((v, i) => ({ p50: v, p99: p99[i]!, p999: 0, max: 0, count: 100 }));

const latencyData = {
  serverMode: 'throughput, sample 0.015625',
  iterations: 5000,
  runs: 3,
  cases: [
    {
      client: 'ILP',
      buffer: 'its own (in memory)',
      confirmedUs: tails([100, 90, 110], [400, 500, 450]),
    },
    { client: 'qwp', buffer: 'memory', confirmedUs: tails([50, 45, 55], [800, 1000, 900]) },
  ],
};

function all(quick = false): Map<string, StoredResult> {
  return new Map([
    ['sender', stored('sender', senderData, quick)],
    ['crc32c', stored('crc32c', crcData)],
    ['sender-latency', stored('sender-latency', latencyData)],
  ]);
}

describe('comparisons', () => {
  it('reads the three headline comparisons with their context', () => {
    const list = comparisons(all());
    expect(list.map((c) => c.id)).toEqual(['sender', 'crc32c', 'latency']);
    const [sender, crc, latency] = list;
    // The refused case is left out; groups follow the clients.
    expect(sender!.groups.map((g) => g.label)).toEqual([
      '@questdb/nodejs-client 4.2.0 ILP/HTTP',
      '@qwp/sender row API',
      '@qwp/sender columns()',
    ]);
    expect(sender!.groups[1]!.bars[0]!.median).toBeCloseTo(9);
    expect(sender!.groups[1]!.bars[0]!.ratio!.median).toBeCloseTo(40);
    expect(sender!.groups[0]!.bars[0]!.ratio).toBeNull();
    expect(sender!.context.join(' ')).toContain('Node v20.20.2');
    expect(sender!.context.join(' ')).toContain('throughput, sample 0.015625');
    // Other kernels of ours are not peers.
    expect(crc!.groups[0]!.bars.map((b) => b.label)).toEqual([
      '@qwp/crc32c (sse4.2+vpclmulqdq)',
      'sse4_crc32 7.0.0',
      'fast-crc32c 2.0.0',
    ]);
    expect(crc!.groups[0]!.bars[0]!.ratio!.min).toBe(4.5);
    // Latency: ILP's time over ours, run by run.
    const p50 = latency!.groups[0]!.bars[1]!;
    expect(p50.ratio!.values).toEqual([2, 2, 2]);
    const p99 = latency!.groups[1]!.bars[1]!;
    expect(p99.ratio!.values).toEqual([0.5, 0.5, 0.5]);
    expect(latency!.lowerIsBetter).toBe(true);
  });

  it('leaves out what was not measured', () => {
    const only = new Map([['crc32c', stored('crc32c', crcData)]]);
    expect(comparisons(only).map((c) => c.id)).toEqual(['crc32c']);
    expect(comparisons(new Map())).toEqual([]);
  });

  it('lets only full runs replace the committed chart', () => {
    expect(quotable(all())).toBe(true);
    expect(quotable(all(true))).toBe(false);
    const old = all();
    delete old.get('crc32c')!.quick;
    expect(quotable(old)).toBe(false);
    expect(quotable(new Map())).toBe(false);
  });
});

describe('summary.md', () => {
  it('has each ratio with its spread and the context', () => {
    const md = summaryMarkdown(comparisons(all()));
    expect(md).toContain(
      '| @qwp/sender row API | memory | 3 | 9.00 | 8.00 - 10.0 | 40.0x ILP (40.0 - 40.9) |',
    );
    expect(md).toContain(
      '| 64 KiB | @qwp/crc32c (sse4.2+vpclmulqdq) | 3 | 50.0 | 45.0 - 55.0 | 5.00x best peer (4.50 - 5.50) |',
    );
    expect(md).toContain(
      '| @questdb/nodejs-client 4.2.0 ILP/HTTP | its own (in memory) | 3 | 0.220 | 0.200 - 0.250 | base |',
    );
    expect(md).toContain('1-min load average 1.5 -> 2.5');
    expect(md).toContain('2026-12-02');
  });

  it('marks a quick run', () => {
    expect(summaryMarkdown(comparisons(all(true)))).toContain('QUICK RUN');
  });
});

describe('headline.svg', () => {
  const svg = headlineSvg(comparisons(all()));

  it('draws bars in proportion within a panel', () => {
    const widths = [...svg.matchAll(/<rect x="316" y="[\d.]+" width="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );
    // sender panel: ILP, row API, columns(); crc32c: ours and two peers; latency: 2 + 2.
    expect(widths).toHaveLength(10);
    // One scale per panel: the widest whisker (columns() max 22) spans the full width.
    expect(widths[2]! / widths[1]!).toBeCloseTo(21 / 9, 1);
    expect(widths[2]).toBeCloseTo((21 / 22) * 380, 0);
    // Latency scales each group alone.
    expect(widths[7]! / widths[6]!).toBeCloseTo(50 / 100, 1);
    expect(widths[9]).toBeCloseTo((900 / 1000) * 380, 0);
  });

  it('labels values and ratios, and the context', () => {
    expect(svg).toContain('9.00 M rows/s · 40.0x ILP (40.0 - 40.9)');
    expect(svg).toContain('50.0 GB/s · 5.00x best peer (4.50 - 5.50)');
    expect(svg).toContain('(lower is better)');
    expect(svg).toContain('Test CPU, 2 cores, 8 GiB, Node v20.20.2 (linux-x64)');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // Every opened text element is closed, and no raw markup leaks from labels.
    expect(svg.match(/<text /g)!.length).toBe(svg.match(/<\/text>/g)!.length);
  });

  it('escapes markup in labels', () => {
    expect(escapeXml('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
  });
});

describe('smoke floors', () => {
  const result = (median: number, floor: number): SmokeResult => ({
    machine: MACHINE,
    serverMode: 'throughput',
    load: { before: 1, after: 1 },
    seconds: 1,
    ratios: [{ name: 'r', ours: 'a', peer: 'b', ratio: spread([median]), floor, today: '~40x' }],
  });

  it('passes at or above the floor and fails under it or on NaN', () => {
    expect(failures(result(5, 5))).toEqual([]);
    expect(failures(result(40, 5))).toEqual([]);
    expect(failures(result(4.9, 5))).toEqual([
      'r: 4.90x is under the floor of 5x (today ~40x; a vs b)',
    ]);
    expect(failures(result(Number.NaN, 5))).toHaveLength(1);
  });
});
