import { statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { QwpInvalidValueError, tableNameProblem } from '@qwp/qwp-wire/codec';
import {
  ConnectStringError,
  parseConnectString,
  tokenizeConnectString,
} from '@qwp/qwp-wire/config';
import {
  BackpressureError,
  Sender,
  SenderTimeoutError,
  ServerRejectedError,
  SlotQuarantinedError,
  type TimestampUnit,
} from '@qwp/sender';
import { bytes, count, duration } from '../format.js';
import type { Command, CommandIo } from '../io.js';
import { parseCommandLine, UsageError } from '../io.js';
import { Progress, type ProgressState } from '../progress.js';
import {
  type Checkpoint,
  readCheckpoint,
  removeCheckpoint,
  writeCheckpoint,
} from '../send/checkpoint.js';
import { BadRowError, InputError, SendError } from '../send/errors.js';
import { Plan, type PlanShape } from '../send/plan.js';
import { type Format, type InputRow, openSource, type Source } from '../send/sources.js';
import { DEFAULT_INFER_ROWS, isNull, type SendType, sendType, ValueError } from '../send/types.js';

const HELP = `usage: qwp send FILE|- --table T [options]

Streams a CSV, NDJSON or Parquet file (or CSV / NDJSON on stdin) into a QWP
server, one row per record. Column types are inferred from the first rows
(integers LONG, decimals DOUBLE, true/false BOOLEAN, ISO-8601 TIMESTAMP, the
rest VARCHAR); Parquet brings its own. A row that cannot be sent stops the
import: the rows before it are flushed and acknowledged, and the exit code is
1 with the line and the reason.

  --table T             table to write (required)
  --conf 'ws::...'      connect string (default ws::addr=127.0.0.1:9000;, a local qwp serve)
  --format F            csv, ndjson or parquet (default: from the extension; required for -)
  --timestamp COLUMN    designated timestamp column: ISO-8601 text, or numbers with --unit;
                        without it the server stamps each row with its clock
  --unit U              what numeric timestamps count: ns, us, ms or s
  --symbols a,b         send these columns as SYMBOL (repeatable)
  --types col:TYPE,...  explicit types (repeatable): SYMBOL VARCHAR BOOLEAN BYTE SHORT INT LONG
                        FLOAT DOUBLE CHAR DATE TIMESTAMP TIMESTAMP_NANOS UUID LONG256 IPv4
                        DECIMAL BINARY
  --infer-rows N        rows type inference reads (default ${DEFAULT_INFER_ROWS})
  --delimiter C         CSV field delimiter (default ',', or a tab for .tsv)
  --sf-dir DIR          store-and-forward directory: the import survives a crash; run the
                        same command again to finish it
  --sender-id ID        slot name under --sf-dir (default qwp-send-<table>)
  --ack-timeout S       seconds to wait at the end for the server's acknowledgements (default 60)
`;

const DEFAULT_CONF = 'ws::addr=127.0.0.1:9000;';
/** Rows are flushed (and the checkpoint written) this often, and at least every FLUSH_ROWS rows. */
const FLUSH_MS = 250;
const FLUSH_ROWS = 200_000;

interface SendArgs {
  path: string;
  format: Format;
  table: string;
  conf: string;
  confGiven: boolean;
  slotDir: string | undefined;
  delimiter: string;
  inferRows: number;
  ackTimeoutMs: number;
  timestamp: string | undefined;
  unit: TimestampUnit | undefined;
  symbols: string[];
  types: Map<string, SendType>;
}

function formatFromPath(path: string): { format: Format; delimiter?: string } | undefined {
  switch (extname(path).toLowerCase()) {
    case '.csv':
      return { format: 'csv' };
    case '.tsv':
      return { format: 'csv', delimiter: '\t' };
    case '.ndjson':
    case '.jsonl':
      return { format: 'ndjson' };
    case '.parquet':
    case '.parq':
    case '.pq':
      return { format: 'parquet' };
    default:
      return undefined;
  }
}

function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
}

