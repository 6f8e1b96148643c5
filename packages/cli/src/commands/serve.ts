import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import {
  type DurableAckOptions,
  type DurableTier,
  type Row,
  rowJsonReplacer,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from '@qwp/test-server';
import type { Command, CommandIo } from '../io.js';
import { parseCommandLine, UsageError } from '../io.js';
import {
  ACTIONS_HELP,
  parseScript,
  parseStep,
  type ScriptStep,
  scriptRunner,
} from './serve-script.js';

const HELP = `usage: qwp serve [options]

Runs a local QWP ingest test server (no QuestDB needed) until SIGINT/SIGTERM.

  --port N              TCP port (default 9000; 0 picks a free one)
  --host ADDR           bind address (default 127.0.0.1, loopback only)
  --auth USER:PASS      require HTTP basic auth
  --token T             require 'Authorization: Bearer T'
  --role R              report role R (default STANDALONE); REPLICA and PRIMARY_CATCHUP
                        refuse ingest with 421
  --zone Z              report zone Z in X-QuestDB-Zone on a 421 (a 101 never names one)
  --max-batch-size N    advertised X-QWP-Max-Batch-Size (13 .. 16777216); a frame over it
                        (+ 14 bytes with its header) closes with 1009
  --dedup TABLE:C1,C2   DEDUP UPSERT KEYS (designated timestamp + columns); repeatable
  --durable-ack         honour X-QWP-Request-Durable-Ack (tiers local and replicated)
  --durable-tiers T     the tiers offered: local, replicated or local,replicated (implies
                        --durable-ack)
  --durable-lag MS[,J]  replicated tier: a commit is durable MS + 0..J ms after it (J
                        default 0; without the flag 50,50; implies --durable-ack)
  --seed N              seed of the durable-lag jitter (default 1; implies --durable-ack)
  --read-only           a node configured read-only: every data frame gets SECURITY_ERROR
  --demotion-grace MS   how long a demoted node holds a durable-ack connection's close
                        (default 10000)
  --other-writer T:MS[:STEPS]  another writer commits STEPS seqTxns to table T every MS;
                        repeatable
  --at WHEN:ACTION      a scripted fault, repeatable: WHEN is frame=N (before the server-wide
                        binary frame N, from 0), after=DUR or every=DUR (500ms, 2s)
  --script FILE         steps as --at takes them, one per line (# comments)
  --max-uncommitted-rows N  staged rows per table that force a commit, even mid-frame or
                        mid-group (default 1000000, as qwp.max.uncommitted.rows)
  --max-tables N        distinct tables one connection may write (default 10000)
  --no-auto-create      refuse a table that does not exist (INTERNAL_ERROR), as
                        line.auto.create.new.tables=false
  --close-drain MS      after the server's own CLOSE, how long input is discarded before
                        the connection is cut (default 5000)
  --dump FILE.jsonl     write every committed row as one JSON line
  --drop-every N        drop each connection at its Nth frame (after commit, before the ACK)
  --ack-delay MS        delay every response by MS milliseconds
  --ack-mode M          cumulative (default, as QuestDB: one OK covers every frame up to its
                        sequence) or per-frame (one OK per committed frame)
  --long-arrays M       reject (default, as QuestDB: a LONG_ARRAY column is WRITE_ERROR) or accept
  --mode M              strict (default) or throughput (header check + sampled decode, no rows kept)
  --sample-rate F       throughput mode: fraction of frames fully decoded (default 1/64)
  --report-interval MS  how often the row counts are printed when they change (default 1000)

${ACTIONS_HELP}
examples:
  qwp serve --at frame=100:demote                      demoted at frame 100
  qwp serve --durable-ack --at frame=10:stall-uploads --at after=5s:resume-uploads
  qwp serve --read-only
  qwp serve --at every=200ms:other-writer=trades,2 --at after=3s:restart=500
`;

/** What `qwp serve` needs besides argv: where to print, and what stops it. */
export interface ServeIo extends CommandIo {
  /** Stops the server when aborted (tests); SIGINT/SIGTERM always stop it too. */
  signal?: AbortSignal;
}

function intOption(
  name: string,
  value: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
  }
  if (n > max) throw new UsageError(`--${name} must be at most ${max}, got ${n}`);
  return n;
}

