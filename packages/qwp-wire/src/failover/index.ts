/**
 * Failover bookkeeping for a client with several `addr` entries, pure (no
 * timers, no I/O): {@link HostTracker} says which host to try next from what
 * each attempt found, {@link ReconnectBackoff} and the jitter functions how
 * long to wait between rounds, {@link classifyUpgradeFailure} what an
 * upgrade's HTTP status and role header mean.
 *
 * @module failover
 */

export { HostIndexError, QwpError } from '../errors.js';
export {
  type BackoffPolicy,
  backoffBaseMs,
  equalJitterMs,
  fullJitterMs,
  INGRESS_BACKOFF,
  type RandomSource,
  ReconnectBackoff,
  reconnectDelayMs,
} from './backoff.js';
export { type AttemptOutcome, classifyUpgradeFailure } from './classify.js';
export {
  type HostPick,
  type HostState,
  HostTracker,
  type HostTrackerOptions,
  type RoundBackoff,
  type ZoneTier,
} from './host-tracker.js';
export {
  parseRoleHeader,
  type RoleTarget,
  roleMatchesTarget,
  ServerRole,
  type ServerRoleName,
  type ServerRoleValue,
  serverRoleName,
} from './roles.js';
