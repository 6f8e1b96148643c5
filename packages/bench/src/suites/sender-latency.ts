import type { Sender as IlpSender } from '@questdb/nodejs-client';
import type { Sender } from '@qwp/sender';
import { fmt } from '../report.js';
import { pairedRatios, spread, type Tail, tail } from '../stats.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';
import {
  bufferLabel,
  CORES_NOTE,
  DURABILITY_MODES,
  ilpRow,
  ilpVersion,
  loadNote,
  loadNow,
  openIlp,
  openQwp,
  PERIODIC_SYNC_MS,
  type QwpBuffer,
  qwpRow,
  startHttpSink,
  startQwpServer,
  type Trades,
  trades,
} from './sender-peers.js';

/*
 * Confirmed latency of one row per flush: @qwp/sender's flush() then
 * acknowledged(fsn) (the server's OK for that frame reached the producer),
 * against the ILP client's flush() of one row, which resolves on its HTTP
 * response. Both servers run in child processes.
 */

/** Microseconds between two hrtime.bigint() readings. */
function us(from: bigint, to: bigint): number {
  return Number(to - from) / 1000;
}

/** One client sending one row per flush; `sample` times the i-th row. */
interface Probe {
  /** Writes row i, flushes, waits for the confirmation; [flush() µs, confirmed µs]. */
  sample(i: number): Promise<[number, number]>;
  close(): Promise<void>;
}

interface Case {
  client: string;
  buffer: string;
  server: 'qwp' | 'sink';
  open(ports: { qwp: number; sink: number }, d: Trades): Promise<Probe>;
}

function qwpCase(b: QwpBuffer): Case {
  return {
    client: '@qwp/sender flush() + acknowledged(fsn)',
    buffer: bufferLabel(b),
    server: 'qwp',
    async open(ports, d) {
      const { sender, close } = await openQwp(ports.qwp, b);
      return { sample: (i) => qwpSample(sender, d, i), close };
    },
  };
}

async function qwpSample(s: Sender, d: Trades, i: number): Promise<[number, number]> {
  qwpRow(s, d, i);
  const t0 = process.hrtime.bigint();
  const fsn = await s.flush();
  const t1 = process.hrtime.bigint();
  await s.acknowledged(fsn);
  const t2 = process.hrtime.bigint();
  return [us(t0, t1), us(t0, t2)];
}

function ilpCase(): Case {
  return {
    client: `@questdb/nodejs-client ${ilpVersion()} flush() (HTTP response)`,
    buffer: 'its own (in memory)',
    server: 'sink',
    async open(ports, d) {
      const s = await openIlp(ports.sink);
      return { sample: (i) => ilpSample(s, d, i), close: () => s.close() };
    },
  };
}

async function ilpSample(s: IlpSender, d: Trades, i: number): Promise<[number, number]> {
  ilpRow(s, d, i);
  const t0 = process.hrtime.bigint();
  await s.flush();
  const t = us(t0, process.hrtime.bigint());
  return [t, t];
}

function cases(): Case[] {
  return [
    ilpCase(),
    qwpCase({ kind: 'memory' }),
    ...DURABILITY_MODES.map((durability) => qwpCase({ kind: 'sf', durability })),
  ];
}

interface Measured {
  c: Case;
  flush: Tail[];
  confirmed: Tail[];
}

