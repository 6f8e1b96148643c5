import { Status, type TestServer } from '@qwp/test-server';
import { UsageError } from '../io.js';

/**
 * `qwp serve --at WHEN:ACTION` and `--script FILE`: the test server's fault
 * switches, fired at a frame or a time. A step is one line:
 *
 *   frame=N:ACTION      right before the server-wide binary frame N (from 0) is handled
 *   after=DUR:ACTION    DUR after the server started (500ms, 2s, or plain ms)
 *   every=DUR:ACTION    every DUR while the server runs
 *
 * ACTION is a name, with `=` and comma-separated arguments where it takes
 * some (see ACTIONS_HELP).
 */

/** When a step fires. */
export type Trigger =
  | { kind: 'frame'; index: number }
  | { kind: 'after'; ms: number }
  | { kind: 'every'; ms: number };

/** One parsed step: when, what, and the text it came from (for messages). */
export interface ScriptStep {
  trigger: Trigger;
  /** Runs the action; `frame` is the frame index that fired it, or null for a timed step. */
  run: (server: TestServer, frame: number | null) => void | Promise<void>;
  text: string;
}

export const ACTIONS_HELP = `actions (ACTION[=ARG,...]):
  drop                          cut every open connection now (no close frame)
  drop-every=N[,before-process] cut each connection at its Nth frame (off: drop-every=off)
  drop-rate=R[,SEED]            cut on a frame with probability R
  delay=MS                      delay every response by MS
  never-ack | ack               stop / resume sending OKs and durable ACKs
  reject=STATUS[,MESSAGE]       answer this frame (frame=N) or the next one with STATUS
                                (a name such as WRITE_ERROR, or a number)
  refuse=MS[,HTTP]              refuse upgrades for MS (reset, or HTTP status)
  reject-upgrades=HTTP[,COUNT]  answer the next COUNT upgrades (default all) with HTTP
  corrupt-acks=KIND[,COUNT]     malformed or future OKs
  demote[=ROLE] | promote[=ROLE]  demote in place (REPLICA) / writable again (PRIMARY)
  read-only | writable          a node configured read-only (SECURITY_ERROR per frame) / not
  durable-lag=MS[,JITTER[,TIER]]  commit-to-durable lag of a tier (replicated or local)
  stall-uploads | resume-uploads  freeze / release every durable frontier
  other-writer=TABLE[,STEPS]    another writer commits STEPS seqTxns to TABLE
  restart[=DOWN_MS][,lose-rows] restart on the same port (keeping rows unless lose-rows)
  stop | start                  stop listening (cutting connections) / listen again
  reset                         turn every fault off
`;

const DURATION = /^(\d+)(ms|s)?$/;

function fail(text: string, why: string): never {
  throw new UsageError(`'${text}': ${why}`);
}

function duration(text: string, what: string, value: string): number {
  const m = DURATION.exec(value);
  if (m === null) fail(text, `${what} must be a duration such as 500ms or 2s, got '${value}'`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : n;
}

function int(text: string, what: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isInteger(n) || n < min) {
    fail(text, `${what} must be an integer >= ${min}, got '${value ?? ''}'`);
  }
  return n;
}

function errorStatus(text: string, value: string | undefined): number {
  const named = (Status as Record<string, number>)[value ?? ''];
  const n = named ?? Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 255 || n === Status.DURABLE_ACK || n === 0x0e) {
    fail(text, `STATUS must be an error status name (WRITE_ERROR, ...) or 1..255, got '${value}'`);
  }
  return n;
}

function noArgs(text: string, name: string, args: string[]): void {
  if (args.length > 0) fail(text, `${name} takes no argument`);
}

type Run = ScriptStep['run'];

