import { ConnectStringError, parseConnectString } from '@qwp/qwp-wire';
import { fmt } from '../report.js';
import { type Spread, spread } from '../stats.js';
import type { Suite, SuiteOptions, SuiteResult } from '../suite.js';
import {
  bufferLabel,
  CORES_NOTE,
  DURABILITY_MODES,
  FLUSH_ROWS,
  ilpRow,
  ilpVersion,
  loadNote,
  loadNow,
  openIlp,
  openQwp,
  PERIODIC_SYNC_MS,
  type QwpBuffer,
  qwpConf,
  qwpRow,
  sinkStats,
  startHttpSink,
  startQwpServer,
  type Trades,
  trades,
} from './sender-peers.js';

/*
 * End-to-end rows/s of @qwp/sender against @questdb/nodejs-client over
 * ILP/HTTP: the same trades rows, the same count, an explicit flush every
 * FLUSH_ROWS rows, timed from the first row to the last acknowledgement
 * (QWP: drain(); ILP: the last flush's HTTP response). Each server runs in
 * its own child process. Cases run interleaved, one fresh client per run.
 */

const DRAIN_TIMEOUT_MS = 120_000;

/** A connected client. Only write() is timed. */
interface Run {
  /** Writes `rows` rows and waits for their acknowledgement. */
  write(rows: number): Promise<void>;
  /** Checks that the last write's `rows` rows all arrived; the bytes they took on the wire. */
  check(rows: number): Promise<number>;
  close(): Promise<void>;
}

/** Ports of the two servers, for a case to connect to. */
interface Servers {
  qwp: number;
  sink: number;
}

/**
 * A contender. A new one (e.g. the columnar API) is one more entry in
 * `cases()`: its open() connects, write() sends and waits for the ACKs.
 */
interface Case {
  client: string;
  buffer: string;
  server: 'qwp' | 'sink';
  /** Why this case cannot run here (e.g. a durability the config parser refuses), or null. */
  unavailable: string | null;
  open(servers: Servers, d: Trades): Promise<Run>;
}

/** @qwp/sender's row API into buffer `b`. */
function rowApiCase(b: QwpBuffer): Case {
  return {
    client: '@qwp/sender row API',
    buffer: bufferLabel(b),
    server: 'qwp',
    unavailable: refusal(b),
    async open(servers, d) {
      const { sender, close } = await openQwp(servers.qwp, b);
      let before = sender.stats().bytesSent;
      return {
        async write(rows) {
          for (let i = 0; i < rows; ) {
            const end = Math.min(rows, i + FLUSH_ROWS);
            for (; i < end; i++) qwpRow(sender, d, i);
            await sender.flush();
          }
          await sender.drain(DRAIN_TIMEOUT_MS);
        },
        async check() {
          const s = sender.stats();
          if (s.ackedFsn !== s.publishedFsn || s.framesReplayed !== 0) {
            throw new Error(
              `${bufferLabel(b)}: after drain() acked ${s.ackedFsn} of ${s.publishedFsn}, ${s.framesReplayed} replayed`,
            );
          }
          const bytes = s.bytesSent - before;
          before = s.bytesSent;
          return bytes;
        },
        close,
      };
    },
  };
}

/** The connect-string parser's objection to `b`, or null when it accepts it. */
function refusal(b: QwpBuffer): string | null {
  try {
    parseConnectString(qwpConf(9000, b, '/nonexistent'));
    return null;
  } catch (err) {
    if (err instanceof ConnectStringError) return err.message;
    throw err;
  }
}

function ilpCase(): Case {
  return {
    client: `@questdb/nodejs-client ${ilpVersion()} ILP/HTTP`,
    buffer: 'its own (in memory)',
    server: 'sink',
    unavailable: null,
    async open(servers, d) {
      const s = await openIlp(servers.sink);
      let base = await sinkStats(servers.sink);
      return {
        async write(rows) {
          for (let i = 0; i < rows; ) {
            const end = Math.min(rows, i + FLUSH_ROWS);
            for (; i < end; i++) ilpRow(s, d, i);
            await s.flush();
          }
        },
        async check(rows) {
          const now = await sinkStats(servers.sink);
          const expected = Math.ceil(rows / FLUSH_ROWS);
          if (now.requests - base.requests !== expected) {
            throw new Error(
              `the sink read ${now.requests - base.requests} requests, ${expected} sent`,
            );
          }
          const bytes = now.bytes - base.bytes;
          base = now;
          return bytes;
        },
        close: () => s.close(),
      };
    },
  };
}

/** Every contender, in table order. */
function cases(): Case[] {
  return [
    ilpCase(),
    rowApiCase({ kind: 'memory' }),
    ...DURABILITY_MODES.map((durability) => rowApiCase({ kind: 'sf', durability })),
    // The columnar API joins here once the sender exposes it: a Case like
    // rowApiCase whose write() hands each FLUSH_ROWS block to sender.columns().
  ];
}

interface Measured {
  c: Case;
  rates: number[];
  bytesPerRow: number;
}

/** Opens a client, writes `warmRows` rows untimed then `rows` rows timed, closes. */
async function once(
  c: Case,
  servers: Servers,
  d: Trades,
  rows: number,
  warmRows: number,
): Promise<{ rate: number; bytesPerRow: number }> {
  const run = await c.open(servers, d);
  try {
    if (warmRows > 0) {
      await run.write(warmRows);
      await run.check(warmRows);
    }
    const t0 = process.hrtime.bigint();
    await run.write(rows);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { rate: rows / seconds, bytesPerRow: (await run.check(rows)) / rows };
  } finally {
    await run.close();
  }
}