/** Escapes a connect-string value (`;` is written `;;`). */
function confValue(v: string): string {
  return v.replaceAll(';', ';;');
}

/** Turns `qwp send` arguments into settings (throws UsageError on a bad one). */
export function sendArgs(argv: string[]): SendArgs | 'help' {
  const parsed = parse(argv);
  const v = parsed.values;
  if (v.help === true) return 'help';
  if (parsed.positionals.length !== 1) {
    throw new UsageError(
      parsed.positionals.length === 0
        ? 'name the input: a file, or - for stdin'
        : `one input at a time, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`,
    );
  }
  const path = parsed.positionals[0]!;
  if (v.table === undefined || v.table === '') throw new UsageError('--table is required');
  const tableProblem = tableNameProblem(v.table);
  if (tableProblem !== null) throw new UsageError(`--table '${v.table}': ${tableProblem}`);

  const byExt = path === '-' ? undefined : formatFromPath(path);
  let format: Format;
  if (v.format !== undefined) {
    if (v.format !== 'csv' && v.format !== 'ndjson' && v.format !== 'parquet') {
      throw new UsageError(`--format must be csv, ndjson or parquet, got '${v.format}'`);
    }
    format = v.format;
  } else if (byExt !== undefined) {
    format = byExt.format;
  } else {
    throw new UsageError(
      path === '-'
        ? 'reading stdin: say --format csv or --format ndjson'
        : `cannot tell the format of ${path} from its extension: give --format csv, ndjson or parquet`,
    );
  }
  if (path === '-' && format === 'parquet') {
    throw new UsageError(
      'Parquet cannot be read from stdin (it is read from its footer): pass a file',
    );
  }
  const delimiter = v.delimiter ?? byExt?.delimiter ?? ',';
  if (format === 'csv' && [...delimiter].length !== 1) {
    throw new UsageError(`--delimiter must be one character, got '${delimiter}'`);
  }
  if (v.delimiter !== undefined && format !== 'csv') {
    throw new UsageError('--delimiter applies to CSV only');
  }

  let unit: TimestampUnit | undefined;
  if (v.unit !== undefined) {
    if (v.unit !== 'ns' && v.unit !== 'us' && v.unit !== 'ms' && v.unit !== 's') {
      throw new UsageError(`--unit must be ns, us, ms or s, got '${v.unit}'`);
    }
    unit = v.unit;
  }
  const types = new Map<string, SendType>();
  for (const spec of list(v.types)) {
    const i = spec.lastIndexOf(':');
    const name = spec.slice(0, i);
    const type = i > 0 ? sendType(spec.slice(i + 1)) : undefined;
    if (i <= 0 || type === undefined) {
      throw new UsageError(
        `--types takes column:TYPE pairs with a type the sender writes (e.g. px:DOUBLE), got '${spec}'`,
      );
    }
    if (types.has(name)) throw new UsageError(`--types names column '${name}' twice`);
    types.set(name, type);
  }
  const symbols = list(v.symbols).filter((s) => s !== '');
  const inferRows = intOption('infer-rows', v['infer-rows'], 1, 10_000_000) ?? DEFAULT_INFER_ROWS;
  const ackTimeout = intOption('ack-timeout', v['ack-timeout'], 0, 86_400) ?? 60;

  // The connect string: the user's (or a local qwp serve), plus the slot of --sf-dir.
  const confGiven = v.conf !== undefined;
  let conf = v.conf ?? DEFAULT_CONF;
  let keys: Set<string>;
  try {
    keys = new Set(tokenizeConnectString(conf).pairs.map((p) => p.key));
  } catch (err) {
    throw new UsageError(`--conf: ${(err as Error).message}`, { cause: err });
  }
  const add = (pair: string) => {
    conf = `${conf}${conf.endsWith(';') ? '' : ';'}${pair}`;
  };
  if (v['sf-dir'] !== undefined) {
    if (keys.has('sf_dir')) throw new UsageError('--sf-dir and sf_dir in --conf: give one of them');
    add(`sf_dir=${confValue(resolve(v['sf-dir']))};`);
  }
  if (v['sender-id'] !== undefined) {
    if (keys.has('sender_id')) {
      throw new UsageError('--sender-id and sender_id in --conf: give one of them');
    }
    add(`sender_id=${confValue(v['sender-id'])};`);
  } else if (v['sf-dir'] !== undefined && !keys.has('sender_id')) {
    add(`sender_id=qwp-send-${v.table.replace(/[^A-Za-z0-9_-]/g, '_')};`);
  }
  // The import drains with --ack-timeout itself; close() then has nothing left to wait for.
  if (!keys.has('close_flush_timeout_millis')) add('close_flush_timeout_millis=0;');
  let slotDir: string | undefined;
  try {
    const parsedConf = parseConnectString(conf);
    if (parsedConf.sfDir !== undefined) {
      slotDir = join(parsedConf.sfDir, parsedConf.senderId);
      // A checkpoint must never be ahead of the frames on disk, even after a power loss.
      if (!keys.has('sf_durability')) add('sf_durability=flush;');
    }
  } catch (err) {
    if (err instanceof ConnectStringError) {
      throw new UsageError(`--conf: ${err.message}`, { cause: err });
    }
    throw err;
  }
  return {
    path,
    format,
    table: v.table,
    conf,
    confGiven,
    slotDir,
    delimiter,
    inferRows,
    ackTimeoutMs: ackTimeout * 1000,
    timestamp: v.timestamp,
    unit,
    symbols,
    types,
  };
}

