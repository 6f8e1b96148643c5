/**
 * Draining slots nobody sends from: a sibling `sender_id` left by a
 * producer that died (`drain_orphans=on`), or one an operator names (`qwp
 * sf drain`). Each slot is opened as its own sender would open it (the
 * logical lock, then `.lock`: a busy slot is skipped, never stolen), its
 * frames replayed on its own connection until every one is acknowledged,
 * and the slot cleaned up as a fully drained close leaves it. `.failed` is
 * written only when the slot can never be delivered; an outage just means
 * waiting longer.
 */
import { tokenizeConnectString } from '@qwp/qwp-wire';
import { findOrphanSlots, markSlotFailed, SlotLockedError } from '@qwp/segment-log';
import {
  AuthError,
  DurableAckError,
  PoisonFrameError,
  reasonOf,
  SenderTimeoutError,
  ServerRejectedError,
  SlotQuarantinedError,
  UndeliverableFrameError,
} from './errors.js';
import type { Sender, SenderStats } from './sender.js';

/** What happened to one orphan slot. */
export interface OrphanEvent {
  senderId: string;
  slotDir: string;
  /**
   * `draining` (opened, replaying), `drained` (every frame acknowledged, slot
   * cleaned), `skipped` (another process holds it), `failed` (see `reason`;
   * `.failed` written when it can never be delivered), `stopped` (the
   * sender closed first: the rest stays on disk for next time).
   */
  state: 'draining' | 'drained' | 'skipped' | 'failed' | 'stopped';
  reason?: string;
  /** For `failed`: whether `.failed` now marks the slot (never when the cause may pass). */
  markedFailed?: boolean;
}

/** How `drainSlot` reports progress. */
export interface DrainProgress {
  publishedFsn: number;
  ackedFsn: number;
  stats: SenderStats;
}

/** Options of `drainSlot`. */
export interface DrainSlotOptions {
  /** Called every `progressEveryMs` while draining. */
  onProgress?: (p: DrainProgress) => void;
  progressEveryMs?: number;
  /** Ends the drain early (the slot keeps what is not acknowledged). */
  signal?: AbortSignal;
  /** Incidents on the drainer's connection (reconnects, rejections retried). */
  onError?: (err: Error) => void;
}

/** The outcome of `drainSlot`. */
export type DrainResult = Omit<OrphanEvent, 'state'> & {
  state: 'drained' | 'skipped' | 'failed' | 'stopped';
};

/** Rewrites a connect string for draining slot `senderId`: its own sender, no orphan scan, no blocking connect. */
export function drainerConf(conf: string, senderId: string): string {
  const { schema, pairs } = tokenizeConnectString(conf);
  const skip = new Set(['sender_id', 'drain_orphans', 'initial_connect_retry', 'lazy_connect']);
  const kept = pairs.filter((p) => !skip.has(p.key));
  const body = kept.map((p) => `${p.key}=${p.value.replaceAll(';', ';;')};`).join('');
  return `${schema}::${body}sender_id=${senderId};drain_orphans=off;initial_connect_retry=async;`;
}

/** Errors after which the slot can never be delivered as it is (so `.failed` is written). */
function isUndeliverable(err: unknown): boolean {
  return (
    err instanceof AuthError ||
    err instanceof DurableAckError ||
    err instanceof UndeliverableFrameError ||
    err instanceof PoisonFrameError ||
    err instanceof ServerRejectedError
  );
}

/**
 * Drains `<sf_dir>/<senderId>` (sf_dir from `conf`) to the server `conf`
 * names: resolves `drained` once every frame is acknowledged and the slot
 * cleaned, `skipped` when another process holds it, `failed` with the
 * reason (and `.failed` written when it can never be delivered), or
 * `stopped` on `signal`. Rejects only for a bad `conf`.
 */
