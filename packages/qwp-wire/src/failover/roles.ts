/** Server roles as SERVER_INFO encodes them (u8) and as `X-QuestDB-Role` names them. */
export const ServerRole = {
  STANDALONE: 0,
  PRIMARY: 1,
  REPLICA: 2,
  PRIMARY_CATCHUP: 3,
} as const;

/** A role value from SERVER_INFO. Values above 3 are carried through as unknown. */
export type ServerRoleValue = number;

/** The recognised role names. */
export type ServerRoleName = keyof typeof ServerRole;

/** The `target=` role filter. */
export type RoleTarget = 'any' | 'primary' | 'replica';

// Indexed by role value, derived from ServerRole so the two cannot drift apart.
const NAMES: ServerRoleName[] = [];
for (const [name, value] of Object.entries(ServerRole)) NAMES[value] = name as ServerRoleName;

/**
 * Name of a SERVER_INFO role byte, or undefined for a value this client does
 * not know.
 * @param role the role byte
 */
export function serverRoleName(role: ServerRoleValue): ServerRoleName | undefined {
  return NAMES[role];
}

/**
 * Parses an `X-QuestDB-Role` header value; undefined when absent or not a
 * recognised role (the caller then treats a 421 as a transport error).
 * @param header the header value, any case
 */
export function parseRoleHeader(header: string | undefined): ServerRoleName | undefined {
  if (header === undefined) {
    return undefined;
  }
  const name = header.trim().toUpperCase();
  return (NAMES as readonly string[]).includes(name) ? (name as ServerRoleName) : undefined;
}

/**
 * Whether a server in `role` satisfies the `target=` filter, per the role
 * filter table of the client-failover spec: `any` takes every role;
 * `primary` takes STANDALONE, PRIMARY and PRIMARY_CATCHUP (a promoted
 * primary still catching up behaves like a primary); `replica` takes only
 * REPLICA. An unknown role satisfies only `any`.
 * @param role role name from SERVER_INFO or `X-QuestDB-Role`
 * @param target the configured filter
 */
export function roleMatchesTarget(role: ServerRoleName | undefined, target: RoleTarget): boolean {
  switch (target) {
    case 'any':
      return true;
    case 'primary':
      return role === 'STANDALONE' || role === 'PRIMARY' || role === 'PRIMARY_CATCHUP';
    case 'replica':
      return role === 'REPLICA';
  }
}
