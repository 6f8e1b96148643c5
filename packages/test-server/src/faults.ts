import { TestServerOptionsError } from './errors.js';
import { SeededRandom } from './rng.js';

/** When a dropped connection goes: before its frame is processed, or after commit but before the ACK. */
export type DropPoint = 'before-process' | 'before-ack';

/** A broken ACK: cut short (undecodable), or naming a sequence the client never sent. */
export type AckCorruption = 'malformed' | 'future';

/** Fault settings that can be given at start (all optional, all off by default). */
export interface FaultOptions {
  /** Drop each connection when it receives its Nth frame (1-based). */
  dropAfterFrames?: number;
  /** Where that drop happens; default 'before-ack' (frame committed, ACK never sent). */
  dropPoint?: DropPoint;
  /** Probability in [0, 1] that any frame drops its connection (at dropPoint). */
  dropRate?: number;
  /** Seed for dropRate; default 1. */
  seed?: number;
  /** Delay every response by this many milliseconds (order kept). */
  ackDelayMs?: number;
  /** Process frames but never send OK or DURABLE_ACK frames. */
  neverAck?: boolean;
  /** No commit becomes durable (the durable-ack frontiers stay put) until turned off. */
  stallUploads?: boolean;
}

/** What to do with one upgrade request because of a fault. */
export type UpgradeFault = { kind: 'status'; status: number } | { kind: 'destroy' };

const UPGRADE_STATUSES = new Set([400, 401, 403, 404, 421, 426, 500, 503]);

function checkNonNegative(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) {
    throw new TestServerOptionsError(`${name} must be a finite number >= 0, got ${v}`);
  }
}

function checkUpgradeStatus(name: string, status: number): void {
  if (!UPGRADE_STATUSES.has(status)) {
    throw new TestServerOptionsError(
      `${name} status must be one of ${[...UPGRADE_STATUSES].join(', ')}, got ${status}`,
    );
  }
}

function checkCount(name: string, count: number): void {
  if (!(count >= 1)) throw new TestServerOptionsError(`${name} count must be >= 1, got ${count}`);
}

/**
 * The server's fault switches. Every setter takes effect at once, on open
 * connections too, and `reset()` turns them all off.
 */
export class Faults {
  private dropAfter: number | null = null;
  private dropAt: DropPoint = 'before-ack';
  private rate = 0;
  private rng = new SeededRandom(1);
  private delay = 0;
  private silent = false;
  private readonly frameRejections = new Map<number, { status: number; message: string }>();
  private refuseUntil = 0;
  private refuseStatus: number | null = null;
  private upgradeStatus: number | null = null;
  private upgradeCount = 0;
  private corruption: AckCorruption | null = null;
  private corruptionCount = 0;
  private stalled = false;

  constructor(options: FaultOptions = {}) {
    if (options.dropAfterFrames !== undefined) {
      this.dropAfterFrames(options.dropAfterFrames, options.dropPoint);
    } else if (options.dropPoint !== undefined) {
      this.dropAt = options.dropPoint;
    }
    if (options.dropRate !== undefined) this.dropAtRandom(options.dropRate, options.seed ?? 1);
    if (options.ackDelayMs !== undefined) this.delayAcks(options.ackDelayMs);
    if (options.neverAck !== undefined) this.neverAck(options.neverAck);
    if (options.stallUploads !== undefined) this.stallUploads(options.stallUploads);
  }

  /**
   * Drops every connection when it receives its `n`th frame; null turns it off.
   * @param n frames per connection (>= 1)
   * @param point before the frame is processed, or after commit but before its ACK
   */
  dropAfterFrames(n: number | null, point: DropPoint = this.dropAt): void {
    if (n !== null && (!Number.isInteger(n) || n < 1)) {
      throw new TestServerOptionsError(`dropAfterFrames must be an integer >= 1, got ${n}`);
    }
    this.dropAfter = n;
    this.dropAt = point;
  }

  /**
   * Drops a connection on a frame with probability `rate`, from a seeded PRNG.
   * @param rate probability in [0, 1]; 0 turns it off
   * @param seed PRNG seed, so a run can be replayed
   */
  dropAtRandom(rate: number, seed = 1): void {
    if (!(rate >= 0 && rate <= 1)) {
      throw new TestServerOptionsError(`dropRate must be in [0, 1], got ${rate}`);
    }
    this.rate = rate;
    this.rng = new SeededRandom(seed);
  }

  /** Delays every response frame by `ms` milliseconds, keeping their order. */
  delayAcks(ms: number): void {
    checkNonNegative('ackDelayMs', ms);
    this.delay = ms;
  }

  /** While on, frames are processed and committed but no OK or DURABLE_ACK is sent. */
  neverAck(on = true): void {
    this.silent = on;
  }