/** `value` when it is one of `allowed`; undefined when the flag is absent. */
function choiceOption<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly [T, T],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be ${allowed[0]} or ${allowed[1]}, got '${value}'`);
  }
  return value as T;
}

function splitPair(name: string, value: string, sep: string): [string, string] {
  const i = value.indexOf(sep);
  if (i <= 0 || i === value.length - 1) {
    throw new UsageError(`--${name} must look like A${sep}B, got '${value}'`);
  }
  return [value.slice(0, i), value.slice(i + 1)];
}

/** Turns `qwp serve` arguments into server options (throws UsageError on a bad one). */
export function serveOptions(argv: string[]): {
  options: TestServerOptions;
  dump: string | null;
  reportMs: number;
  help: boolean;
  script: ScriptStep[];
} {
  const parsed = parse(argv);
  const v = parsed.values;
  const options: TestServerOptions = {
    port: intOption('port', v.port, 0, 65535) ?? 9000,
    host: v.host ?? '127.0.0.1',
  };
  if (v.auth !== undefined || v.token !== undefined) {
    options.auth = {};
    if (v.auth !== undefined) {
      const [user, pass] = splitPair('auth', v.auth, ':');
      options.auth.basic = { user, pass };
    }
    if (v.token !== undefined) options.auth.token = v.token;
  }
  if (v.role !== undefined) options.role = v.role;
  if (v.zone !== undefined) options.zone = v.zone;
  // The server's own bounds (QuestDB never advertises past the 16 MiB QWP ceiling), as a usage error.
  const maxBatch = intOption('max-batch-size', v['max-batch-size'], 13, 16 * 1024 * 1024);
  if (maxBatch !== undefined) options.maxBatchSize = maxBatch;
  if (v.dedup !== undefined) {
    options.dedup = {};
    for (const spec of v.dedup) {
      const [table, cols] = splitPair('dedup', spec, ':');
      options.dedup[table] = cols.split(',').filter((c) => c !== '');
    }
  }
  const durable = durableOptions(v['durable-tiers'], v['durable-lag'], v.seed);
  if (durable !== null) options.durableAck = durable;
  else if (v['durable-ack'] === true) options.durableAck = true;
  if (v['read-only'] === true) options.readOnly = true;
  const uncommitted = intOption('max-uncommitted-rows', v['max-uncommitted-rows'], 1);
  if (uncommitted !== undefined) options.maxUncommittedRows = uncommitted;
  const maxTables = intOption('max-tables', v['max-tables'], 1);
  if (maxTables !== undefined) options.maxTablesPerConnection = maxTables;
  if (v['no-auto-create'] === true) options.autoCreateTables = false;
  const closeDrain = intOption('close-drain', v['close-drain'], 0, 2 ** 31 - 1);
  if (closeDrain !== undefined) options.closeDrainMs = closeDrain;
  const grace = intOption('demotion-grace', v['demotion-grace'], 0);
  if (grace !== undefined) options.demotionGraceMs = grace;
  if (v['other-writer'] !== undefined) {
    options.otherWriters = v['other-writer'].map((spec) => {
      const [table = '', every, steps, ...rest] = spec.split(':');
      if (table === '' || every === undefined || rest.length > 0) {
        throw new UsageError(`--other-writer must look like TABLE:MS[:STEPS], got '${spec}'`);
      }
      const everyMs = intOption('other-writer MS', every, 1, 2 ** 31 - 1) as number;
      return steps === undefined
        ? { table, everyMs }
        : { table, everyMs, steps: intOption('other-writer STEPS', steps, 1) as number };
    });
  }
  const script = (v.at ?? []).map((step) => {
    try {
      return parseStep(step);
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`--at ${err.message}`, { cause: err });
      throw err;
    }
  });
  if (v.script !== undefined) {
    let text: string;
    try {
      text = readFileSync(v.script, 'utf8');
    } catch (err) {
      throw new UsageError(
        `--script ${v.script} cannot be read: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    script.push(...parseScript(v.script, text));
  }
  const dropEvery = intOption('drop-every', v['drop-every'], 1);
  const ackDelay = intOption('ack-delay', v['ack-delay'], 0);
  if (dropEvery !== undefined || ackDelay !== undefined) {
    options.faults = {};
    if (dropEvery !== undefined) options.faults.dropAfterFrames = dropEvery;
    if (ackDelay !== undefined) options.faults.ackDelayMs = ackDelay;
  }
  const ackMode = choiceOption('ack-mode', v['ack-mode'], ['cumulative', 'per-frame']);
  if (ackMode !== undefined) options.ackMode = ackMode;
  const longArrays = choiceOption('long-arrays', v['long-arrays'], ['reject', 'accept']);
  if (longArrays !== undefined) options.longArrays = longArrays;
  const mode = choiceOption('mode', v.mode, ['strict', 'throughput']);
  if (mode !== undefined) options.mode = mode;
  if (v['sample-rate'] !== undefined) {
    const f = Number(v['sample-rate']);
    if (!(f >= 0 && f <= 1))
      throw new UsageError(`--sample-rate must be in [0, 1], got '${v['sample-rate']}'`);
    options.sampleRate = f;
  }
  return {
    options,
    dump: v.dump ?? null,
    reportMs: intOption('report-interval', v['report-interval'], 10) ?? 1000,
    help: v.help === true,
    script,
  };
}