/** Parses ACTION[=ARGS] into what it does. */
function parseAction(text: string, action: string): Run {
  const eq = action.indexOf('=');
  const name = eq < 0 ? action : action.slice(0, eq);
  const args = eq < 0 ? [] : action.slice(eq + 1).split(',');
  switch (name) {
    case 'drop':
      noArgs(text, name, args);
      return (s) => s.dropConnections();
    case 'drop-every': {
      if (args[0] === 'off') return (s) => s.dropAfterFrames(null);
      const n = int(text, 'drop-every N', args[0], 1);
      const point = args[1] ?? 'before-ack';
      if (point !== 'before-ack' && point !== 'before-process') {
        fail(text, `drop-every point must be before-ack or before-process, got '${point}'`);
      }
      return (s) => s.dropAfterFrames(n, point);
    }
    case 'drop-rate': {
      const rate = Number(args[0]);
      if (!(rate >= 0 && rate <= 1)) fail(text, `drop-rate must be in [0, 1], got '${args[0]}'`);
      const seed = args[1] === undefined ? 1 : int(text, 'drop-rate SEED', args[1], 0);
      return (s) => s.dropAtRandom(rate, seed);
    }
    case 'delay': {
      const ms = int(text, 'delay MS', args[0], 0);
      return (s) => s.delayAcks(ms);
    }
    case 'never-ack':
      noArgs(text, name, args);
      return (s) => s.neverAck(true);
    case 'ack':
      noArgs(text, name, args);
      return (s) => s.neverAck(false);
    case 'reject': {
      const status = errorStatus(text, args[0]);
      const message = args.length > 1 ? args.slice(1).join(',') : undefined;
      // At frame=N the frame itself; on a timer the next frame to arrive.
      return (s, frame) => s.rejectFrame(frame ?? s.stats().frames, status, message);
    }
    case 'refuse': {
      const ms = int(text, 'refuse MS', args[0], 0);
      const status = args[1] === undefined ? undefined : int(text, 'refuse HTTP', args[1], 100);
      return (s) => s.refuseConnections(ms, status);
    }
    case 'reject-upgrades': {
      const status = int(text, 'reject-upgrades HTTP', args[0], 100);
      const count =
        args[1] === undefined ? undefined : int(text, 'reject-upgrades COUNT', args[1], 1);
      return (s) => s.rejectUpgrades(status, count);
    }
    case 'corrupt-acks': {
      const kind = args[0];
      if (kind !== 'malformed' && kind !== 'future') {
        fail(text, `corrupt-acks KIND must be malformed or future, got '${kind ?? ''}'`);
      }
      const count = args[1] === undefined ? 1 : int(text, 'corrupt-acks COUNT', args[1], 1);
      return (s) => s.corruptAcks(kind, count);
    }
    case 'demote': {
      const role = args[0] ?? 'REPLICA';
      if (role !== 'REPLICA' && role !== 'PRIMARY_CATCHUP') {
        fail(text, `demote ROLE must be REPLICA or PRIMARY_CATCHUP, got '${role}'`);
      }
      return (s) => s.demote(role);
    }
    case 'promote': {
      const role = args[0] ?? 'PRIMARY';
      if (role === 'REPLICA' || role === 'PRIMARY_CATCHUP' || role === '') {
        fail(text, `promote ROLE must be a writable role (PRIMARY, STANDALONE), got '${role}'`);
      }
      return (s) => s.promote(role);
    }
    case 'read-only':
      noArgs(text, name, args);
      return (s) => s.setReadOnly(true);
    case 'writable':
      noArgs(text, name, args);
      return (s) => s.setReadOnly(false);
    case 'durable-lag': {
      const lag = int(text, 'durable-lag MS', args[0], 0);
      const jitter = args[1] === undefined ? 0 : int(text, 'durable-lag JITTER', args[1], 0);
      const tier = args[2] ?? 'replicated';
      if (tier !== 'replicated' && tier !== 'local') {
        fail(text, `durable-lag TIER must be replicated or local, got '${tier}'`);
      }
      return (s) => s.setDurableLag(lag, jitter, tier);
    }
    case 'stall-uploads':
      noArgs(text, name, args);
      return (s) => s.stallUploads(true);
    case 'resume-uploads':
      noArgs(text, name, args);
      return (s) => s.stallUploads(false);
    case 'other-writer': {
      const table = args[0];
      if (table === undefined || table === '') fail(text, 'other-writer needs a TABLE');
      const steps = args[1] === undefined ? 1 : int(text, 'other-writer STEPS', args[1], 1);
      return (s) => {
        s.advanceSeqTxn(table, steps);
      };
    }
    case 'restart': {
      let downMs = 0;
      let keepRows = true;
      for (const a of args) {
        if (a === 'lose-rows') keepRows = false;
        else downMs = int(text, 'restart DOWN_MS', a, 0);
      }
      return (s) => s.restart({ downMs, keepRows });
    }
    case 'stop':
      noArgs(text, name, args);
      return (s) => s.stop();
    case 'start':
      noArgs(text, name, args);
      return (s) => s.start();
    case 'reset':
      noArgs(text, name, args);
      return (s) => s.resetFaults();
    default:
      return fail(text, `unknown action '${name}' (see qwp serve --help)`);
  }
}