export async function drainSlot(
  create: (conf: string, onError: (err: Error) => void) => Promise<Sender>,
  conf: string,
  sfDir: string,
  senderId: string,
  options: DrainSlotOptions = {},
): Promise<DrainResult> {
  const slotDir = `${sfDir.replace(/\/+$/, '')}/${senderId}`;
  const base = { senderId, slotDir };
  const notices: Error[] = [];
  let sender: Sender;
  try {
    sender = await create(drainerConf(conf, senderId), (err) => {
      notices.push(err);
      options.onError?.(err);
    });
  } catch (err) {
    if (err instanceof SlotLockedError) return { ...base, state: 'skipped', reason: err.message };
    return { ...base, state: 'failed', reason: reasonOf(err), markedFailed: false };
  }
  const quarantined = notices.find((e) => e instanceof SlotQuarantinedError);
  if (quarantined !== undefined) {
    // Recovery moved it aside, intact and marked .failed; what opened is empty.
    await sender.close({ timeoutMs: 0 }).catch(() => {});
    return { ...base, state: 'failed', reason: quarantined.message, markedFailed: true };
  }
  const every = options.progressEveryMs ?? 500;
  try {
    for (;;) {
      if (options.signal?.aborted === true) {
        await sender.close({ timeoutMs: 0 });
        return { ...base, state: 'stopped' };
      }
      try {
        await sender.drain(every);
        break;
      } catch (err) {
        if (!(err instanceof SenderTimeoutError)) throw err;
      }
      const stats = sender.stats();
      options.onProgress?.({ publishedFsn: stats.publishedFsn, ackedFsn: stats.ackedFsn, stats });
    }
    const stats = sender.stats();
    options.onProgress?.({ publishedFsn: stats.publishedFsn, ackedFsn: stats.ackedFsn, stats });
    await sender.close(); // everything acknowledged: the drained close cleans the slot
    return { ...base, state: 'drained' };
  } catch (err) {
    const undeliverable = isUndeliverable(err);
    if (undeliverable) markSlotFailed(slotDir, `orphan drain: ${reasonOf(err)}`);
    await sender.close({ timeoutMs: 0 }).catch(() => {}); // err is the outcome; frames stay on disk
    return { ...base, state: 'failed', reason: reasonOf(err), markedFailed: undeliverable };
  }
}

/**
 * `drain_orphans=on`: finds the orphan slots of `sfDir` at start and drains
 * up to `max` at once, each on its own sender (one worker thread and one
 * connection each), reporting every step through `emit`.
 */
export class OrphanDrainers {
  private readonly controller = new AbortController();
  private done: Promise<void> | undefined;

  constructor(
    private readonly create: (conf: string, onError: (err: Error) => void) => Promise<Sender>,
    private readonly conf: string,
    private readonly sfDir: string,
    private readonly ownSenderId: string,
    private readonly max: number,
    private readonly emit: (event: OrphanEvent) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Scans once and drains what it found; resolves when every drainer ended. */
  start(): Promise<void> {
    this.done ??= this.run();
    return this.done;
  }

  /** Stops every drainer (what is not acknowledged stays on disk) and waits for them. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.done;
  }

  private async run(): Promise<void> {
    let orphans: ReturnType<typeof findOrphanSlots>;
    try {
      orphans = findOrphanSlots(this.sfDir, this.ownSenderId);
    } catch (err) {
      this.onError(err as Error);
      return;
    }
    const queue = [...orphans];
    const next = async (): Promise<void> => {
      for (let o = queue.shift(); o !== undefined; o = queue.shift()) {
        if (this.controller.signal.aborted) return;
        this.emit({ senderId: o.senderId, slotDir: o.slotDir, state: 'draining' });
        const result = await drainSlot(this.create, this.conf, this.sfDir, o.senderId, {
          signal: this.controller.signal,
          onError: this.onError,
        });
        this.emit(result);
      }
    };
    const workers: Promise<void>[] = [];
    for (let i = 0; i < Math.min(this.max, queue.length); i++) workers.push(next());
    await Promise.all(workers);
  }
}
