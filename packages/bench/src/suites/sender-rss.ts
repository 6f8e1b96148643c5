import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt } from '../report.js';
import { slope } from '../stats.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';
import {
  bufferLabel,
  CORES_NOTE,
  FLUSH_ROWS,
  loadNote,
  loadNow,
  startQwpServer,
} from './sender-peers.js';

/*
 * Memory over a long run: @qwp/sender writes many rows (explicit flush
 * every FLUSH_ROWS rows) while the process's RSS is sampled; a sender that
 * keeps nothing per row sent stays flat once its buffer is warm.
 */

const MIB = 2 ** 20;

/** One memoryUsage() reading after `rows` rows. */
export interface RssSample {
  rows: number;
  rss: number;
  heapUsed: number;
  external: number;
}

/** What sender-rss-child.js prints. */
export interface RssRun {
  seconds: number;
  storeBytes: number;
  /** After connecting, before the first row. */
  start: RssSample;
  samples: RssSample[];
}

/** Runs sender-rss-child.js against the server on `port` and parses its result line. */
function runChild(
  port: number,
  kind: 'memory' | 'sf',
  rows: number,
  every: number,
): Promise<RssRun> {
  const script = fileURLToPath(new URL('./sender-rss-child.js', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, String(port), kind, String(rows), String(every)],
      { timeout: 300_000, maxBuffer: 16 * MIB },
      (err, stdout, stderr) => {
        if (err !== null) {
          reject(
            new Error(`sender-rss-child ${kind} failed: ${err.message}; ${stderr}`, { cause: err }),
          );
          return;
        }
        const lines = stdout.trim().split('\n');
        resolve(JSON.parse(lines[lines.length - 1]!) as RssRun);
      },
    );
  });
}

/** RSS growth in MiB per 10 M rows over `samples`. */
function growth(samples: RssSample[]): number {
  return (
    slope(
      samples.map((s) => s.rows),
      samples.map((s) => s.rss),
    ) *
    (1e7 / MIB)
  );
}

/** RSS of the process over a long @qwp/sender run, memory mode (and SF for comparison). */
export const senderRssSuite: Suite = {
  name: 'sender-rss',
  description:
    '@qwp/sender process RSS over many rows (memory and SF modes): first / max / last, slope',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const load0 = loadNow();
    const rows = options.quick ? 1_048_576 : 20_000_000;
    // Flushes between samples: ~16 samples in quick mode, ~76 in a full run.
    const sampleEvery = options.quick ? 1 : 4;
    const modes: ('memory' | 'sf')[] = ['memory', 'sf'];
    const server = await startQwpServer();
    const results: ({ buffer: string } & RssRun)[] = [];
    try {
      for (const kind of modes) {
        const run = await runChild(server.port, kind, rows, sampleEvery);
        const buffer = bufferLabel(kind === 'sf' ? { kind, durability: 'memory' } : { kind });
        results.push({ buffer, ...run });
      }
    } finally {
      await server.close();
    }
    const mib = (n: number) => fmt(n / MIB, 1);
    const table = results.map((r) => {
      const s = r.samples;
      const first = s[0]!;
      const last = s[s.length - 1]!;
      const max = s.reduce((a, b) => (b.rss > a.rss ? b : a));
      return [
        r.buffer,
        rows,
        fmt(rows / r.seconds / 1e6, 2),
        s.length,
        mib(r.start.rss),
        mib(first.rss),
        `${mib(max.rss)} at ${fmt(max.rows / 1e6, 1)} M`,
        mib(last.rss),
        fmt(growth(s.slice(Math.floor(s.length / 2))), 2),
        fmt(growth(s), 2),
        `${mib(first.heapUsed)} -> ${mib(last.heapUsed)}`,
        mib(r.storeBytes),
      ];
    });
    return {
      suite: 'sender-rss',
      notes: [
        `${rows} trades rows per mode through the row API, an explicit flush() every ${FLUSH_ROWS} rows, drain() at the end; process.memoryUsage() sampled every ${sampleEvery} flushes (${sampleEvery * FLUSH_ROWS} rows) and after the drain. One run per mode (it is one long run). Each mode runs in a fresh Node process (sender-rss-child.js): in the bench process, earlier suites' heap makes V8 collect more often, which hides growth. RSS is that whole process: producer, I/O worker thread and the sender's buffer (memory mode: SharedArrayBuffer segments, at most sf_max_total_bytes = 128 MiB by default; SF: mapped segment files); "before" is after connecting, before the first row.`,
        '"buffer MiB at end": stats().storeBytes after the drain, the bytes the sender\'s buffer holds.',
        'Goal: flat, i.e. slope ~0 after the buffer is warm. Slope = least-squares MiB of RSS per 10 M rows, over the second half of the samples and over all of them.',
        `Server: \`qwp serve --mode throughput\` (${server.mode}) in a child process (its memory is not counted).`,
        CORES_NOTE,
        loadNote(load0),
      ],
      columns: [
        'buffer',
        'rows',
        'M rows/s',
        'samples',
        'RSS before MiB',
        'RSS first MiB',
        'RSS max MiB',
        'RSS last MiB',
        'slope, 2nd half (MiB / 10 M rows)',
        'slope, all',
        'heapUsed first -> last MiB',
        'buffer MiB at end',
      ],
      rows: table,
      data: {
        rows,
        flushRows: FLUSH_ROWS,
        sampleEvery,
        serverMode: server.mode,
        results,
      },
    };
  },
};
