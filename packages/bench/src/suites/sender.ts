import { ConnectStringError, parseConnectString } from '@qwp/qwp-wire';
import { fmt } from '../report.js';
import { pairedRatios, type Spread, spread } from '../stats.js';
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
  qwpColumns,
  qwpConf,
  qwpRow,
  sinkStats,
  startHttpSink,
  startQwpServer,
  type Trades,
  timestampsUs,
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
  /** Which @qwp/sender API; null for the ILP client. */
  api: Api | null;
  buffer: string;
  server: 'qwp' | 'sink';
  /** Why this case cannot run here (e.g. a durability the config parser refuses), or null. */
  unavailable: string | null;
  open(servers: Servers, d: Trades): Promise<Run>;
}

/** How a @qwp/sender case hands its rows to the sender. */
type Api = 'row' | 'columnar';

const API_LABEL: Record<Api, string> = {
  row: '@qwp/sender row API',
  columnar: '@qwp/sender columns()',
};

/**
 * @qwp/sender into buffer `b`: the row API (one call chain per row) or
 * columns() (one call per FLUSH_ROWS block, timestamps prepared up front
 * in `ts`, which covers every row a write() asks for).
 */
function qwpCase(api: Api, b: QwpBuffer, ts: () => BigInt64Array): Case {
  return {
    client: API_LABEL[api],
    api,
    buffer: bufferLabel(b),
    server: 'qwp',
    unavailable: refusal(b),
    async open(servers, d) {
      const { sender, close } = await openQwp(servers.qwp, b);
      const stamps = ts();
      let before = sender.stats().bytesSent;
      return {
        async write(rows) {
          for (let i = 0; i < rows; ) {
            const end = Math.min(rows, i + FLUSH_ROWS);
            if (api === 'columnar') {
              qwpColumns(sender, d, stamps, i, end);
              i = end;
            } else {
              for (; i < end; i++) qwpRow(sender, d, i);
            }
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
    api: null,
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

/** Every contender, in table order; `ts` gives the columnar cases' timestamps. */
function cases(ts: () => BigInt64Array): Case[] {
  return [
    ilpCase(),
    qwpCase('row', { kind: 'memory' }, ts),
    ...DURABILITY_MODES.map((durability) => qwpCase('row', { kind: 'sf', durability }, ts)),
    qwpCase('columnar', { kind: 'memory' }, ts),
    qwpCase('columnar', { kind: 'sf', durability: 'memory' }, ts),
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

/** "41.9 (30.1 - 44.0)" for a ratio's spread over paired runs. */
function ratioCell(r: Spread, digits: number): string {
  if (r.values.length <= 1) return fmt(r.median, digits);
  return `${fmt(r.median, digits)} (${fmt(r.min, digits)} - ${fmt(r.max, digits)})`;
}

/**
 * @qwp/sender end to end (row API in memory mode and SF mode with every
 * sf_durability; columns() in memory and SF mode) against the ILP client.
 */
export const senderSuite: Suite = {
  name: 'sender',
  description:
    '@qwp/sender end to end (row API and columns(); memory mode, SF mode with every sf_durability) vs @questdb/nodejs-client ILP/HTTP',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const load0 = loadNow();
    const rows = options.quick ? 131_072 : 5_000_000;
    // The peer is over 10x slower and steady from its second flush on: fewer
    // rows per run keep its runs to seconds, and it runs as often as the others.
    const ilpRows = options.quick ? 131_072 : 1_048_576;
    const runs = options.quick ? 1 : 5;
    const warmRows = options.quick ? FLUSH_ROWS : 4 * FLUSH_ROWS;
    const d = trades();
    let stamps: BigInt64Array | undefined;
    const ts = () => {
      stamps ??= timestampsUs(Math.max(rows, warmRows));
      return stamps;
    };
    const all = cases(ts);
    const [qwp, sink] = await Promise.all([startQwpServer(), startHttpSink()]);
    const servers: Servers = { qwp: qwp.port, sink: sink.port };
    const measured: Measured[] = all.map((c) => ({ c, rates: [], bytesPerRow: Number.NaN }));
    try {
      for (let r = 0; r < runs; r++) {
        for (const m of measured) {
          if (m.c.unavailable !== null) continue;
          // The first run of each case warms its code paths up first, on the same client.
          const warm = r === 0 ? warmRows : 0;
          const n = m.c.server === 'sink' ? ilpRows : rows;
          const { rate, bytesPerRow } = await once(m.c, servers, d, n, warm);
          m.rates.push(rate);
          m.bytesPerRow = bytesPerRow;
        }
      }
    } finally {
      await Promise.all([qwp.close(), sink.close()]);
    }

    const ilpRates = measured[0]!.rates;
    /** The same API's case with buffer `buffer` (the base of a ratio column). */
    const baseOf = (c: Case, buffer: string) =>
      measured.find((m) => m.c.api === c.api && m.c.buffer === buffer && m.rates.length > 0);
    const ratioTo = (m: Measured, base: Measured | undefined): Spread | null =>
      base === undefined ? null : pairedRatios(m.rates, base.rates);
    const serverOf = (c: Case) =>
      c.server === 'qwp' ? `qwp serve (${qwp.mode})` : '204 sink (node:http)';
    const results = measured.map((m) => {
      const vsIlp = pairedRatios(m.rates, ilpRates);
      const vsMemory = m.c.api === null ? null : ratioTo(m, baseOf(m.c, 'memory'));
      const vsSfMemory = m.c.buffer.startsWith('sf')
        ? ratioTo(m, baseOf(m.c, bufferLabel({ kind: 'sf', durability: 'memory' })))
        : null;
      return { m, rate: spread(m.rates), vsIlp, vsMemory, vsSfMemory };
    });
    const tableRows: (string | number)[][] = results.map(
      ({ m, rate, vsIlp, vsMemory, vsSfMemory }) => {
        if (m.c.unavailable !== null) {
          return [m.c.client, m.c.buffer, serverOf(m.c), 0, 'not run', '-', '-', '-', '-', '-'];
        }
        return [
          m.c.client,
          m.c.buffer,
          serverOf(m.c),
          m.rates.length,
          ...cell(rate),
          fmt(m.bytesPerRow, 1),
          ratioCell(vsIlp, 1),
          vsMemory === null ? '-' : ratioCell(vsMemory, 2),
          vsSfMemory === null ? '-' : ratioCell(vsSfMemory, 2),
        ];
      },
    );
    const refused = measured
      .filter((m) => m.c.unavailable !== null)
      .map(
        (m) => `${m.c.buffer}: not run, the connect-string parser refuses it (${m.c.unavailable}).`,
      );
    return {
      suite: 'sender',
      notes: [
        `${rows} trades rows per run (ILP client: ${ilpRows}; sym SYMBOL of 10 values, px DOUBLE, qty LONG, designated timestamp in µs), the same rows for every client; an explicit flush() every ${FLUSH_ROWS} rows (auto-flush off in both); timed from the first row to the last acknowledgement: @qwp/sender's drain(), the ILP client's last flush() (each of its flushes waits for its HTTP response, so ILP sends one request at a time; @qwp/sender's flush() returns once the frame is in its buffer and the worker pipelines the sends).`,
        `columns(): one sender.columns('trades', ...) call per ${FLUSH_ROWS}-row block, then flush(): sym dictionary-encoded ({ dictionary: 10 strings, indices: Uint8Array }), px Float64Array, qty BigInt64Array, timestamps BigInt64Array (µs), all views (subarray) of arrays built before the clock starts, as a caller whose data is already in columns holds them.`,
        `Median of ${runs} runs with min - max; the cases run interleaved (one run of every case per round), each run on a fresh client (connected before the clock starts) and, in SF mode, a fresh temporary sf_dir removed after it; the first run of each case sends ${warmRows} untimed warm-up rows through its client before its clock starts.`,
        'Ratios are per round (this case\'s run over the other case\'s run of the same round), median (min - max) over the rounds. "x memory mode" and "x sf_durability=memory" compare with the same API in that buffer.',
        `Servers, each in its own child process, started once: \`qwp serve --mode throughput\` (announced mode: ${qwp.mode}: header checks and a sampled full decode, no rows kept; it acknowledges every frame) and, for the ILP client, a node:http server that reads every request body and answers 204 (no parsing). Wire B/row: QWP frame payload bytes (stats().bytesSent) or ILP request-body bytes (counted by the sink), per row.`,
        `ILP client: protocol_version=2 (binary doubles), HTTP via its default transport (undici), at() not awaited (with auto_flush=off it never flushes, so this is its best case). sf_durability=periodic runs with sf_sync_interval_millis=${PERIODIC_SYNC_MS} so that several msyncs fall within a run (the default is 5000 ms); flush msyncs the slot before each flush() resolves, append after every frame.`,
        ...refused,
        'Targets: the row API >= 10x the ILP client (x ILP); columns() >= 20 M rows/s.',
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
        'x ILP (min - max)',
        'x memory mode',
        'x sf_durability=memory',
      ],
      rows: tableRows,
      data: {
        rowsPerRun: rows,
        ilpRowsPerRun: ilpRows,
        runs,
        flushRows: FLUSH_ROWS,
        warmRows,
        serverMode: qwp.mode,
        periodicSyncMs: PERIODIC_SYNC_MS,
        cases: results.map(({ m, rate, vsIlp, vsMemory, vsSfMemory }) => ({
          client: m.c.client,
          api: m.c.api,
          buffer: m.c.buffer,
          server: m.c.server,
          unavailable: m.c.unavailable,
          rowsPerSec: rate,
          wireBytesPerRow: m.bytesPerRow,
          ratioToIlp: vsIlp,
          ratioToMemoryMode: vsMemory,
          ratioToSfMemory: vsSfMemory,
        })),
      },
    };
  },
};
