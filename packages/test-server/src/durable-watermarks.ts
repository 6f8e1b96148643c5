import type { TableSeqTxn } from '@qwp/qwp-wire/codec';
import { TestServerOptionsError } from './errors.js';
import { SeededRandom } from './rng.js';

/**
 * A durability tier a connection can ask durable ACKs for (QuestDB's
 * DurabilityTier): 'local' is a commit fdatasync-durable on the server's
 * disk, reported in LOCAL_DURABLE_ACK (0x0E) frames; 'replicated' is a
 * commit uploaded to the object store, reported in DURABLE_ACK (0x02) frames.
 */
export type DurableTier = 'local' | 'replicated';

/** What a client asked for in X-QWP-Request-Durable-Ack. */
export interface DurableAckRequest {
  tiers: DurableTier[];
  /** Asked with the historical `true` (meaning replicated), confirmed with `enabled`. */
  legacy: boolean;
}

/**
 * The tier set an X-QWP-Request-Durable-Ack value asks for, as QuestDB's
 * DurabilityTier.fromHeaderValue reads it (ASCII case ignored): `true`
 * (replicated, the legacy token), `local`, `replicated`, `local,replicated`
 * or `replicated,local`. Anything else asks for nothing (null).
 */
export function parseDurableAckRequest(value: string | undefined): DurableAckRequest | null {
  if (value === undefined) return null;
  switch (value.toLowerCase()) {
    case 'true':
      return { tiers: ['replicated'], legacy: true };
    case 'local':
      return { tiers: ['local'], legacy: false };
    case 'replicated':
      return { tiers: ['replicated'], legacy: false };
    case 'local,replicated':
    case 'replicated,local':
      return { tiers: ['local', 'replicated'], legacy: false };
    default:
      return null;
  }
}

/** The X-QWP-Durable-Ack token confirming a granted request (DurabilityTier.responseToken). */
export function durableAckToken(granted: DurableAckRequest): string {
  if (granted.legacy) return 'enabled';
  return granted.tiers.length === 2 ? 'local,replicated' : granted.tiers[0]!;
}

/**
 * The request granted by a server offering `available`: all or nothing, as
 * QuestDB grants it (a tier it cannot serve denies the whole request, and the
 * 101 then carries no confirmation).
 */
export function grantDurableAck(
  request: DurableAckRequest | null,
  available: readonly DurableTier[],
): DurableAckRequest | null {
  if (request === null) return null;
  return request.tiers.every((t) => available.includes(t)) ? request : null;
}

interface TableUploads {
  /** Highest seqTxn uploaded, -1 before the first. */
  done: bigint;
  /** Commits not yet covered, in seqTxn order, each uploadable from `readyAt`. */
  queue: { seqTxn: bigint; readyAt: number }[];
  head: number;
}

/**
 * One tier's per-table durability frontier, server-wide, like QuestDB's
 * durable-ack registry: every commit of a table (from any connection, an
 * ALTER or another writer) becomes durable `lagMs` plus a seeded jitter in
 * [0, `jitterMs`] after it, and the frontier is the highest seqTxn whose
 * every predecessor is durable too. Jitters differ per commit, so the
 * frontier lags the commits and then jumps over several at once. Nothing
 * runs on a timer: the frontier is computed when asked, the way QuestDB
 * polls its registry on a connection's inbound traffic.
 */
export class UploadClock {
  private readonly tables = new Map<string, TableUploads>();
  private rng: SeededRandom;
  private lag: number;
  private jitter: number;

  /**
   * @param stalled while true, no upload completes (the frontier stays put)
   */
  constructor(
    lagMs: number,
    jitterMs: number,
    seed: number,
    private readonly stalled: () => boolean,
  ) {
    this.lag = lagMs;
    this.jitter = jitterMs;
    this.rng = new SeededRandom(seed);
  }

  /** Changes the lag of commits recorded from now on. */
  setLag(lagMs: number, jitterMs: number): void {
    this.lag = lagMs;
    this.jitter = jitterMs;
  }

  /** Records that `table` committed `seqTxn` at `now` (ms). */
  record(table: string, seqTxn: bigint, now: number): void {
    let t = this.tables.get(table);
    if (t === undefined) {
      t = { done: -1n, queue: [], head: 0 };
      this.tables.set(table, t);
    }
    const jitter = this.jitter === 0 ? 0 : Math.floor(this.rng.next() * (this.jitter + 1));
    t.queue.push({ seqTxn, readyAt: now + this.lag + jitter });
    // Advancing here too keeps the queue short for tables nobody polls.
    this.advance(t, now);
  }

  /** The durable frontier of `table` at `now`: the highest durable seqTxn, or -1 for none. */
  watermark(table: string, now: number): bigint {
    const t = this.tables.get(table);
    if (t === undefined) return -1n;
    this.advance(t, now);
    return t.done;
  }

  /** Forgets every table (a restart that lost its data). */
  clear(): void {
    this.tables.clear();
  }

