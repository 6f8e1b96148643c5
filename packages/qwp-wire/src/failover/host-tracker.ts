import { HostIndexError, QwpError } from '../errors.js';
import type { RoleTarget } from './roles.js';

/**
 * What the client last observed at a host. Listed best first: a lower state
 * is picked before a higher one.
 */
export type HostState =
  | 'healthy'
  | 'unknown'
  | 'transient-reject'
  | 'transport-error'
  | 'topology-reject';

/** A host's zone relative to the client's `zone=`, best first. */
export type ZoneTier = 'same' | 'unknown' | 'other';

const STATE_RANK: Readonly<Record<HostState, number>> = {
  healthy: 0,
  unknown: 1,
  'transient-reject': 2,
  'transport-error': 3,
  'topology-reject': 4,
};

const TIER_RANK: Readonly<Record<ZoneTier, number>> = { same: 0, unknown: 1, other: 2 };

/** Options of a {@link HostTracker}. */
export interface HostTrackerOptions {
  /**
   * The client's `zone=`. Leave unset for ingress, which is zone-blind: every
   * host is then in tier `same`.
   */
  readonly zone?: string | undefined;
  /** The `target=` filter; `primary` collapses every zone tier to `same`. */
  readonly target?: RoleTarget | undefined;
}

/**
 * How the caller should back off when a round ends with no host bound:
 * `exponential` when any host failed at the transport level, `initial`
 * (one fixed sleep at the initial backoff, no doubling) when every host
 * role-rejected.
 */
export type RoundBackoff = 'exponential' | 'initial';

/** The answer of {@link HostTracker.next}. */
export type HostPick<A> =
  | { readonly kind: 'host'; readonly index: number; readonly address: A }
  | {
      readonly kind: 'round-end';
      readonly round: number;
      readonly backoff: RoundBackoff;
      readonly transportErrors: number;
      readonly roleRejects: number;
    };

/**
 * Ranks the `addr` list for the failover loop. Pure bookkeeping: no timers,
 * no I/O. Each host has a state and a zone tier; {@link next} returns the
 * not-yet-tried host with the lowest (state, tier) pair, keeping `addr`
 * order within a tie, or reports that the round is over. The caller feeds
 * back what each attempt found and starts the next round.
 *
 * Typical loop: `startOutage()` when a bound connection fails (after
 * `recordMidStreamFailure`), then `next()` → connect → `recordSuccess` /
 * `recordTransportError` / `recordRoleReject`, until a host binds or
 * `next()` says `round-end`; then sleep per its `backoff` and `beginRound()`.
 */
export class HostTracker<A> {
  readonly #addresses: readonly A[];
  readonly #states: HostState[];
  readonly #zones: (string | undefined)[];
  readonly #attempted: boolean[];
  readonly #lastSuccess: number[];
  /** Demoted by a mid-stream failure since the last outage began. */
  readonly #demoted: boolean[];
  readonly #clientZone: string | undefined;
  readonly #zoneBlind: boolean;
  #successCounter = 0;
  #round = 1;
  #roundTransportErrors = 0;
  #roundRoleRejects = 0;

  /**
   * @param addresses the configured endpoints, in `addr` order (at least one)
   * @param options client zone and role target
   */
  constructor(addresses: readonly A[], options: HostTrackerOptions = {}) {
    if (addresses.length === 0) {
      throw new QwpError('ERR_QWP_HOST_TRACKER_EMPTY', 'host tracker needs at least one address');
    }
    this.#addresses = Object.freeze([...addresses]);
    const n = addresses.length;
    this.#states = new Array<HostState>(n).fill('unknown');
    this.#zones = new Array<string | undefined>(n).fill(undefined);
    this.#attempted = new Array<boolean>(n).fill(false);
    this.#lastSuccess = new Array<number>(n).fill(0);
    this.#demoted = new Array<boolean>(n).fill(false);
    const zone = options.zone?.trim();
    this.#clientZone = zone === undefined || zone.length === 0 ? undefined : zone.toLowerCase();
    this.#zoneBlind = this.#clientZone === undefined || options.target === 'primary';
  }

  /** Number of configured hosts. */
  get count(): number {
    return this.#addresses.length;
  }

  /** The current round, starting at 1. */
  get round(): number {
    return this.#round;
  }

  /** The address at `index`. */
  address(index: number): A {
    this.#check(index);
    return this.#addresses[index]!;
  }

  /** The state of the host at `index`. */
  state(index: number): HostState {
    this.#check(index);
    return this.#states[index]!;
  }

  /** The zone tier of the host at `index`. */
  zoneTier(index: number): ZoneTier {
    this.#check(index);
    return this.#tier(index);
  }