/** `--durable-tiers`, `--durable-lag` and `--seed` as a durableAck object, or null when none is given. */
function durableOptions(
  tiers: string | undefined,
  lag: string | undefined,
  seed: string | undefined,
): DurableAckOptions | null {
  if (tiers === undefined && lag === undefined && seed === undefined) return null;
  const out: DurableAckOptions = {};
  if (tiers !== undefined) {
    const list = tiers.split(',');
    if (
      list.some((t) => t !== 'local' && t !== 'replicated') ||
      new Set(list).size !== list.length
    ) {
      throw new UsageError(
        `--durable-tiers must be local, replicated or local,replicated, got '${tiers}'`,
      );
    }
    out.tiers = list as DurableTier[];
  }
  if (lag !== undefined) {
    const [ms, jitter, ...rest] = lag.split(',');
    if (rest.length > 0)
      throw new UsageError(`--durable-lag must look like MS[,JITTER], got '${lag}'`);
    out.lagMs = intOption('durable-lag', ms, 0) as number;
    out.jitterMs =
      jitter === undefined ? 0 : (intOption('durable-lag JITTER', jitter, 0) as number);
  }
  if (seed !== undefined) out.seed = intOption('seed', seed, 0) as number;
  return out;
}

function parse(argv: string[]) {
  return parseCommandLine({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      auth: { type: 'string' },
      token: { type: 'string' },
      role: { type: 'string' },
      zone: { type: 'string' },
      'max-batch-size': { type: 'string' },
      dedup: { type: 'string', multiple: true },
      'durable-ack': { type: 'boolean' },
      'durable-tiers': { type: 'string' },
      'durable-lag': { type: 'string' },
      seed: { type: 'string' },
      'read-only': { type: 'boolean' },
      'demotion-grace': { type: 'string' },
      'other-writer': { type: 'string', multiple: true },
      'max-uncommitted-rows': { type: 'string' },
      'max-tables': { type: 'string' },
      'no-auto-create': { type: 'boolean' },
      'close-drain': { type: 'string' },
      at: { type: 'string', multiple: true },
      script: { type: 'string' },
      dump: { type: 'string' },
      'drop-every': { type: 'string' },
      'ack-delay': { type: 'string' },
      'ack-mode': { type: 'string' },
      'long-arrays': { type: 'string' },
      mode: { type: 'string' },
      'sample-rate': { type: 'string' },
      'report-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Resolves with what stopped the server (a signal name, or 'abort'); dispose() removes the listeners. */
function waitForStop(signal: AbortSignal | undefined): {
  promise: Promise<string>;
  dispose: () => void;
} {
  let stop: (reason: string) => void = () => {};
  const promise = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  const onAbort = () => stop('abort');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  if (signal?.aborted === true) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const dispose = () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    signal?.removeEventListener('abort', onAbort);
  };
  return { promise, dispose };
}

function endStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

/**
 * `qwp serve`: runs the test server, prints one line per connection event
 * and the row count per table whenever it changes, optionally dumps every
 * committed row as JSON lines, and stops cleanly on SIGINT/SIGTERM (or
 * when `io.signal` aborts).
 */
export const serve: Command = async (argv, io: ServeIo) => {
  const { options, dump, reportMs, help, script } = serveOptions(argv);
  if (help) {
    io.stdout.write(HELP);
    return 0;
  }
  const out = (line: string) => io.stdout.write(`${line}\n`);
  let dumpStream: WriteStream | null = null;
  let dumpError: Error | null = null;
  if (dump !== null) {
    dumpStream = createWriteStream(dump, { flags: 'w' });
    const opened = await new Promise<Error | null>((resolve) => {
      dumpStream?.once('open', () => resolve(null));
      dumpStream?.once('error', resolve);
    });
    if (opened !== null) {
      io.stderr.write(`qwp serve: cannot open --dump file ${dump}: ${opened.message}\n`);
      return 1;
    }
    dumpStream.on('error', (err) => {
      dumpError = err;
    });
  }
  const counts = new Map<string, number>();
  let changed = false;
  options.log = out;
  options.onCommit = (table: string, rows: readonly Row[], seqTxn: bigint) => {
    counts.set(table, (counts.get(table) ?? 0) + rows.length);
    changed = true;
    if (dumpStream !== null && dumpError === null) {
      let chunk = '';
      for (const row of rows) {
        // One stringify per row: the replacer makes bigint and bytes JSON-safe in the same pass.
        chunk += `${JSON.stringify({ table, seqTxn, row }, rowJsonReplacer)}\n`;
      }
      dumpStream.write(chunk);
    }
  };
  const runner = scriptRunner(script, out);
  if (script.length > 0) options.onFrame = runner.onFrame;
  const stop = waitForStop(io.signal);
  let server: TestServer;
  try {
    server = await startTestServer(options);
  } catch (err) {
    stop.dispose();
    // The start failure is what the user must see; a failure to close the
    // dump file is reported beside it, not instead of it.
    if (dumpStream !== null) {
      await endStream(dumpStream).catch((closeErr: Error) =>
        io.stderr.write(`qwp serve: closing ${dump}: ${closeErr.message}\n`),
      );
    }
    throw err;
  }
  const report = () => {
    if (!changed) return;
    changed = false;
    const parts = [...counts].map(([t, n]) => `${t}=${n}`);
    out(`rows: ${parts.join(' ')}`);
  };
  const timer = setInterval(report, reportMs);
  runner.start(server);
  const reason = await stop.promise;
  stop.dispose();
  runner.stop();
  clearInterval(timer);
  out(`stopping (${reason})`);
  await server.close();
  report();
  if (dumpStream !== null) {
    await endStream(dumpStream);
    if (dumpError !== null) {
      io.stderr.write(`qwp serve: writing ${dump}: ${(dumpError as Error).message}\n`);
      return 1;
    }
  }
  return 0;
};
