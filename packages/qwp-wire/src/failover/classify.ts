import { parseRoleHeader } from './roles.js';

/**
 * What one failed connect attempt means for the failover loop:
 * - `terminal`: surface to the caller, try no other host (401/403: credentials
 *   are cluster-wide);
 * - `transient-reject`: 421 with role PRIMARY_CATCHUP, expected to recover;
 * - `topology-reject`: 421 with another recognised role, or SERVER_INFO role
 *   not matching `target=`;
 * - `transport-error`: everything else (TCP/TLS, timeouts, 404/426/503,
 *   version mismatch, 421 without a recognised role).
 */
export type AttemptOutcome =
  | 'terminal'
  | 'transient-reject'
  | 'topology-reject'
  | 'transport-error';

/**
 * Classifies a non-101 HTTP upgrade response per the error-classification
 * table of the client-failover spec.
 * @param status HTTP status of the upgrade response
 * @param roleHeader the `X-QuestDB-Role` header, if present
 */
export function classifyUpgradeFailure(status: number, roleHeader?: string): AttemptOutcome {
  if (status === 401 || status === 403) {
    return 'terminal';
  }
  if (status === 421) {
    const role = parseRoleHeader(roleHeader);
    if (role === undefined) {
      return 'transport-error';
    }
    return role === 'PRIMARY_CATCHUP' ? 'transient-reject' : 'topology-reject';
  }
  return 'transport-error';
}
