import { describe, expect, test } from 'vitest';
import {
  type AttemptOutcome,
  classifyUpgradeFailure,
  parseRoleHeader,
  type RoleTarget,
  roleMatchesTarget,
  ServerRole,
  type ServerRoleName,
  serverRoleName,
} from '../../src/failover/index.js';

describe('role filter table (target= × role)', () => {
  // Rows of the client-failover spec; "accept (transient)" is a match: a
  // promoted primary still catching up behaves like a primary.
  const TABLE: [RoleTarget, Record<ServerRoleName, boolean>][] = [
    ['any', { STANDALONE: true, PRIMARY: true, REPLICA: true, PRIMARY_CATCHUP: true }],
    ['primary', { STANDALONE: true, PRIMARY: true, REPLICA: false, PRIMARY_CATCHUP: true }],
    ['replica', { STANDALONE: false, PRIMARY: false, REPLICA: true, PRIMARY_CATCHUP: false }],
  ];
  for (const [target, row] of TABLE) {
    test.each(Object.entries(row))(`target=${target}, role %s → %s`, (role, accepted) => {
      expect(roleMatchesTarget(role as ServerRoleName, target)).toBe(accepted);
    });
  }

  test('an unknown role satisfies only target=any', () => {
    expect(roleMatchesTarget(undefined, 'any')).toBe(true);
    expect(roleMatchesTarget(undefined, 'primary')).toBe(false);
    expect(roleMatchesTarget(undefined, 'replica')).toBe(false);
  });
});

describe('role names', () => {
  test('SERVER_INFO role bytes map to names', () => {
    expect([0, 1, 2, 3, 4, 255].map(serverRoleName)).toEqual([
      'STANDALONE',
      'PRIMARY',
      'REPLICA',
      'PRIMARY_CATCHUP',
      undefined,
      undefined,
    ]);
    expect(ServerRole.PRIMARY_CATCHUP).toBe(3);
  });

  test.each([
    ['REPLICA', 'REPLICA'],
    ['primary_catchup', 'PRIMARY_CATCHUP'],
    [' Primary ', 'PRIMARY'],
    ['LEADER', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('X-QuestDB-Role %j → %s', (header, name) => {
    expect(parseRoleHeader(header)).toBe(name);
  });
});

describe('error classification table', () => {
  test.each<[number, string | undefined, AttemptOutcome]>([
    [401, undefined, 'terminal'],
    [403, 'REPLICA', 'terminal'],
    [421, 'PRIMARY_CATCHUP', 'transient-reject'],
    [421, 'REPLICA', 'topology-reject'],
    [421, 'PRIMARY', 'topology-reject'],
    [421, 'STANDALONE', 'topology-reject'],
    [421, undefined, 'transport-error'],
    [421, 'SOMETHING_NEW', 'transport-error'],
    [404, undefined, 'transport-error'],
    [426, undefined, 'transport-error'],
    [503, undefined, 'transport-error'],
    [500, undefined, 'transport-error'],
  ])('HTTP %d with role %s → %s', (status, role, outcome) => {
    expect(classifyUpgradeFailure(status, role)).toBe(outcome);
  });
});