  /**
   * Answers the frame with server-wide index `index` (0-based, counting every
   * binary frame on every connection since start) with `status` instead of
   * processing it. One-shot: a replay of the same data is accepted.
   */
  rejectFrame(index: number, status: number, message = 'rejected by fault injection'): void {
    if (!Number.isInteger(index) || index < 0) {
      throw new TestServerOptionsError(`rejectFrame index must be an integer >= 0, got ${index}`);
    }
    // 0x02 and 0x0e are the two durable-ack kinds: they carry no sequence.
    if (
      !Number.isInteger(status) ||
      status <= 0 ||
      status > 255 ||
      status === 0x02 ||
      status === 0x0e
    ) {
      throw new TestServerOptionsError(
        `rejectFrame status must be an error status 1..255 (not 0x02 or 0x0e), got ${status}`,
      );
    }
    this.frameRejections.set(index, { status, message });
  }

  /**
   * Refuses every upgrade for `ms` milliseconds: with HTTP `status`, or by
   * destroying the socket at once when `status` is omitted.
   */
  refuseConnections(ms: number, status?: number): void {
    checkNonNegative('refuseConnections ms', ms);
    if (status !== undefined) checkUpgradeStatus('refuseConnections', status);
    this.refuseUntil = Date.now() + ms;
    this.refuseStatus = status ?? null;
  }

  /** Answers the next `count` upgrades (default: all until reset) with HTTP `status`. */
  rejectUpgrades(status: number, count = Number.POSITIVE_INFINITY): void {
    checkUpgradeStatus('rejectUpgrades', status);
    checkCount('rejectUpgrades', count);
    this.upgradeStatus = status;
    this.upgradeCount = count;
  }

  /** Corrupts the next `count` OK frames: cut short ('malformed') or with a sequence never sent ('future'). */
  corruptAcks(kind: AckCorruption, count = 1): void {
    if (kind !== 'malformed' && kind !== 'future') {
      throw new TestServerOptionsError(
        `corruptAcks kind must be 'malformed' or 'future', got ${String(kind)}`,
      );
    }
    checkCount('corruptAcks', count);
    this.corruption = kind;
    this.corruptionCount = count;
  }

  /**
   * While on, no commit becomes durable: the durable-ack frontiers of every
   * tier stay where they are (an object store or disk that stopped
   * answering). Off again, every commit whose lag has passed is durable at
   * once, so the next DURABLE_ACK jumps.
   */
  stallUploads(on = true): void {
    this.stalled = on;
  }

  /** Turns every fault off. */
  reset(): void {
    this.dropAfter = null;
    this.dropAt = 'before-ack';
    this.rate = 0;
    this.delay = 0;
    this.silent = false;
    this.frameRejections.clear();
    this.refuseUntil = 0;
    this.refuseStatus = null;
    this.upgradeStatus = null;
    this.upgradeCount = 0;
    this.corruption = null;
    this.corruptionCount = 0;
    this.stalled = false;
  }

  /** @internal Whether the connection that just received its `framesOnConnection`th frame drops, and where. */
  dropFor(framesOnConnection: number): DropPoint | null {
    if (this.dropAfter !== null && framesOnConnection >= this.dropAfter) return this.dropAt;
    if (this.rate > 0 && this.rng.next() < this.rate) return this.dropAt;
    return null;
  }

  /** @internal Takes (one-shot) the forced answer for server-wide frame `index`. */
  takeFrameRejection(index: number): { status: number; message: string } | undefined {
    const r = this.frameRejections.get(index);
    if (r !== undefined) this.frameRejections.delete(index);
    return r;
  }

  /** @internal What to do with an upgrade arriving now, or null to handle it normally. */
  takeUpgradeFault(now: number): UpgradeFault | null {
    if (now < this.refuseUntil) {
      return this.refuseStatus === null
        ? { kind: 'destroy' }
        : { kind: 'status', status: this.refuseStatus };
    }
    if (this.upgradeStatus !== null && this.upgradeCount > 0) {
      const status = this.upgradeStatus;
      this.upgradeCount -= 1;
      if (this.upgradeCount <= 0) this.upgradeStatus = null;
      return { kind: 'status', status };
    }
    return null;
  }

  /** @internal Takes one pending ACK corruption, if any. */
  takeAckCorruption(): AckCorruption | null {
    if (this.corruption === null) return null;
    const kind = this.corruption;
    this.corruptionCount -= 1;
    if (this.corruptionCount <= 0) this.corruption = null;
    return kind;
  }

  /** @internal Current response delay in ms. */
  get ackDelayMs(): number {
    return this.delay;
  }

  /** @internal Whether uploads are stalled. */
  get uploadsStalled(): boolean {
    return this.stalled;
  }

  /** @internal Whether responses are suppressed. */
  get acksSuppressed(): boolean {
    return this.silent;
  }
}
