/**
 * The `ws::` / `wss::` key table: every key an ingest sender reads, its value
 * type, default and bounds; the keys it accepts and ignores (egress, pool);
 * aliases; and hints for keys of the legacy ILP transports.
 */

/** How a key's value is read. */
export type KeySpec =
  | { readonly kind: 'addr' }
  | {
      readonly kind: 'string';
      /** Never printed by the parsed config's toString()/inspect/JSON. */
      readonly secret?: boolean;
      readonly pattern?: RegExp;
      /** What the pattern allows, for the error message. */
      readonly patternText?: string;
      readonly default?: string;
    }
  | {
      readonly kind: 'int';
      readonly min: number;
      /** `off` is accepted and stored as 0 (the trigger is disabled). */
      readonly off?: boolean;
      readonly default: number;
    }
  | {
      readonly kind: 'size';
      readonly min: number;
      readonly off?: boolean;
      /** Undefined when the default depends on other keys. */
      readonly default: number | undefined;
    }
  | { readonly kind: 'bool'; readonly default: boolean }
  | {
      readonly kind: 'enum';
      /** Accepted spelling → canonical value. */
      readonly values: Readonly<Record<string, string>>;
      readonly default: string | undefined;
      /** Values other clients accept that this one refuses, with the reason. */
      readonly refused?: Readonly<Record<string, string>>;
    };

const MS_MAX = Number.MAX_SAFE_INTEGER;
const ERROR_POLICY_VALUES: Readonly<Record<string, string>> = {
  halt: 'halt',
  terminal: 'halt',
  retry: 'retry',
  retriable: 'retry',
  auto: 'auto',
  retriable_other: 'retriable_other',
};
// Some clients parse these keys without acting on them; a connect string
// written for them must not silently lose rows here.
const DROP_REFUSED =
  'drop-and-continue is not offered (QWP NACK policy v2); a rejected frame is never skipped, so choose halt or retry';
const ERROR_POLICY_REFUSED: Readonly<Record<string, string>> = {
  drop: DROP_REFUSED,
  drop_and_continue: DROP_REFUSED,
};

/** Every key the ingest sender interprets, with its type and default. */
export const INGRESS_KEYS: Readonly<Record<string, KeySpec>> = {
  addr: { kind: 'addr' },
  username: { kind: 'string' },
  password: { kind: 'string', secret: true },
  token: { kind: 'string', secret: true },
  auth_timeout_ms: { kind: 'int', min: 1, default: 15_000 },
  connect_timeout: { kind: 'int', min: 1, default: 15_000 },
  tls_verify: { kind: 'enum', values: { on: 'on', unsafe_off: 'unsafe_off' }, default: 'on' },
  tls_roots: { kind: 'string' },
  tls_roots_password: { kind: 'string', secret: true },
  auto_flush: { kind: 'bool', default: true },
  auto_flush_rows: { kind: 'int', min: 0, off: true, default: 1000 },
  auto_flush_interval: { kind: 'int', min: 0, off: true, default: 100 },
  auto_flush_bytes: { kind: 'size', min: 0, off: true, default: 8 * 1024 * 1024 },
  init_buf_size: { kind: 'size', min: 1, default: 64 * 1024 },
  max_buf_size: { kind: 'size', min: 1, default: 100 * 1024 * 1024 },
  max_name_len: { kind: 'int', min: 1, default: 127 },
  sf_dir: { kind: 'string' },
  sender_id: {
    kind: 'string',
    pattern: /^[A-Za-z0-9_-]+$/,
    patternText: "letters, digits, '_' and '-' only (no path separators, '.' or spaces)",
    default: 'default',
  },
  // The spec's vocabulary; what each value does is the sender's (see SfDurability).
  sf_durability: {
    kind: 'enum',
    values: { memory: 'memory', periodic: 'periodic', flush: 'flush', append: 'append' },
    default: 'memory',
  },
  sf_sync_interval_millis: { kind: 'int', min: 1, default: 5000 },
  // A segment must hold its 24-byte header and at least one 8-byte frame header.
  sf_max_bytes: { kind: 'size', min: 32, default: 4 * 1024 * 1024 },
  sf_max_total_bytes: { kind: 'size', min: 1, default: undefined },
  sf_append_deadline_millis: { kind: 'int', min: 0, default: 30_000 },
  drain_orphans: { kind: 'bool', default: false },
  max_background_drainers: { kind: 'int', min: 1, default: 4 },
  reconnect_initial_backoff_millis: { kind: 'int', min: 1, default: 100 },
  reconnect_max_backoff_millis: { kind: 'int', min: 1, default: 5000 },
  reconnect_max_duration_millis: { kind: 'int', min: 0, default: 300_000 },
  initial_connect_retry: {
    kind: 'enum',
    values: { off: 'off', false: 'off', on: 'on', true: 'on', sync: 'on', async: 'async' },
    default: undefined,
  },
  close_flush_timeout_millis: { kind: 'int', min: -MS_MAX, default: 5000 },
  request_durable_ack: { kind: 'bool', default: false },
  durable_ack_keepalive_interval_millis: { kind: 'int', min: -MS_MAX, default: 200 },
  error_inbox_capacity: { kind: 'int', min: 16, default: 256 },
  max_frame_rejections: { kind: 'int', min: 1, default: 4 },
  poison_min_escalation_window_millis: { kind: 'int', min: 0, default: 300_000 },
  lazy_connect: { kind: 'bool', default: false },
  on_server_error: {
    kind: 'enum',
    values: ERROR_POLICY_VALUES,
    refused: ERROR_POLICY_REFUSED,
    default: undefined,
  },
  on_schema_error: {
    kind: 'enum',
    values: ERROR_POLICY_VALUES,
    refused: ERROR_POLICY_REFUSED,
    default: undefined,
  },
  on_parse_error: {
    kind: 'enum',
    values: ERROR_POLICY_VALUES,
    refused: ERROR_POLICY_REFUSED,
    default: undefined,
  },
  on_internal_error: {
    kind: 'enum',
    values: ERROR_POLICY_VALUES,
    refused: ERROR_POLICY_REFUSED,
    default: undefined,
  },
  on_security_error: {
    kind: 'enum',
    values: ERROR_POLICY_VALUES,
    refused: ERROR_POLICY_REFUSED,
    default: undefined,
  },
  on_write_error: {
    kind: 'enum',
    values: ERROR_POLICY_VALUES,
    refused: ERROR_POLICY_REFUSED,
    default: undefined,
  },
};

