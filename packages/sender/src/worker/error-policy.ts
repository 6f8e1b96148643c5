import { Status } from '@qwp/qwp-wire';
import type { PolicyOverrides } from '../shared/messages.js';

/** What a server rejection is about, from its status byte. */
export type ErrorCategory =
  | 'schema'
  | 'parse'
  | 'internal'
  | 'security'
  | 'write'
  | 'not-writable'
  | 'dictionary-gap'
  | 'protocol-violation'
  | 'unknown';

/**
 * What the sender does about a rejection:
 * - `retriable`: a verdict on these bytes that may change (a full disk, a
 *   busy table): reconnect and replay from the acknowledged FSN; counts a
 *   poison strike against the frame.
 * - `retriable-other`: a verdict on the node, not the bytes (a replica, a
 *   demoting primary): reconnect to another endpoint; no strike.
 * - `terminal`: replaying the same bytes can only fail the same way: stop,
 *   keep every frame (on disk in SF mode) for a post-mortem.
 * No policy drops data: the spec's NACK policy v2 removed drop-and-continue.
 */
export type ErrorPolicy = 'retriable' | 'retriable-other' | 'terminal';

/** The category of a status byte; anything a newer server may send is `unknown`. */
export function categoryOf(status: number): ErrorCategory {
  switch (status) {
    case Status.SCHEMA_MISMATCH:
      return 'schema';
    case Status.PARSE_ERROR:
      return 'parse';
    case Status.INTERNAL_ERROR:
      return 'internal';
    case Status.SECURITY_ERROR:
      return 'security';
    case Status.WRITE_ERROR:
      return 'write';
    case Status.NOT_WRITABLE:
      return 'not-writable';
    case Status.DICTIONARY_GAP:
      return 'dictionary-gap';
    default:
      return 'unknown';
  }
}

/** The spec's default policy per category. */
export function defaultPolicy(category: ErrorCategory): ErrorPolicy {
  switch (category) {
    case 'write':
    case 'internal':
    case 'dictionary-gap':
    case 'unknown':
      return 'retriable';
    case 'not-writable':
      return 'retriable-other';
    default:
      return 'terminal';
  }
}

function fromKey(value: string | undefined): ErrorPolicy | undefined {
  switch (value) {
    case 'halt':
      return 'terminal';
    case 'retry':
      return 'retriable';
    case 'retriable_other':
      return 'retriable-other';
    default:
      return undefined; // 'auto' or unset: the next layer decides
  }
}

/**
 * The policy for `category`: its own `on_<category>_error` key, else
 * `on_server_error`, else the default. A protocol violation is always
 * terminal and an unknown status always retriable (a newer server's status
 * must not stop a producer), whatever the keys say; a dictionary gap is
 * always retriable (the reconnect re-registers every symbol) and never
 * counts as poison.
 */
export function policyFor(category: ErrorCategory, overrides: PolicyOverrides): ErrorPolicy {
  if (category === 'protocol-violation') return 'terminal';
  if (category === 'unknown' || category === 'dictionary-gap') return 'retriable';
  const own =
    category === 'not-writable' ? undefined : fromKey(overrides[category as keyof PolicyOverrides]);
  return own ?? fromKey(overrides.server) ?? defaultPolicy(category);
}