/** flush()-to-ACK latency at one row per flush, @qwp/sender vs the ILP client's flush(). */
export const senderLatencySuite: Suite = {
  name: 'sender-latency',
  description:
    '@qwp/sender flush() + acknowledged(fsn) of one row vs @questdb/nodejs-client flush() of one row: p50 / p99 / p99.9',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const load0 = loadNow();
    const iterations = options.quick ? 300 : 5000;
    const runs = options.quick ? 1 : 3;
    const warmup = options.quick ? 100 : 500;
    const d = trades();
    const [qwp, sink] = await Promise.all([startQwpServer(), startHttpSink()]);
    const ports = { qwp: qwp.port, sink: sink.port };
    const measured: Measured[] = cases().map((c) => ({ c, flush: [], confirmed: [] }));
    try {
      for (let r = 0; r < runs; r++) {
        for (const m of measured) {
          const probe = await m.c.open(ports, d);
          try {
            for (let i = 0; i < warmup; i++) await probe.sample(i);
            const flush = new Float64Array(iterations);
            const confirmed = new Float64Array(iterations);
            for (let i = 0; i < iterations; i++) {
              const [f, c] = await probe.sample(warmup + i);
              flush[i] = f;
              confirmed[i] = c;
            }
            m.flush.push(tail(flush));
            m.confirmed.push(tail(confirmed));
          } finally {
            await probe.close();
          }
        }
      }
    } finally {
      await Promise.all([qwp.close(), sink.close()]);
    }

    const med = (tails: Tail[], k: keyof Tail) => spread(tails.map((t) => t[k])).median;
    const range = (tails: Tail[], k: keyof Tail) => {
      const s = spread(tails.map((t) => t[k]));
      return runs === 1
        ? fmt(s.median, 1)
        : `${fmt(s.median, 1)} (${fmt(s.min, 1)} - ${fmt(s.max, 1)})`;
    };
    // Run by run: the ILP client's p50 over this case's p50 in the same round.
    const vsIlp = (m: Measured) => {
      const r = pairedRatios(
        measured[0]!.confirmed.map((t) => t.p50),
        m.confirmed.map((t) => t.p50),
      );
      return runs === 1
        ? fmt(r.median, 2)
        : `${fmt(r.median, 2)} (${fmt(r.min, 2)} - ${fmt(r.max, 2)})`;
    };
    const rows = measured.map((m) => [
      m.c.client,
      m.c.buffer,
      m.c.server === 'qwp' ? `qwp serve (${qwp.mode})` : '204 sink (node:http)',
      `${runs} x ${iterations}`,
      fmt(med(m.flush, 'p50'), 1),
      range(m.confirmed, 'p50'),
      range(m.confirmed, 'p99'),
      fmt(med(m.confirmed, 'p999'), 1),
      fmt(med(m.confirmed, 'max'), 0),
      vsIlp(m),
    ]);
    return {
      suite: 'sender-latency',
      notes: [
        `One trades row per flush; ${iterations} timed iterations per run after ${warmup} untimed ones, ${runs} run(s) per case interleaved, each on a fresh client; figures are the median over runs of each run's percentile${runs > 1 ? ', with min - max over runs in brackets' : ''}; µs.`,
        `"flush() p50": until @qwp/sender's flush() resolves (the frame is in the buffer; msynced first with sf_durability=flush and append; periodic msyncs every ${PERIODIC_SYNC_MS} ms on its own). "confirmed": until acknowledged(fsn) resolves, i.e. the server's OK has reached the producer thread through the I/O worker. For the ILP client both are its flush(), which resolves on the HTTP 204.`,
        `Servers in child processes: \`qwp serve --mode throughput\` (${qwp.mode}) and a node:http 204 sink. "x ILP p50" = the ILP client's confirmed p50 over this row's, run by run (above 1: faster), median (min - max) over the runs.`,
        CORES_NOTE,
        loadNote(load0),
      ],
      columns: [
        'client',
        'buffer',
        'server',
        'runs x iterations',
        'flush() p50 µs',
        'confirmed p50 µs',
        'confirmed p99 µs',
        'p99.9 µs',
        'max µs',
        'x ILP p50',
      ],
      rows,
      data: {
        iterations,
        runs,
        warmup,
        serverMode: qwp.mode,
        cases: measured.map((m) => ({
          client: m.c.client,
          buffer: m.c.buffer,
          flushUs: m.flush,
          confirmedUs: m.confirmed,
        })),
      },
    };
  },
};
