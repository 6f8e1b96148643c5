import { ConnectStringError } from '../errors.js';
import { type HostAddress, parseAddresses } from './address.js';
import { tokenizeConnectString } from './connect-string.js';
import {
  DEFAULT_PORT,
  DEFAULT_SF_MAX_TOTAL_BYTES_DISK,
  DEFAULT_SF_MAX_TOTAL_BYTES_MEMORY,
  IGNORED_KEYS,
  INGRESS_KEYS,
  KEY_ALIASES,
  LEGACY_KEY_HINTS,
  SCHEMAS,
} from './keys.js';
import { ResolvedKeys } from './resolved-keys.js';
import { readValue } from './values.js';

/** `initial_connect_retry`: fail fast, retry blocking, or retry in the background. */
export type InitialConnectRetry = 'off' | 'on' | 'async';
/**
 * `sf_durability`: when stored frames are synced to stable storage.
 * `memory` never (the page cache: a process crash loses nothing in SF mode,
 * a host crash may); `periodic` in the background every
 * `sf_sync_interval_millis`; `flush` before `flush()` (and the closing
 * flush) resolves; `append` after every frame appended (the spec's meaning;
 * the reference clients refuse it at build time). All but `memory` need
 * `sf_dir`.
 */
export type SfDurability = 'memory' | 'periodic' | 'flush' | 'append';
/** Canonical values of the reserved `on_*_error` policy keys. */
export type ErrorPolicy = 'halt' | 'retry' | 'auto' | 'retriable_other';

/** Per-category error policies; undefined means the sender's default for that category. */
export interface ErrorPolicies {
  readonly server: ErrorPolicy | undefined;
  readonly schema: ErrorPolicy | undefined;
  readonly parse: ErrorPolicy | undefined;
  readonly internal: ErrorPolicy | undefined;
  readonly security: ErrorPolicy | undefined;
  readonly write: ErrorPolicy | undefined;
}

const SECRET = '***';

function escapeValue(value: string): string {
  return value.replaceAll(';', ';;');
}

function conflict(key: string, message: string): ConnectStringError {
  return new ConnectStringError('ERR_QWP_CONFIG_CONFLICT', `${key}: ${message}`, { key });
}

/**
 * The typed, frozen configuration of an ingest sender, parsed from a `ws::`
 * or `wss::` connect string with every key resolved to its default. Sizes are
 * bytes, durations milliseconds; a trigger set to `off` is 0. Passwords and
 * tokens are readable through their getters but never appear in toString(),
 * util.inspect() or JSON.stringify().
 */
export class SenderConfig {
  readonly scheme: 'ws' | 'wss';
  /** True for `wss`. */
  readonly tls: boolean;
  readonly addresses: readonly HostAddress[];
  readonly username: string | undefined;
  readonly authTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly tlsVerify: boolean;
  readonly tlsRoots: string | undefined;
  readonly autoFlush: boolean;
  /** 0: row-count trigger off (also 0 for every trigger when autoFlush is false). */
  readonly autoFlushRows: number;
  /** 0: interval trigger off. */
  readonly autoFlushIntervalMs: number;
  /** 0: byte-size trigger off. */
  readonly autoFlushBytes: number;
  readonly initBufSize: number;
  readonly maxBufSize: number;
  readonly maxNameLen: number;
  /** Set: store-and-forward on disk; unset: memory mode. */
  readonly sfDir: string | undefined;
  readonly senderId: string;
  readonly sfDurability: SfDurability;
  readonly sfSyncIntervalMs: number;
  readonly sfMaxBytes: number;
  readonly sfMaxTotalBytes: number;
  readonly sfAppendDeadlineMs: number;
  readonly drainOrphans: boolean;
  readonly maxBackgroundDrainers: number;
  readonly reconnectInitialBackoffMs: number;
  readonly reconnectMaxBackoffMs: number;
  readonly reconnectMaxDurationMs: number;
  /** Resolved: explicit value, else `async` for lazy_connect, else `on` if any reconnect_* key is set, else `off`. */
  readonly initialConnectRetry: InitialConnectRetry;
  /** ≤ 0: close() does not wait for ACKs. */
  readonly closeFlushTimeoutMs: number;
  readonly requestDurableAck: boolean;
  /** ≤ 0: no keepalive PINGs. */
  readonly durableAckKeepaliveIntervalMs: number;
  readonly errorInboxCapacity: number;
  readonly maxFrameRejections: number;
  readonly poisonMinEscalationWindowMs: number;
  readonly lazyConnect: boolean;
  readonly errorPolicies: ErrorPolicies;
  /** Keys accepted for other clients (egress, pool) and not interpreted here, in order. */
  readonly ignoredKeys: readonly string[];
  readonly #password: string | undefined;
  readonly #token: string | undefined;
  readonly #redacted: string;

