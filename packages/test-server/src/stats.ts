import { statusName } from './protocol.js';

/** How frames are checked: every frame fully decoded, or header-only with a decoded sample. */
export type ServerModeName = 'strict' | 'throughput';

/** A snapshot of the server's counters. */
export interface ServerStats {
  mode: ServerModeName;
  /** Fraction of frames fully decoded (1 in strict mode). */
  sampleRate: number;
  connectionsOpened: number;
  connectionsOpen: number;
  upgradesRejected: number;
  frames: number;
  bytes: number;
  framesDecoded: number;
  rowsCommitted: number;
  commits: number;
  oks: number;
  /** DURABLE_ACK (0x02, replicated tier) frames sent. */
  durableAcks: number;
  /** LOCAL_DURABLE_ACK (0x0E, local tier) frames sent. */
  localDurableAcks: number;
  /** Error frames sent, by status name. */
  errors: Record<string, number>;
  textFrames: number;
  /** Frames consumed without any answer (after an earlier error on their connection, or by a demoted node). */
  framesRefused: number;
  connectionsDropped: number;
  startedAt: number;
  restarts: number;
}

/** Mutable counters behind `stats()`. */
export class Stats {
  connectionsOpened = 0;
  connectionsOpen = 0;
  upgradesRejected = 0;
  frames = 0;
  bytes = 0;
  framesDecoded = 0;
  rowsCommitted = 0;
  commits = 0;
  oks = 0;
  durableAcks = 0;
  localDurableAcks = 0;
  textFrames = 0;
  framesRefused = 0;
  connectionsDropped = 0;
  restarts = 0;
  readonly startedAt = Date.now();
  private readonly errors = new Map<number, number>();

  /** Counts one error frame with `status`. */
  error(status: number): void {
    this.errors.set(status, (this.errors.get(status) ?? 0) + 1);
  }

  /** A copy of every counter. */
  snapshot(mode: ServerModeName, sampleRate: number): ServerStats {
    const errors: Record<string, number> = {};
    for (const [status, n] of this.errors) errors[statusName(status)] = n;
    return {
      mode,
      sampleRate,
      connectionsOpened: this.connectionsOpened,
      connectionsOpen: this.connectionsOpen,
      upgradesRejected: this.upgradesRejected,
      frames: this.frames,
      bytes: this.bytes,
      framesDecoded: this.framesDecoded,
      rowsCommitted: this.rowsCommitted,
      commits: this.commits,
      oks: this.oks,
      durableAcks: this.durableAcks,
      localDurableAcks: this.localDurableAcks,
      errors,
      textFrames: this.textFrames,
      framesRefused: this.framesRefused,
      connectionsDropped: this.connectionsDropped,
      startedAt: this.startedAt,
      restarts: this.restarts,
    };
  }
}
