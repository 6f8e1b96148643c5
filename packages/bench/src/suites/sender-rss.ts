import { fmt } from '../report.js';
import { slope } from '../stats.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';
import {
  bufferLabel,
  CORES_NOTE,
  FLUSH_ROWS,
  loadNote,
  loadNow,
  openQwp,
  type QwpBuffer,
  qwpRow,
  startQwpServer,
  trades,
} from './sender-peers.js';

/*
 * Memory over a long run: @qwp/sender writes many rows (explicit flush
 * every FLUSH_ROWS rows) while the process's RSS is sampled; a sender that
 * keeps nothing per row sent stays flat once its buffer is warm.
 */

const MIB = 2 ** 20;

interface Sample {
  rows: number;
  rss: number;
  heapUsed: number;
  external: number;
}

function sample(rows: number): Sample {
  const m = process.memoryUsage();
  return { rows, rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

/** RSS growth in MiB per 10 M rows over `samples`. */
function growth(samples: Sample[]): number {
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
    const d = trades();
    const buffers: QwpBuffer[] = [{ kind: 'memory' }, { kind: 'sf', durability: 'memory' }];
    const server = await startQwpServer();
    const results: {
      buffer: string;
      seconds: number;
      storeBytes: number;
      start: Sample;
      samples: Sample[];
    }[] = [];
    try {
      for (const b of buffers) {
        const { sender, close } = await openQwp(server.port, b);
        try {
          const start = sample(0);
          const samples: Sample[] = [];
          const t0 = process.hrtime.bigint();
          let flushes = 0;
          for (let i = 0; i < rows; ) {
            const end = Math.min(rows, i + FLUSH_ROWS);
            for (; i < end; i++) qwpRow(sender, d, i);
            await sender.flush();
            if (++flushes % sampleEvery === 0) samples.push(sample(i));
          }
          await sender.drain(120_000);
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
          samples.push(sample(rows));
          const storeBytes = sender.stats().storeBytes;
          results.push({ buffer: bufferLabel(b), seconds, storeBytes, start, samples });
        } finally {
          await close();
        }
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
        `${rows} trades rows per mode through the row API, an explicit flush() every ${FLUSH_ROWS} rows, drain() at the end; process.memoryUsage() sampled every ${sampleEvery} flushes (${sampleEvery * FLUSH_ROWS} rows) and after the drain. One run per mode (it is one long run). RSS is the whole process: producer, I/O worker thread, the sender's buffer (memory mode: SharedArrayBuffer segments, up to sf_max_total_bytes, 128 MiB by default; SF: mapped segment files), and whatever suites ran before in the same process ("before": after connecting, before the first row).`,
        '"buffer MiB at end": stats().storeBytes after the drain, what the sender\'s buffer holds (segments kept for reuse included).',
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
        sampleEvery: sampleEvery,
        serverMode: server.mode,
        results,
      },
    };
  },
};