function intOption(name: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got '${value}'`);
  }
  return n;
}

function parse(argv: string[]) {
  return parseCommandLine({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      table: { type: 'string', short: 't' },
      conf: { type: 'string' },
      format: { type: 'string' },
      timestamp: { type: 'string' },
      unit: { type: 'string' },
      symbols: { type: 'string', multiple: true },
      types: { type: 'string', multiple: true },
      'infer-rows': { type: 'string' },
      delimiter: { type: 'string' },
      'sf-dir': { type: 'string' },
      'sender-id': { type: 'string' },
      'ack-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** `qwp send`: streams a file into a table through the sender. */
export const send: Command = async (argv, io) => {
  const args = sendArgs(argv);
  if (args === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const err = (line: string) => io.stderr.write(`qwp send: ${line}\n`);
  let source: Source;
  try {
    source = await openSource({
      format: args.format,
      path: args.path,
      stdin: io.stdin,
      delimiter: args.delimiter,
    });
  } catch (e) {
    if (e instanceof SendError) {
      err(e.message);
      return 1;
    }
    throw e;
  }
  try {
    return await new Import(args, source, io).run();
  } catch (e) {
    if (e instanceof SendError) {
      err(e.message);
      return 1;
    }
    throw e;
  } finally {
    source.close();
  }
};

/** A flush: the rows [0, rows) of the input are in frames up to fsn. */
interface Flushed {
  fsn: number;
  rows: number;
}

/** One run of `qwp send`, from the first row to the summary. */
class Import {
  private readonly err: (line: string) => void;
  private readonly info: (line: string) => void;
  private sender: Sender | null = null;
  private plan!: Plan;
  /** Rows [0, position) of the input are written to the sender. */
  private position = 0;
  /** Rows the checkpoint of an interrupted run says are stored already. */
  private skip = 0;
  private sentThisRun = 0;
  private lastWhere: string | null = null;
  private readonly flushes: Flushed[] = [];
  private ackedRows = 0;
  private checkpoint: Omit<Checkpoint, 'rows' | 'fsn' | 'last'> | null = null;
  private progress: Progress | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private readonly started = performance.now();
  private readonly incidents: Error[] = [];

  constructor(
    private readonly args: SendArgs,
    private readonly source: Source,
    private readonly io: CommandIo,
  ) {
    this.err = (line) => io.stderr.write(`qwp send: ${line}\n`);
    this.info = (line) => {
      if (this.progress !== null) this.progress.log(line);
      else io.stderr.write(`${line}\n`);
    };
  }

  async run(): Promise<number> {
    const { args, source } = this;
    // Inference reads the first rows; they are sent first when the import starts.
    const rows = source.rows(source.format === 'parquet' ? this.resumePoint() : 0);
    const samples: InputRow[] = [];
    let sampleError: BadRowError | null = null;
    if (source.format !== 'parquet') {
      try {
        while (samples.length < args.inferRows) {
          const next = await rows.next();
          if (next.done === true) break;
          samples.push(next.value);
        }
      } catch (e) {
        if (!(e instanceof BadRowError)) throw e;
        sampleError = e; // the rows before it are still sent
      }
    }
    this.plan = new Plan(source, samples, {
      timestamp: args.timestamp,
      unit: args.unit,
      symbols: args.symbols,
      types: args.types,
    });
    if (this.plan.columns.length === 0 && this.plan.timestamp === undefined) {
      throw new InputError(`${source.name} is empty: it has no columns`);
    }
    this.prepareCheckpoint();
    const target = this.args.confGiven
      ? parseConnectString(args.conf)
          .addresses.map((a) => `${a.host}:${a.port}`)
          .join(',')
      : '127.0.0.1:9000 (a local qwp serve; --conf to send elsewhere)';
    this.info(
      `qwp send: ${source.name} (${source.format}${source.totalBytes === undefined ? '' : `, ${bytes(source.totalBytes)}`}) -> table '${args.table}' at ${target}`,
    );
    this.info(this.plan.describe());

    // Before the sender opens the slot: opening it replays what it holds.
    if (!this.sameImport()) return 1;
    try {
      this.sender = await Sender.fromConfig(args.conf, {
        on: { error: (e) => this.incidents.push(e) },
      });
    } catch (e) {
      this.err(
        `cannot start the sender: ${(e as Error).message}${this.args.confGiven ? '' : ' (is `qwp serve` running? --conf sends elsewhere)'}`,
      );
      return 1;
    }
    try {
      if (!this.resume()) return 1;
      return await this.stream(rows, samples, sampleError);
    } finally {
      this.stopProgress();
      await this.closeSender();
    }
  }

  // ---- resuming ----

  private stored: Checkpoint | null | undefined;

  /** Rows an earlier, interrupted run stored (0 when there is none); reads the checkpoint once. */
  private resumePoint(): number {
    if (this.stored === undefined) {
      this.stored = this.args.slotDir === undefined ? null : readCheckpoint(this.args.slotDir);
    }
    return this.stored?.rows ?? 0;
  }

  /** The identity of this import, written into each checkpoint. */
  private prepareCheckpoint(): void {
    if (this.args.slotDir === undefined) return;
    const fromStdin = this.args.path === '-';
    const st = fromStdin ? null : statSync(this.args.path);
    this.checkpoint = {
      version: 1,
      input: fromStdin ? '-' : resolve(this.args.path),
      size: st === null ? null : st.size,
      mtimeMs: st === null ? null : st.mtimeMs,
      format: this.source.format,
      table: this.args.table,
      plan: this.plan.shape(),
    };
    this.resumePoint();
  }

  /** Checks an interrupted run's checkpoint describes this import; false (after saying why) if not. */
  private sameImport(): boolean {
    const c = this.stored;
    const mine = this.checkpoint;
    if (c === null || c === undefined || mine === null) return true;
    const differs: string[] = [];
    if (c.input !== mine.input) differs.push(`input ${c.input}`);
    if (c.format !== mine.format) differs.push(`format ${c.format}`);
    if (c.table !== mine.table) differs.push(`table '${c.table}'`);
    if (c.size !== mine.size || c.mtimeMs !== mine.mtimeMs)
      differs.push('the input file changed since');
    if (!samePlan(c.plan, mine.plan)) differs.push(`columns ${describeShape(c.plan)}`);
    if (differs.length === 0) return true;
    this.err(
      `${this.args.slotDir} holds an unfinished import of ${c.input} (${count(c.rows)} rows stored) that differs from this one: ${differs.join('; ')}. Run that import again to finish it, or remove ${this.checkpointFile()} to start over (its rows already sent stay sent)`,
    );
    return false;
  }

  private checkpointFile(): string {
    return join(this.args.slotDir!, 'qwp-send.checkpoint.json');
  }

  /** Checks the slot still holds what the checkpoint says; false (after saying why) if not. */
  private resume(): boolean {
    const c = this.stored;
    if (c === null || c === undefined || this.checkpoint === null) return true;
    const file = this.checkpointFile();
    const published = this.sender!.stats().publishedFsn;
    let fsn = c.fsn;
    if (published < c.fsn) {
      const moved = this.incidents.find((e) => e instanceof SlotQuarantinedError);
      if (published >= 0 || moved !== undefined) {
        this.err(
          moved !== undefined
            ? `the slot could not be replayed and was moved aside (${moved.message}); the checkpoint's rows up to ${count(c.rows)} may not all have reached the server. Finish from there by hand, or remove ${file} to start over`
            : `the slot ${this.args.slotDir} holds frames up to FSN ${published}, but the checkpoint says rows up to ${count(c.rows)} are in frames up to FSN ${c.fsn}: frames were lost, so the import cannot tell where to resume. Remove ${file} to start over`,
        );
        return false;
      }
      // An empty slot: a fully drained close cleaned it, so every stored row was
      // acknowledged (the run was stopped before it removed the checkpoint).
      fsn = -1;
    }
    this.skip = c.rows;
    this.position = c.rows;
    this.lastWhere = c.last;
    this.flushes.push({ fsn, rows: c.rows });
    this.info(
      fsn < 0
        ? `resuming: rows before ${count(c.rows)}${c.last === null ? '' : ` (through ${c.last})`} were all acknowledged; the import continues after them`
        : `resuming: rows before ${count(c.rows)}${c.last === null ? '' : ` (through ${c.last})`} are stored in the slot (FSN ${c.fsn}); the sender re-sends what the server has not acknowledged, and the import continues after them`,
    );
    return true;
  }

  // ---- the stream ----

  private async stream(
    rows: AsyncIterator<InputRow>,
    samples: InputRow[],
    sampleError: BadRowError | null,
  ): Promise<number> {
    const sender = this.sender!;
    const { plan } = this;
    const table = this.args.table;
    this.startProgress();
    let bad: BadRowError | null = null;
    let failure: Error | null = null;
    const values: unknown[] = [];
    let lastFlush = performance.now();
    let sinceFlush = 0;
    let pending: InputRow[] | null = samples;
    try {
      for (;;) {
        let row: InputRow;
        if (pending !== null && pending.length > 0) {
          row = pending.shift()!;
        } else {
          if (pending !== null) {
            pending = null;
            if (sampleError !== null) {
              bad = sampleError;
              break;
            }
          }
          let next: IteratorResult<InputRow>;
          try {
            next = await rows.next();
          } catch (e) {
            if (e instanceof BadRowError) {
              bad = e;
              break;
            }
            throw e;
          }
          if (next.done === true) break;
          row = next.value;
        }
        if (row.index < this.skip) continue;
        if (plan.stale) plan.extend([row]);

        // Read every value first: a value that cannot be read never leaves a half-written row.
        const cols = plan.columns;
        let ts: bigint | undefined;
        let at = '';
        try {
          for (let i = 0; i < cols.length; i++) {
            const c = cols[i]!;
            at = c.name;
            const raw = row.values[c.index];
            values[i] = isNull(raw) ? null : c.read(raw);
          }
          if (plan.timestamp !== undefined) {
            at = plan.timestamp.name;
            ts = plan.timestamp.read(row.values[plan.timestamp.index]);
          }
        } catch (e) {
          if (!(e instanceof ValueError)) throw e;
          bad = new BadRowError(row.where, row.index, at, e.message, { cause: e });
          break;
        }
        try {
          this.writeRow(sender, table, values, ts);
        } catch (e) {
          if (e instanceof BackpressureError) {
            // The buffer is full: wait for room, then the row goes in.
            await sender.flush();
            this.writeRow(sender, table, values, ts);
          } else if (e instanceof QwpInvalidValueError) {
            bad = new BadRowError(row.where, row.index, e.column, e.message, { cause: e });
            break;
          } else {
            throw e;
          }
        }
        this.position = row.index + 1;
        this.lastWhere = row.where;
        this.sentThisRun++;
        if (
          ++sinceFlush >= FLUSH_ROWS ||
          ((sinceFlush & 1023) === 0 && performance.now() - lastFlush >= FLUSH_MS)
        ) {
          await this.flush();
          // Let timers (progress, the sender's upkeep) run even when the input never waits.
          await new Promise((r) => setImmediate(r));
          lastFlush = performance.now();
          sinceFlush = 0;
        }
      }
      await this.flush();
    } catch (e) {
      failure = e as Error;
    }
    return this.finish(bad, failure);
  }

  private writeRow(sender: Sender, table: string, values: unknown[], ts: bigint | undefined): void {
    const cols = this.plan.columns;
    sender.table(table);
    for (let i = 0; i < cols.length; i++) {
      const v = values[i];
      if (v !== null) cols[i]!.write(sender, cols[i]!.name, v);
    }
    if (ts === undefined) sender.atNow();
    else sender.at(ts, this.plan.timestamp!.unit);
  }

  /** Publishes the rows written so far, then records them in the checkpoint. */
  private async flush(): Promise<void> {
    const fsn = await this.sender!.flush();
    const last = this.flushes[this.flushes.length - 1];
    if (last !== undefined && last.rows === this.position) return;
    this.flushes.push({ fsn, rows: this.position });
    if (this.checkpoint !== null) {
      writeCheckpoint(this.args.slotDir!, {
        ...this.checkpoint,
        rows: this.position,
        fsn,
        last: this.lastWhere,
      });
    }
  }

  /** Input rows the server has acknowledged: those of the last flush whose FSN is acknowledged. */
  private updateAcked(): number {
    const acked = this.sender?.stats().ackedFsn ?? -1;
    let i = 0;
    while (i < this.flushes.length && this.flushes[i]!.fsn <= acked) {
      this.ackedRows = Math.max(this.ackedRows, this.flushes[i]!.rows);
      i++;
    }
    // Keep the last acknowledged entry for the next look, drop those before it.
    if (i > 1) this.flushes.splice(0, i - 1);
    return this.ackedRows;
  }

  // ---- the end ----

  private async finish(bad: BadRowError | null, failure: Error | null): Promise<number> {
    const sender = this.sender!;
    let drained = false;
    if (failure === null) {
      try {
        await sender.drain(this.args.ackTimeoutMs);
        drained = true;
      } catch (e) {
        failure = e as Error;
      }
    }
    this.stopProgress();
    for (const e of this.incidents) {
      if (e !== failure) this.err(`warning: ${e.message}`);
    }
    if (drained && this.checkpoint !== null) removeCheckpoint(this.args.slotDir!);
    if (failure !== null) {
      this.err(this.describeFailure(failure));
      this.summary(false);
      return 1;
    }
    if (bad !== null) {
      this.err(`${this.source.name} ${bad.message}`);
      this.err(
        `stopped there: the ${count(this.position - this.skip)} rows before it${this.skip > 0 ? ' in this run' : ''} are committed, nothing after it was sent`,
      );
      this.summary(false);
      return 1;
    }
    this.summary(true);
    return 0;
  }

  private describeFailure(e: Error): string {
    const resumable =
      this.checkpoint !== null
        ? ` Rows up to ${count(this.position)} are in the slot: run the same command again to finish the import.`
        : '';
    if (e instanceof SenderTimeoutError) {
      return `the server did not acknowledge everything within --ack-timeout (${this.args.ackTimeoutMs / 1000} s): rows acknowledged ${count(this.ackedRows)} of ${count(this.position)}.${resumable}`;
    }
    if (e instanceof ServerRejectedError) {
      const rows = this.rowsOfFsn(e.fsn);
      return `${e.message}${rows === '' ? '' : ` (${rows})`}.${resumable}`;
    }
    return `${e.message}.${resumable}`;
  }

  /** The input rows a frame holds, as far as the flushes tell. */
  private rowsOfFsn(fsn: number): string {
    if (fsn < 0) return '';
    let from = 0;
    for (const f of this.flushes) {
      if (f.fsn >= fsn)
        return `a frame with rows from ${count(from)} to ${count(f.rows - 1)} of the input`;
      from = f.rows;
    }
    return '';
  }

  private summary(complete: boolean): void {
    const secs = (performance.now() - this.started) / 1000;
    const sent = this.sentThisRun;
    const stats = this.sender?.stats();
    const lines = [
      `rows sent          ${count(sent)}${this.skip > 0 ? ` (resumed after ${count(this.skip)} rows already stored)` : ''}`,
      `rows acknowledged  ${count(this.ackedRows)}${this.ackedRows === this.position ? '' : ` of ${count(this.position)}`}`,
      `bytes read         ${bytes(this.source.bytesRead())}`,
      `bytes on the wire  ${bytes(stats?.bytesSent ?? 0)}`,
      `time               ${secs.toFixed(1)} s, ${count(sent / Math.max(secs, 0.001))} rows/s`,
    ];
    const head = complete
      ? `qwp send: ${count(this.position)} rows of ${this.source.name} are in '${this.args.table}'`
      : `qwp send: stopped; ${count(this.ackedRows)} rows of ${this.source.name} are in '${this.args.table}'`;
    this.io.stdout.write(`${head}\n${lines.join('\n')}\n`);
  }

  private async closeSender(): Promise<void> {
    const sender = this.sender;
    if (sender === null) return;
    this.sender = null;
    try {
      await sender.close();
    } catch (e) {
      this.err(`closing the sender: ${(e as Error).message}`);
    }
  }

  // ---- progress ----

  private startProgress(): void {
    const { source } = this;
    const out = this.io.stderr as CommandIo['stderr'] & { isTTY?: boolean };
    // The bar follows rows when the row count is known (Parquet), else bytes when the size is.
    const byRows = source.totalRows !== undefined;
    const total = byRows ? source.totalRows! : (source.totalBytes ?? 0);
    const value = () => (byRows ? this.position : source.bytesRead());
    const progress = new Progress(out, { format: (s) => this.progressLine(s, byRows) });
    this.progress = progress;
    progress.start(total, value());
    this.progressTimer = setInterval(() => {
      this.updateAcked();
      progress.update(value());
    }, 100);
    this.progressTimer.unref();
  }

  /** Draws the final state and stops the progress line. */
  private stopProgress(): void {
    if (this.progressTimer !== null) clearInterval(this.progressTimer);
    this.progressTimer = null;
    const progress = this.progress;
    if (progress === null) return;
    this.progress = null;
    this.updateAcked();
    progress.update(this.source.totalRows !== undefined ? this.position : this.source.bytesRead());
    progress.stop();
  }

  private progressLine(s: ProgressState, byRows: boolean): string {
    const secs = (performance.now() - this.started) / 1000;
    const rate = this.sentThisRun / Math.max(secs, 0.001);
    const read = this.source.bytesRead();
    const parts = [
      `${count(this.position)} rows`,
      `${count(rate)} rows/s`,
      this.source.totalBytes === undefined || byRows
        ? bytes(read)
        : `${bytes(read)}/${bytes(this.source.totalBytes)}`,
      `acked ${count(this.ackedRows)}`,
    ];
    if (s.total > 0) {
      parts.unshift(`[${s.bar}] ${(s.fraction * 100).toFixed(0).padStart(3)}%`);
      parts.push(s.etaSeconds === undefined ? 'ETA --' : `ETA ${duration(s.etaSeconds)}`);
    } else {
      parts.push(duration(secs));
    }
    return parts.join(' | ');
  }
}

function samePlan(a: PlanShape, b: PlanShape): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeShape(p: PlanShape): string {
  return p.columns.map((c) => `${c.name} ${c.type}`).join(', ');
}