  /** True once every host has been attempted in this round. */
  isRoundExhausted(): boolean {
    return this.#attempted.every(Boolean);
  }

  /** The next host to try in this round, or the end of the round. */
  next(): HostPick<A> {
    let best = -1;
    let bestRank = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.#states.length; i++) {
      if (this.#attempted[i]) {
        continue;
      }
      const rank = STATE_RANK[this.#states[i]!] * 3 + TIER_RANK[this.#tier(i)];
      // Strict '<' keeps addr order within a tied bucket.
      if (rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best >= 0) {
      return { kind: 'host', index: best, address: this.#addresses[best]! };
    }
    return {
      kind: 'round-end',
      round: this.#round,
      backoff:
        this.#roundTransportErrors === 0 && this.#roundRoleRejects > 0 ? 'initial' : 'exponential',
      transportErrors: this.#roundTransportErrors,
      roleRejects: this.#roundRoleRejects,
    };
  }

  /**
   * The connection to `index` was established (upgrade done, role accepted).
   * @param serverZone the zone the server advertised (SERVER_INFO zone_id),
   *   if any; a host that advertises nothing keeps what it advertised before
   */
  recordSuccess(index: number, serverZone?: string): void {
    this.#check(index);
    this.#states[index] = 'healthy';
    this.#attempted[index] = true;
    this.#lastSuccess[index] = ++this.#successCounter;
    this.#noteZone(index, serverZone);
  }

  /** TCP/TLS/upgrade failure, timeout, version mismatch or 421 without a role at `index`. */
  recordTransportError(index: number): void {
    this.#check(index);
    this.#states[index] = 'transport-error';
    this.#attempted[index] = true;
    this.#roundTransportErrors++;
  }

  /**
   * `index` rejected the client's role filter: 421 with a role header, or a
   * SERVER_INFO role that does not match `target=`.
   * @param transient true for PRIMARY_CATCHUP (will become a primary), false
   *   for a topology reject (will not, without a topology change)
   * @param serverZone zone from `X-QuestDB-Zone` / SERVER_INFO, if any
   */
  recordRoleReject(index: number, transient: boolean, serverZone?: string): void {
    this.#check(index);
    this.#states[index] = transient ? 'transient-reject' : 'topology-reject';
    this.#attempted[index] = true;
    this.#roundRoleRejects++;
    this.#noteZone(index, serverZone);
  }

  /**
   * A bound connection to `index` broke mid-stream. Demotes a healthy host
   * to `transport-error`, and keeps it there through the following
   * {@link startOutage}, so neither the sticky-healthy rule nor the reset
   * puts the broken node first again; call it before the next pick. Other
   * states are kept.
   */
  recordMidStreamFailure(index: number): void {
    this.#check(index);
    if (this.#states[index] === 'healthy') {
      this.#states[index] = 'transport-error';
      this.#demoted[index] = true;
    }
  }

  /**
   * Starts the next round of the same outage: every host may be tried once
   * more, states are kept (so hosts that failed rank after those that did not).
   */
  beginRound(): void {
    this.#attempted.fill(false);
    this.#round++;
    this.#roundTransportErrors = 0;
    this.#roundRoleRejects = 0;
  }

  /**
   * Starts a new outage (a bound connection was lost): a fresh round in which
   * every classification is forgotten except the most recently successful
   * healthy host in zone tier `same`, which stays first in line, and a host
   * just demoted by {@link recordMidStreamFailure}, which stays last among
   * the hosts not known to reject. A healthy host in another zone is reset so
   * local hosts get probed again.
   */
  startOutage(): void {
    let sticky = -1;
    for (let i = 0; i < this.#states.length; i++) {
      if (
        this.#states[i] === 'healthy' &&
        this.#tier(i) === 'same' &&
        (sticky < 0 || this.#lastSuccess[i]! > this.#lastSuccess[sticky]!)
      ) {
        sticky = i;
      }
    }
    for (let i = 0; i < this.#states.length; i++) {
      if (i !== sticky && !this.#demoted[i]) {
        this.#states[i] = 'unknown';
      }
    }
    this.#demoted.fill(false);
    this.beginRound();
  }

  #tier(index: number): ZoneTier {
    if (this.#zoneBlind) {
      return 'same';
    }
    const zone = this.#zones[index];
    if (zone === undefined) {
      return 'unknown';
    }
    return zone === this.#clientZone ? 'same' : 'other';
  }

  #noteZone(index: number, serverZone: string | undefined): void {
    if (serverZone !== undefined && serverZone.length > 0) {
      this.#zones[index] = serverZone.toLowerCase();
    }
  }

  #check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.#addresses.length) {
      throw new HostIndexError(index, this.#addresses.length);
    }
  }
}