function cell(s: Spread): [string, string] {
  return [fmt(s.median / 1e6, 3), `${fmt(s.min / 1e6, 3)} - ${fmt(s.max / 1e6, 3)}`];
}

/** Row API end to end: memory and SF modes (every sf_durability) against the ILP client. */
export const senderSuite: Suite = {
  name: 'sender',
  description:
    '@qwp/sender end to end (row API, memory and SF modes, every sf_durability) vs @questdb/nodejs-client ILP/HTTP',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const load0 = loadNow();
    const rows = options.quick ? 131_072 : 5_000_000;
    const runs = options.quick ? 1 : 5;
    // The peer is over 10x slower: fewer runs of the same rows keep the suite to minutes.
    const ilpRuns = options.quick ? 1 : 3;
    const warmRows = options.quick ? FLUSH_ROWS : 4 * FLUSH_ROWS;
    const d = trades();
    const all = cases();
    const [qwp, sink] = await Promise.all([startQwpServer(), startHttpSink()]);
    const servers: Servers = { qwp: qwp.port, sink: sink.port };
    const measured: Measured[] = all.map((c) => ({ c, rates: [], bytesPerRow: Number.NaN }));
    try {
      for (let r = 0; r < runs; r++) {
        for (const m of measured) {
          if (m.c.unavailable !== null) continue;
          if (m.c.server === 'sink' && r >= ilpRuns) continue;
          // The first run of each case warms its code paths up first, on the same client.
          const warm = r === 0 ? warmRows : 0;
          const { rate, bytesPerRow } = await once(m.c, servers, d, rows, warm);
          m.rates.push(rate);
          m.bytesPerRow = bytesPerRow;
        }
      }
    } finally {
      await Promise.all([qwp.close(), sink.close()]);
    }

    const ilp = spread(measured[0]!.rates).median;
    const memoryMode = spread(measured[1]!.rates).median;
    const sfMemory = spread(measured[2]!.rates).median;
    const serverOf = (c: Case) =>
      c.server === 'qwp' ? `qwp serve (${qwp.mode})` : '204 sink (node:http)';
    const tableRows: (string | number)[][] = measured.map((m) => {
      if (m.c.unavailable !== null) {
        return [m.c.client, m.c.buffer, serverOf(m.c), 0, 'not run', '-', '-', '-', '-', '-'];
      }
      const s = spread(m.rates);
      const isSf = m.c.buffer.startsWith('sf');
      return [
        m.c.client,
        m.c.buffer,
        serverOf(m.c),
        m.rates.length,
        ...cell(s),
        fmt(m.bytesPerRow, 1),
        fmt(s.median / ilp, 1),
        m.c.server === 'qwp' ? fmt(s.median / memoryMode, 2) : '-',
        isSf ? fmt(s.median / sfMemory, 2) : '-',
      ];
    });
    const refused = measured
      .filter((m) => m.c.unavailable !== null)
      .map(
        (m) => `${m.c.buffer}: not run, the connect-string parser refuses it (${m.c.unavailable}).`,
      );
    return {
      suite: 'sender',
      notes: [
        `${rows} trades rows per run (sym SYMBOL of 10 values, px DOUBLE, qty LONG, designated timestamp in µs), the same rows for both clients; an explicit flush() every ${FLUSH_ROWS} rows (auto-flush off in both); timed from the first row to the last acknowledgement: @qwp/sender's drain(), the ILP client's last flush() (each of its flushes waits for its HTTP response, so ILP sends one request at a time; @qwp/sender's flush() returns once the frame is in its buffer and the worker pipelines the sends).`,
        `Median of ${runs} runs (ILP: ${ilpRuns}, the same rows per run) with min - max; the cases run interleaved, each run on a fresh client (connected before the clock starts) and, in SF mode, a fresh temporary sf_dir removed after it; the first run of each case sends ${warmRows} untimed warm-up rows through its client before its clock starts.`,
        `Servers, each in its own child process, started once: \`qwp serve --mode throughput\` (announced mode: ${qwp.mode}: header checks and a sampled full decode, no rows kept; it acknowledges every frame) and, for the ILP client, a node:http server that reads every request body and answers 204 (no parsing). Wire B/row: QWP frame payload bytes (stats().bytesSent) or ILP request-body bytes (counted by the sink), per row.`,
        `ILP client: protocol_version=2 (binary doubles), HTTP via its default transport (undici), at() not awaited (with auto_flush=off it never flushes, so this is its best case). sf_durability=periodic runs with sf_sync_interval_millis=${PERIODIC_SYNC_MS} so that several msyncs fall within a run (the default is 5000 ms).`,
        ...refused,
        'Targets: the row API >= 10x the ILP client (x ILP). The columnar API (>= 20 M rows/s) is not measured yet: it will be one more case in this suite.',
        CORES_NOTE,
        loadNote(load0),
      ],
      columns: [
        'client',
        'buffer',
        'server',
        'runs',
        'M rows/s (median)',
        'min - max',
        'wire B/row',
        'x ILP',
        'x memory mode',
        'x sf_durability=memory',
      ],
      rows: tableRows,
      data: {
        rowsPerRun: rows,
        flushRows: FLUSH_ROWS,
        warmRows,
        serverMode: qwp.mode,
        periodicSyncMs: PERIODIC_SYNC_MS,
        cases: measured.map((m) => ({
          client: m.c.client,
          buffer: m.c.buffer,
          server: m.c.server,
          unavailable: m.c.unavailable,
          rowsPerSec: spread(m.rates),
          wireBytesPerRow: m.bytesPerRow,
          ratioToIlp: spread(m.rates).median / ilp,
        })),
      },
    };
  },
};