  private advance(t: TableUploads, now: number): void {
    if (this.stalled()) return;
    const q = t.queue;
    while (t.head < q.length && q[t.head]!.readyAt <= now) t.done = q[t.head++]!.seqTxn;
    if (t.head > 64 && t.head * 2 > q.length) {
      q.splice(0, t.head);
      t.head = 0;
    }
  }
}

/**
 * One connection's durable-ack bookkeeping for one tier, as
 * QwpIngressProcessorState keeps it: the tables this connection committed
 * to (from its first commit to each), the seqTxn it last committed there,
 * and the frontier it last reported. A poll reports, per such table, the
 * tier's frontier when it passed the last report: it can sit below this
 * connection's latest OK or past it (other writers, ALTERs). A table whose
 * frontier reached this connection's last commit is dropped until the
 * connection commits to it again, and its last report is forgotten, so the
 * next report may repeat a value already sent.
 */
export class DurableProgress {
  private readonly pending = new Map<string, bigint>();
  private readonly lastSent = new Map<string, bigint>();

  constructor(
    readonly tier: DurableTier,
    private readonly clock: UploadClock,
  ) {}

  /** This connection committed `seqTxn` to `table`. */
  committed(table: string, seqTxn: bigint): void {
    if (seqTxn >= 0n) this.pending.set(table, seqTxn);
  }

  /** Whether a commit of this connection is not yet reported durable. */
  hasPendingWork(): boolean {
    return this.pending.size > 0;
  }

  /**
   * The frontiers to report at `now` (empty when none advanced), marked as
   * sent: call only when the frame carrying them goes out.
   */
  take(now: number): TableSeqTxn[] {
    const out: TableSeqTxn[] = [];
    for (const table of this.pending.keys()) {
      const w = this.clock.watermark(table, now);
      if (w >= 0n && w > (this.lastSent.get(table) ?? -1n)) out.push({ name: table, seqTxn: w });
    }
    for (const e of out) {
      if (e.seqTxn >= (this.pending.get(e.name) ?? 0n)) {
        this.pending.delete(e.name);
        this.lastSent.delete(e.name);
      } else {
        this.lastSent.set(e.name, e.seqTxn);
      }
    }
    return out;
  }
}

/** Settings of the durability model (`durableAck` as an object). */
export interface DurableAckOptions {
  /**
   * Tiers the server can grant. Default both: an Enterprise primary with
   * replication. `['local']` is an OSS server in ADAPTIVE commit mode
   * (a `true` request, meaning replicated, is then denied).
   */
  tiers?: readonly DurableTier[];
  /** Replicated tier: each commit is uploaded this many ms after it (default 50). */
  lagMs?: number;
  /** Replicated tier: plus a seeded random 0..jitterMs ms per commit (default 50). */
  jitterMs?: number;
  /** Local tier: each commit is fdatasync'd this many ms after it (default 5). */
  localLagMs?: number;
  /** Local tier: plus a seeded random 0..localJitterMs ms per commit (default 5). */
  localJitterMs?: number;
  /** Seed of the jitter, so a run reproduces (default 1). */
  seed?: number;
}

export const DEFAULT_DURABLE_LAG_MS = 50;
export const DEFAULT_DURABLE_JITTER_MS = 50;
export const DEFAULT_LOCAL_LAG_MS = 5;
export const DEFAULT_LOCAL_JITTER_MS = 5;

/** `durableAck` resolved: which tiers are offered and each tier's lag. */
export interface DurableAckSettings {
  tiers: DurableTier[];
  lagMs: number;
  jitterMs: number;
  localLagMs: number;
  localJitterMs: number;
  seed: number;
}

function checkMs(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
    throw new TestServerOptionsError(`durableAck.${name} must be an integer >= 0, got ${v}`);
  }
}

/**
 * Resolves the `durableAck` option: false/undefined offers no tier.
 * @throws TestServerOptionsError naming a bad field
 */
export function resolveDurableAck(
  option: boolean | DurableAckOptions | undefined,
): DurableAckSettings {
  const o = typeof option === 'object' ? option : {};
  const on = option !== undefined && option !== false;
  for (const k of ['lagMs', 'jitterMs', 'localLagMs', 'localJitterMs'] as const) checkMs(k, o[k]);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) {
    throw new TestServerOptionsError(`durableAck.seed must be an integer, got ${o.seed}`);
  }
  const tiers = [...(o.tiers ?? ['local', 'replicated'])];
  for (const t of tiers) {
    if (t !== 'local' && t !== 'replicated') {
      throw new TestServerOptionsError(
        `durableAck.tiers must hold 'local' and/or 'replicated', got ${String(t)}`,
      );
    }
  }
  return {
    tiers: on ? tiers : [],
    lagMs: o.lagMs ?? DEFAULT_DURABLE_LAG_MS,
    jitterMs: o.jitterMs ?? DEFAULT_DURABLE_JITTER_MS,
    localLagMs: o.localLagMs ?? DEFAULT_LOCAL_LAG_MS,
    localJitterMs: o.localJitterMs ?? DEFAULT_LOCAL_JITTER_MS,
    seed: o.seed ?? 1,
  };
}