  /**
   * Made by {@link parseConnectString}, which validates every key first; not for direct use.
   * @hidden
   */
  constructor(
    scheme: 'ws' | 'wss',
    keys: ResolvedKeys,
    ignoredKeys: readonly string[],
    redacted: string,
  ) {
    this.scheme = scheme;
    this.#redacted = redacted;
    this.tls = scheme === 'wss';
    this.addresses = Object.freeze(parseAddresses(keys.addr, DEFAULT_PORT));
    this.username = keys.opt('username');
    this.#password = keys.opt('password');
    this.#token = keys.opt('token');
    this.authTimeoutMs = keys.num('auth_timeout_ms');
    this.connectTimeoutMs = keys.num('connect_timeout');
    this.tlsVerify = keys.str('tls_verify') === 'on';
    this.tlsRoots = keys.opt('tls_roots');
    this.autoFlush = keys.bool('auto_flush');
    this.autoFlushRows = this.autoFlush ? keys.num('auto_flush_rows') : 0;
    this.autoFlushIntervalMs = this.autoFlush ? keys.num('auto_flush_interval') : 0;
    this.autoFlushBytes = this.autoFlush ? keys.num('auto_flush_bytes') : 0;
    this.initBufSize = keys.num('init_buf_size');
    this.maxBufSize = keys.num('max_buf_size');
    this.maxNameLen = keys.num('max_name_len');
    this.sfDir = keys.opt('sf_dir');
    this.senderId = keys.str('sender_id');
    this.sfDurability = keys.str('sf_durability') as SfDurability;
    this.sfSyncIntervalMs = keys.num('sf_sync_interval_millis');
    this.sfMaxBytes = keys.num('sf_max_bytes');
    this.sfMaxTotalBytes = keys.has('sf_max_total_bytes')
      ? keys.num('sf_max_total_bytes')
      : this.sfDir === undefined
        ? DEFAULT_SF_MAX_TOTAL_BYTES_MEMORY
        : DEFAULT_SF_MAX_TOTAL_BYTES_DISK;
    this.sfAppendDeadlineMs = keys.num('sf_append_deadline_millis');
    this.drainOrphans = keys.bool('drain_orphans');
    this.maxBackgroundDrainers = keys.num('max_background_drainers');
    this.reconnectInitialBackoffMs = keys.num('reconnect_initial_backoff_millis');
    this.reconnectMaxBackoffMs = keys.num('reconnect_max_backoff_millis');
    this.reconnectMaxDurationMs = keys.num('reconnect_max_duration_millis');
    this.lazyConnect = keys.bool('lazy_connect');
    this.initialConnectRetry = resolveInitialConnectRetry(keys, this.lazyConnect);
    this.closeFlushTimeoutMs = keys.num('close_flush_timeout_millis');
    this.requestDurableAck = keys.bool('request_durable_ack');
    this.durableAckKeepaliveIntervalMs = keys.num('durable_ack_keepalive_interval_millis');
    this.errorInboxCapacity = keys.num('error_inbox_capacity');
    this.maxFrameRejections = keys.num('max_frame_rejections');
    this.poisonMinEscalationWindowMs = keys.num('poison_min_escalation_window_millis');
    this.errorPolicies = Object.freeze({
      server: keys.opt('on_server_error') as ErrorPolicy | undefined,
      schema: keys.opt('on_schema_error') as ErrorPolicy | undefined,
      parse: keys.opt('on_parse_error') as ErrorPolicy | undefined,
      internal: keys.opt('on_internal_error') as ErrorPolicy | undefined,
      security: keys.opt('on_security_error') as ErrorPolicy | undefined,
      write: keys.opt('on_write_error') as ErrorPolicy | undefined,
    });
    this.ignoredKeys = Object.freeze([...ignoredKeys]);
    this.#checkCombinations(keys);
    Object.freeze(this);
  }

  /** Basic-auth password, if any. Never printed. */
  get password(): string | undefined {
    return this.#password;
  }

  /** Bearer token, if any. Never printed. */
  get token(): string | undefined {
    return this.#token;
  }

  /** True when `sf_dir` is set (frames persist on disk). */
  get storeAndForward(): boolean {
    return this.sfDir !== undefined;
  }

