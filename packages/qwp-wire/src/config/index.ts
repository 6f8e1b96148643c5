export { type HostAddress, parseAddresses } from './address.js';
export {
  type ConnectStringPair,
  type ConnectStringTokens,
  tokenizeConnectString,
} from './connect-string.js';
export {
  DEFAULT_PORT,
  DEFAULT_SF_MAX_TOTAL_BYTES_DISK,
  DEFAULT_SF_MAX_TOTAL_BYTES_MEMORY,
  IGNORED_KEYS,
  INGRESS_KEYS,
  KEY_ALIASES,
  type KeySpec,
  LEGACY_KEY_HINTS,
  SCHEMAS,
} from './keys.js';
export {
  type ErrorPolicies,
  type ErrorPolicy,
  type InitialConnectRetry,
  parseConnectString,
  SenderConfig,
  type SfDurability,
} from './sender-config.js';
export { parseSize } from './sizes.js';