/**
 * Parses one step, `WHEN:ACTION`.
 * @throws UsageError naming the step and what is wrong with it
 */
export function parseStep(text: string): ScriptStep {
  const colon = text.indexOf(':');
  if (colon < 0) fail(text, 'a step is WHEN:ACTION, e.g. frame=100:demote or after=2s:restart');
  const when = text.slice(0, colon).trim();
  const action = text.slice(colon + 1).trim();
  const eq = when.indexOf('=');
  const kind = eq < 0 ? when : when.slice(0, eq);
  const value = eq < 0 ? '' : when.slice(eq + 1);
  let trigger: Trigger;
  if (kind === 'frame') {
    trigger = { kind, index: int(text, 'frame', value, 0) };
  } else if (kind === 'after') {
    trigger = { kind, ms: duration(text, 'after', value) };
  } else if (kind === 'every') {
    const ms = duration(text, 'every', value);
    if (ms < 1) fail(text, 'every must be at least 1ms');
    trigger = { kind, ms };
  } else {
    fail(text, `WHEN must be frame=N, after=DUR or every=DUR, got '${when}'`);
  }
  if (action === '') fail(text, 'no ACTION after the colon');
  return { trigger, run: parseAction(text, action), text };
}

/**
 * Parses a script file's text: one step per line; blank lines and `#`
 * comments are skipped.
 * @throws UsageError naming the file, the line and the step
 */
export function parseScript(file: string, text: string): ScriptStep[] {
  const steps: ScriptStep[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/#.*$/, '').trim();
    if (line === '') continue;
    try {
      steps.push(parseStep(line));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      throw new UsageError(`--script ${file} line ${i + 1}: ${err.message}`, { cause: err });
    }
  }
  return steps;
}

/** A running script: `onFrame` goes to the server's option, `start` arms the timers once it runs. */
export interface ScriptRunner {
  onFrame: (index: number) => void;
  start: (server: TestServer) => void;
  stop: () => void;
}

/**
 * Runs `steps` against a server: frame steps from the server's `onFrame`
 * hook, timed steps from timers. Each firing prints `script: STEP`; a step
 * that fails (a table that does not exist yet, a restart of a closed
 * server) prints why and the server goes on.
 */
export function scriptRunner(
  steps: readonly ScriptStep[],
  log: (line: string) => void,
): ScriptRunner {
  const byFrame = new Map<number, ScriptStep[]>();
  for (const step of steps) {
    if (step.trigger.kind !== 'frame') continue;
    const list = byFrame.get(step.trigger.index) ?? [];
    list.push(step);
    byFrame.set(step.trigger.index, list);
  }
  let server: TestServer | null = null;
  const timers: NodeJS.Timeout[] = [];
  const fire = (step: ScriptStep, frame: number | null) => {
    if (server === null) return;
    log(`script: ${step.text}`);
    const failed = (err: unknown) =>
      log(`script: ${step.text} failed: ${err instanceof Error ? err.message : String(err)}`);
    try {
      const done = step.run(server, frame);
      if (done instanceof Promise) done.catch(failed);
    } catch (err) {
      failed(err);
    }
  };
  return {
    onFrame: (index) => {
      const due = byFrame.get(index);
      if (due !== undefined) for (const step of due) fire(step, index);
    },
    start: (s) => {
      server = s;
      for (const step of steps) {
        const t = step.trigger;
        if (t.kind === 'after') timers.push(setTimeout(() => fire(step, null), t.ms));
        else if (t.kind === 'every') timers.push(setInterval(() => fire(step, null), t.ms));
      }
    },
    stop: () => {
      for (const t of timers) clearTimeout(t);
      timers.length = 0;
      server = null;
    },
  };
}
