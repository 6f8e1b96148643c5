export * from '../codec/server-info.js';
export {
  type BackoffPolicy,
  backoffBaseMs,
  EGRESS_BACKOFF,
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