/**
 * Keys other QuestDB clients read from the same connect string (the egress
 * query client, the connection-pool facade). The ingest sender accepts them
 * without interpreting or validating them, as the connect-string reference
 * requires, so one string can configure both directions.
 */
export const IGNORED_KEYS: ReadonlySet<string> = new Set([
  // egress (query client)
  'target',
  'zone',
  'failover',
  'failover_max_attempts',
  'failover_backoff_initial_ms',
  'failover_backoff_max_ms',
  'failover_max_duration_ms',
  'compression',
  'compression_level',
  'initial_credit',
  'max_batch_rows',
  'buffer_pool_size',
  'client_id',
  // pool facade
  'sender_pool_min',
  'sender_pool_max',
  'query_pool_min',
  'query_pool_max',
  'acquire_timeout_ms',
  'query_close_timeout_ms',
  'idle_timeout_ms',
  'max_lifetime_ms',
  'housekeeper_interval_ms',
]);

/** Alternative spellings, resolved to the canonical key before anything else. */
export const KEY_ALIASES: Readonly<Record<string, string>> = {
  user: 'username',
  pass: 'password',
  sf_max_segment_bytes: 'sf_max_bytes',
};

/** Keys of the legacy ILP transports, rejected on ws/wss with a pointer. */
export const LEGACY_KEY_HINTS: Readonly<Record<string, string>> = {
  retry_timeout: 'use reconnect_max_duration_millis on ws/wss',
  protocol_version: 'QWP negotiates its version during the WebSocket upgrade',
  request_timeout: 'applies to the ILP http/https transports only',
  request_min_throughput: 'applies to the ILP http/https transports only',
  max_datagram_size: 'applies to the udp transport only',
  multicast_ttl: 'applies to the udp transport only',
  bind_interface: 'applies to the ILP tcp transport only',
  token_x: 'applies to the ILP tcp transport only',
  token_y: 'applies to the ILP tcp transport only',
};

/** The schemas this client speaks, mapped to the canonical scheme. */
export const SCHEMAS: Readonly<Record<string, 'ws' | 'wss'>> = {
  ws: 'ws',
  wss: 'wss',
  qwpws: 'ws',
  qwpwss: 'wss',
};

/** Port used for `addr` entries without one; `wss` does not default to 443. */
export const DEFAULT_PORT = 9000;

/** Default `sf_max_total_bytes` when `sf_dir` is set (SF mode). */
export const DEFAULT_SF_MAX_TOTAL_BYTES_DISK = 10 * 1024 ** 3;

/** Default `sf_max_total_bytes` without `sf_dir` (memory mode). */
export const DEFAULT_SF_MAX_TOTAL_BYTES_MEMORY = 128 * 1024 ** 2;