  #checkCombinations(keys: ResolvedKeys): void {
    if (
      this.#token !== undefined &&
      (this.username !== undefined || this.#password !== undefined)
    ) {
      throw conflict('token', 'cannot be combined with username/password (choose one auth method)');
    }
    if (this.username !== undefined && this.#password === undefined) {
      throw conflict('username', 'is set but password is missing');
    }
    if (this.#password !== undefined && this.username === undefined) {
      throw conflict('password', 'is set but username is missing');
    }
    if (!this.tls) {
      for (const key of ['tls_verify', 'tls_roots']) {
        if (keys.has(key)) {
          throw conflict(key, 'applies to wss:: only; this connect string uses ws:: (no TLS)');
        }
      }
    }
    if (keys.has('tls_roots_password')) {
      throw conflict(
        'tls_roots_password',
        'is not supported: this client reads tls_roots as a PEM file, which has no password',
      );
    }
    if (this.reconnectMaxBackoffMs < this.reconnectInitialBackoffMs) {
      throw conflict(
        'reconnect_max_backoff_millis',
        `${this.reconnectMaxBackoffMs} is below reconnect_initial_backoff_millis ${this.reconnectInitialBackoffMs}`,
      );
    }
    if (this.maxBufSize < this.initBufSize) {
      throw conflict(
        'max_buf_size',
        `${this.maxBufSize} is below init_buf_size ${this.initBufSize}`,
      );
    }
    if (this.sfMaxTotalBytes < this.sfMaxBytes) {
      throw conflict(
        'sf_max_total_bytes',
        `${this.sfMaxTotalBytes} is below sf_max_bytes ${this.sfMaxBytes} (one segment)`,
      );
    }
    if (this.sfDir === undefined) {
      if (this.drainOrphans) {
        throw conflict('drain_orphans', 'on needs sf_dir (orphan slots live on disk)');
      }
      if (this.sfDurability !== 'memory') {
        throw conflict(
          'sf_durability',
          `'${this.sfDurability}' needs sf_dir (without it frames live in process memory, with no file to sync)`,
        );
      }
    }
    if (keys.has('sf_sync_interval_millis') && this.sfDurability !== 'periodic') {
      throw conflict('sf_sync_interval_millis', 'applies only with sf_durability=periodic');
    }
  }

  /** The connect string as written (canonical key names), every secret replaced by `***`. */
  toString(): string {
    return this.#redacted;
  }
}

function resolveInitialConnectRetry(keys: ResolvedKeys, lazyConnect: boolean): InitialConnectRetry {
  const explicit = keys.opt('initial_connect_retry') as InitialConnectRetry | undefined;
  if (lazyConnect) {
    if (explicit !== undefined && explicit !== 'async') {
      throw conflict(
        'initial_connect_retry',
        `'${explicit}' contradicts lazy_connect=on (which starts the sender in the background)`,
      );
    }
    return 'async';
  }
  if (explicit !== undefined) {
    return explicit;
  }
  // The spec's implicit promotion: tuning the reconnect loop also retries the first connect.
  for (const key of [
    'reconnect_initial_backoff_millis',
    'reconnect_max_backoff_millis',
    'reconnect_max_duration_millis',
  ]) {
    if (keys.has(key)) {
      return 'on';
    }
  }
  return 'off';
}

/**
 * Parses a `ws::` / `wss::` (or `qwpws::` / `qwpwss::`) connect string into a
 * frozen {@link SenderConfig}. Unknown keys, bad values, bad size suffixes,
 * an invalid sender_id, empty addr entries and contradictory keys throw a
 * {@link ConnectStringError} naming the key.
 * @param connectString e.g. `ws::addr=localhost:9000;sf_dir=/var/lib/app;`
 */
export function parseConnectString(connectString: string): SenderConfig {
  const tokens = tokenizeConnectString(connectString);
  const scheme = SCHEMAS[tokens.schema];
  if (scheme === undefined || !Object.hasOwn(SCHEMAS, tokens.schema)) {
    throw new ConnectStringError(
      'ERR_QWP_CONFIG_SCHEMA',
      `schema '${tokens.schema}' is not supported: this client speaks QWP over WebSocket (ws::, wss::)` +
        (/^(https?|tcps?|udp)$/.test(tokens.schema)
          ? '; ILP transports are served by @questdb/nodejs-client'
          : ''),
      { position: 0 },
    );
  }
  const keys = new ResolvedKeys();
  const ignored: string[] = [];
  const shown: string[] = [];
  for (const pair of tokens.pairs) {
    const key = Object.hasOwn(KEY_ALIASES, pair.key) ? KEY_ALIASES[pair.key]! : pair.key;
    const spec = Object.hasOwn(INGRESS_KEYS, key) ? INGRESS_KEYS[key] : undefined;
    if (spec === undefined) {
      if (IGNORED_KEYS.has(key)) {
        ignored.push(key);
        shown.push(`${key}=${escapeValue(pair.value)};`);
        continue;
      }
      const hint = Object.hasOwn(LEGACY_KEY_HINTS, key) ? ` (${LEGACY_KEY_HINTS[key]})` : '';
      throw new ConnectStringError(
        'ERR_QWP_CONFIG_UNKNOWN_KEY',
        `unknown key '${pair.key}' at position ${pair.position}${hint}`,
        { key: pair.key, position: pair.position },
      );
    }
    const secret = spec.kind === 'string' && spec.secret === true;
    shown.push(`${key}=${secret ? SECRET : escapeValue(pair.value)};`);
    if (spec.kind === 'addr') {
      keys.addr.push(pair.value);
      continue;
    }
    // Last write wins for single-valued keys, as in the reference client.
    keys.set(key, readValue(key, spec, pair.value));
  }
  if (keys.addr.length === 0) {
    throw new ConnectStringError(
      'ERR_QWP_CONFIG_MISSING_KEY',
      'addr: missing (expected e.g. addr=localhost:9000)',
      { key: 'addr' },
    );
  }
  return new SenderConfig(scheme, keys, ignored, `${scheme}::${shown.join('')}`);
}
