/**
 * The connect string: `parseConnectString('ws::addr=...;')` gives a frozen
 * {@link SenderConfig} with every ingest key resolved to its documented
 * default; `tokenizeConnectString` is the grammar layer alone. Every
 * rejection is a {@link ConnectStringError}. {@link INGRESS_KEYS} lists the
 * keys with their types, bounds and defaults.
 *
 * @module config
 */

export { ConnectStringError, type ConnectStringErrorCode, QwpError } from '../errors.js';
export type { HostAddress } from './address.js';
export {
  type ConnectStringPair,
  type ConnectStringTokens,
  tokenizeConnectString,
} from './connect-string.js';
export { DEFAULT_PORT, INGRESS_KEYS, type KeySpec } from './keys.js';
export {
  type ErrorPolicies,
  type ErrorPolicy,
  type InitialConnectRetry,
  parseConnectString,
  SenderConfig,
  type SfDurability,
} from './sender-config.js';
