import { QwpError } from '../errors.js';

/** A source of uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** Initial and maximum backoff of a reconnect loop, in ms. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Ingress defaults: `reconnect_initial_backoff_millis` 100, `reconnect_max_backoff_millis` 5000. */
export const INGRESS_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 100, maxMs: 5000 });

/** Egress defaults: `failover_backoff_initial_ms` 50, `failover_backoff_max_ms` 1000. */
export const EGRESS_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 50, maxMs: 1000 });

/**
 * The un-jittered backoff before retry number `attempt` (0-based): the
 * initial backoff doubled per attempt, capped at the maximum.
 * @param policy initial and maximum backoff
 * @param attempt 0 for the first sleep of an outage
 */
export function backoffBaseMs(policy: BackoffPolicy, attempt: number): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new QwpError(
      'ERR_QWP_BACKOFF_ATTEMPT',
      `backoff attempt ${attempt} is not an integer ≥ 0`,
    );
  }
  // 2^31 already exceeds any sane cap; stop doubling before it overflows to Infinity.
  const doubled = policy.initialMs * 2 ** Math.min(attempt, 31);
  return Math.min(doubled, policy.maxMs);
}

/**
 * Equal jitter, as the ingress reconnect loop uses it: a uniform sleep in
 * [base, 2·base), so the lower bound never drops to zero and many producers
 * restarting together spread out without hammering the cluster.
 * @param baseMs the un-jittered backoff
 * @param random uniform [0, 1) source (inject a seeded one in tests)
 */
export function equalJitterMs(baseMs: number, random: RandomSource = Math.random): number {
  return baseMs + Math.floor(random() * baseMs);
}

/**
 * Full jitter, as the egress per-query loop uses it: uniform in [0, base).
 * @param baseMs the un-jittered backoff
 * @param random uniform [0, 1) source
 */
export function fullJitterMs(baseMs: number, random: RandomSource = Math.random): number {
  return Math.floor(random() * baseMs);
}

/**
 * The sleep after round `attempt` of an outage: equal-jittered exponential
 * backoff, clamped to what is left of the outage budget when one is given.
 * @param policy initial and maximum backoff
 * @param attempt 0-based count of backoff sleeps already taken in this outage
 * @param random uniform [0, 1) source
 * @param remainingMs what is left of the outage budget; omit for no budget
 */
export function reconnectDelayMs(
  policy: BackoffPolicy,
  attempt: number,
  random: RandomSource = Math.random,
  remainingMs?: number,
): number {
  const delay = equalJitterMs(backoffBaseMs(policy, attempt), random);
  return remainingMs === undefined ? delay : Math.max(0, Math.min(delay, remainingMs));
}

/**
 * Backoff state across the rounds of one outage. After a round that ended
 * in transport errors the next sleep doubles; after a round in which every
 * host role-rejected the sleep is the initial backoff and the doubling starts
 * over (the spec's "reset to InitialBackoff, no doubling").
 */
export class ReconnectBackoff {
  readonly #policy: BackoffPolicy;
  readonly #random: RandomSource;
  #attempt = 0;

  /**
   * @param policy initial and maximum backoff
   * @param random uniform [0, 1) source
   */
  constructor(policy: BackoffPolicy, random: RandomSource = Math.random) {
    if (!(policy.initialMs > 0) || !(policy.maxMs >= policy.initialMs)) {
      throw new QwpError(
        'ERR_QWP_BACKOFF_POLICY',
        `backoff policy needs 0 < initialMs ≤ maxMs, got initialMs=${policy.initialMs} maxMs=${policy.maxMs}`,
      );
    }
    this.#policy = policy;
    this.#random = random;
  }

  /**
   * The sleep before the next round.
   * @param kind `exponential` after transport errors, `initial` after a
   *   role-reject-only round (see HostTracker's round-end)
   * @param remainingMs what is left of the outage budget, if bounded
   */
  nextDelayMs(kind: 'exponential' | 'initial', remainingMs?: number): number {
    if (kind === 'initial') {
      this.#attempt = 0;
      return reconnectDelayMs(this.#policy, 0, this.#random, remainingMs);
    }
    return reconnectDelayMs(this.#policy, this.#attempt++, this.#random, remainingMs);
  }

  /** Forget the outage: the next sleep starts from the initial backoff. */
  reset(): void {
    this.#attempt = 0;
  }
}
