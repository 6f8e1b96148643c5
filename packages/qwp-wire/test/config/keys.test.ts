import { describe, expect, test } from 'vitest';
import { INGRESS_KEYS, parseConnectString, type SenderConfig } from '../../src/config/index.js';
import { expectReject } from './helpers.js';

const BASE = 'ws::addr=localhost:9000;';
const SF = 'sf_dir=/var/lib/qwp;';

/**
 * One row per ingest key: a valid value and where it lands, and an invalid
 * value with the problem the error must name. `prefix` adds keys the value
 * depends on (e.g. wss:: for TLS keys).
 */
interface KeyCase {
  key: string;
  good: string;
  field: keyof SenderConfig;
  expected: unknown;
  bad?: string;
  problem?: RegExp;
  prefix?: string;
}

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const CASES: KeyCase[] = [
  {
    key: 'username',
    good: 'admin;password=x',
    field: 'username',
    expected: 'admin',
    bad: '',
    problem: /empty/,
  },
  {
    key: 'password',
    good: 'p;;w;username=u',
    field: 'password',
    expected: 'p;w',
    bad: '',
    problem: /empty/,
  },
  { key: 'token', good: 'abc', field: 'token', expected: 'abc', bad: '', problem: /empty/ },
  {
    key: 'auth_timeout_ms',
    good: '2500',
    field: 'authTimeoutMs',
    expected: 2500,
    bad: '0',
    problem: /minimum 1/,
  },
  {
    key: 'connect_timeout',
    good: '750',
    field: 'connectTimeoutMs',
    expected: 750,
    bad: '1s',
    problem: /not an integer/,
  },
  {
    key: 'tls_verify',
    good: 'unsafe_off',
    field: 'tlsVerify',
    expected: false,
    bad: 'off',
    problem: /not one of on, unsafe_off/,
    prefix: 'wss::addr=h;',
  },
  {
    key: 'tls_roots',
    good: '/etc/ca.pem',
    field: 'tlsRoots',
    expected: '/etc/ca.pem',
    bad: '',
    problem: /empty/,
    prefix: 'wss::addr=h;',
  },
  {
    key: 'auto_flush',
    good: 'off',
    field: 'autoFlush',
    expected: false,
    bad: 'no',
    problem: /not one of on, off/,
  },
  {
    key: 'auto_flush_rows',
    good: '5000',
    field: 'autoFlushRows',
    expected: 5000,
    bad: '-1',
    problem: /minimum 0/,
  },
  {
    key: 'auto_flush_interval',
    good: 'off',
    field: 'autoFlushIntervalMs',
    expected: 0,
    bad: '1.5',
    problem: /not an integer or 'off'/,
  },
  {
    key: 'auto_flush_bytes',
    good: '2m',
    field: 'autoFlushBytes',
    expected: 2 * MiB,
    bad: '2x',
    problem: /unknown size suffix 'x'/,
  },
  {
    key: 'init_buf_size',
    good: '128k',
    field: 'initBufSize',
    expected: 128 * KiB,
    bad: '0',
    problem: /minimum 1/,
  },
  {
    key: 'max_buf_size',
    good: '1g',
    field: 'maxBufSize',
    expected: GiB,
    bad: 'big',
    problem: /not a size/,
  },
  {
    key: 'max_name_len',
    good: '64',
    field: 'maxNameLen',
    expected: 64,
    bad: '0',
    problem: /minimum 1/,
  },
  {
    key: 'sf_dir',
    good: '/data/sf',
    field: 'sfDir',
    expected: '/data/sf',
    bad: '',
    problem: /empty/,
  },
  {
    key: 'sender_id',
    good: 'ingest-1_A',
    field: 'senderId',
    expected: 'ingest-1_A',
    bad: 'a/b',
    problem: /letters, digits/,
  },
  {
    key: 'sf_durability',
    good: 'flush',
    field: 'sfDurability',
    expected: 'flush',
    bad: 'fsync',
    problem: /not one of memory, periodic, flush, append/,
    prefix: BASE + SF,
  },
  {
    key: 'sf_sync_interval_millis',
    good: '1000;sf_durability=periodic',
    field: 'sfSyncIntervalMs',
    expected: 1000,
    bad: '0',
    problem: /minimum 1/,
    prefix: BASE + SF,
  },
  {
    key: 'sf_max_bytes',
    good: '8M',
    field: 'sfMaxBytes',
    expected: 8 * MiB,
    bad: '16',
    problem: /minimum 32/,
  },
  {
    key: 'sf_max_total_bytes',
    good: '100g',
    field: 'sfMaxTotalBytes',
    expected: 100 * GiB,
    bad: '10 g',
    problem: /not a size/,
  },
  {
    key: 'sf_append_deadline_millis',
    good: '0',
    field: 'sfAppendDeadlineMs',
    expected: 0,
    bad: '-5',
    problem: /minimum 0/,
  },
  {
    key: 'drain_orphans',
    good: 'on',
    field: 'drainOrphans',
    expected: true,
    bad: 'yes',
    problem: /not one of/,
    prefix: BASE + SF,
  },
  {
    key: 'max_background_drainers',
    good: '8',
    field: 'maxBackgroundDrainers',
    expected: 8,
    bad: '0',
    problem: /minimum 1/,
  },
  {
    key: 'reconnect_initial_backoff_millis',
    good: '50',
    field: 'reconnectInitialBackoffMs',
    expected: 50,
    bad: '0',
    problem: /minimum 1/,
  },
  {
    key: 'reconnect_max_backoff_millis',
    good: '10000',
    field: 'reconnectMaxBackoffMs',
    expected: 10_000,
    bad: 'x',
    problem: /not an integer/,
  },
  {
    key: 'reconnect_max_duration_millis',
    good: '120000',
    field: 'reconnectMaxDurationMs',
    expected: 120_000,
    bad: '-1',
    problem: /minimum 0/,
  },
  {
    key: 'initial_connect_retry',
    good: 'sync',
    field: 'initialConnectRetry',
    expected: 'on',
    bad: 'later',
    problem: /not one of off, false, on, true, sync, async/,
  },
  {
    key: 'close_flush_timeout_millis',
    good: '-1',
    field: 'closeFlushTimeoutMs',
    expected: -1,
    bad: '5s',
    problem: /not an integer/,
  },
  {
    key: 'request_durable_ack',
    good: 'on',
    field: 'requestDurableAck',
    expected: true,
    bad: '1',
    problem: /not one of/,
  },
  {
    key: 'durable_ack_keepalive_interval_millis',
    good: '0',
    field: 'durableAckKeepaliveIntervalMs',
    expected: 0,
    bad: 'off',
    problem: /not an integer/,
  },
  {
    key: 'error_inbox_capacity',
    good: '16',
    field: 'errorInboxCapacity',
    expected: 16,
    bad: '15',
    problem: /minimum 16/,
  },
  {
    key: 'max_frame_rejections',
    good: '10',
    field: 'maxFrameRejections',
    expected: 10,
    bad: '0',
    problem: /minimum 1/,
  },
  {
    key: 'poison_min_escalation_window_millis',
    good: '5000',
    field: 'poisonMinEscalationWindowMs',
    expected: 5000,
    bad: '-1',
    problem: /minimum 0/,
  },
  {
    key: 'lazy_connect',
    good: 'true',
    field: 'lazyConnect',
    expected: true,
    bad: 'maybe',
    problem: /not one of/,
  },
  {
    key: 'tls_roots_password',
    good: '',
    field: 'tls',
    expected: true,
    bad: 'secret',
    problem: /PEM/,
    prefix: 'wss::addr=h;',
  },
];

const POLICY_KEYS = [
  ['on_server_error', 'server'],
  ['on_schema_error', 'schema'],
  ['on_parse_error', 'parse'],
  ['on_internal_error', 'internal'],
  ['on_security_error', 'security'],
  ['on_write_error', 'write'],
] as const;

describe('every ingest key', () => {
  test('the case table covers every key of the key table', () => {
    const covered = new Set(['addr', ...CASES.map((c) => c.key), ...POLICY_KEYS.map(([k]) => k)]);
    expect([...Object.keys(INGRESS_KEYS)].filter((k) => !covered.has(k))).toEqual([]);
  });

  test.each(CASES.filter((c) => c.key !== 'tls_roots_password'))(
    '$key=$good is read into $field',
    ({ key, good, field, expected, prefix }) => {
      const config = parseConnectString(`${prefix ?? BASE}${key}=${good};`);
      expect(config[field]).toEqual(expected);
    },
  );

  test.each(CASES.filter((c) => c.bad !== undefined))(
    '$key=$bad is rejected naming the key',
    ({ key, bad, problem, prefix }) => {
      const code =
        key === 'tls_roots_password' ? 'ERR_QWP_CONFIG_CONFLICT' : 'ERR_QWP_CONFIG_BAD_VALUE';
      expectReject(`${prefix ?? BASE}${key}=${bad};`, code, key, problem);
    },
  );

  test.each(POLICY_KEYS)('%s accepts every policy spelling', (key, field) => {
    const spellings: [string, string][] = [
      ['halt', 'halt'],
      ['terminal', 'halt'],
      ['retry', 'retry'],
      ['retriable', 'retry'],
      ['auto', 'auto'],
      ['retriable_other', 'retriable_other'],
    ];
    for (const [written, canonical] of spellings) {
      expect(parseConnectString(`${BASE}${key}=${written};`).errorPolicies[field]).toBe(canonical);
    }
    expect(parseConnectString(BASE).errorPolicies[field]).toBeUndefined();
    // Other clients parse drop; here it is refused with the reason, never ignored.
    for (const drop of ['drop', 'drop_and_continue']) {
      expectReject(`${BASE}${key}=${drop};`, 'ERR_QWP_CONFIG_BAD_VALUE', key, /never skipped/);
    }
    expectReject(`${BASE}${key}=skip;`, 'ERR_QWP_CONFIG_BAD_VALUE', key, /not one of halt/);
  });

  test.each([
    ['initial_connect_retry', 'off', 'off'],
    ['initial_connect_retry', 'false', 'off'],
    ['initial_connect_retry', 'on', 'on'],
    ['initial_connect_retry', 'true', 'on'],
    ['initial_connect_retry', 'sync', 'on'],
    ['initial_connect_retry', 'async', 'async'],
  ])('%s=%s resolves to %s', (key, written, expected) => {
    expect(parseConnectString(`${BASE}${key}=${written};`).initialConnectRetry).toBe(expected);
  });

  test('an integer beyond 2^53-1 is rejected, not rounded', () => {
    expectReject(
      `${BASE}sf_append_deadline_millis=9007199254740993;`,
      'ERR_QWP_CONFIG_BAD_VALUE',
      'sf_append_deadline_millis',
      /safe integer range/,
    );
  });

  test('enum values are case-sensitive and do not match object prototype names', () => {
    expectReject(`${BASE}auto_flush=ON;`, 'ERR_QWP_CONFIG_BAD_VALUE', 'auto_flush');
    expectReject(`${BASE}sf_durability=toString;`, 'ERR_QWP_CONFIG_BAD_VALUE', 'sf_durability');
  });
});

describe('defaults from the spec', () => {
  test('a minimal ws string resolves every key to its documented default', () => {
    const c = parseConnectString('ws::addr=localhost;');
    expect(c).toMatchObject({
      scheme: 'ws',
      tls: false,
      addresses: [{ host: 'localhost', port: 9000 }],
      username: undefined,
      authTimeoutMs: 15_000,
      connectTimeoutMs: 15_000,
      tlsVerify: true,
      tlsRoots: undefined,
      autoFlush: true,
      autoFlushRows: 1000,
      autoFlushIntervalMs: 100,
      autoFlushBytes: 8 * MiB,
      initBufSize: 64 * KiB,
      maxBufSize: 100 * MiB,
      maxNameLen: 127,
      sfDir: undefined,
      senderId: 'default',
      sfDurability: 'memory',
      sfSyncIntervalMs: 5000,
      sfMaxBytes: 4 * MiB,
      sfMaxTotalBytes: 128 * MiB,
      sfAppendDeadlineMs: 30_000,
      drainOrphans: false,
      maxBackgroundDrainers: 4,
      reconnectInitialBackoffMs: 100,
      reconnectMaxBackoffMs: 5000,
      reconnectMaxDurationMs: 300_000,
      initialConnectRetry: 'off',
      closeFlushTimeoutMs: 5000,
      requestDurableAck: false,
      durableAckKeepaliveIntervalMs: 200,
      errorInboxCapacity: 256,
      maxFrameRejections: 4,
      poisonMinEscalationWindowMs: 300_000,
      lazyConnect: false,
      ignoredKeys: [],
    });
    expect(c.password).toBeUndefined();
    expect(c.token).toBeUndefined();
    expect(c.storeAndForward).toBe(false);
  });

  test('sf_max_total_bytes defaults to 10 GiB once sf_dir is set', () => {
    const c = parseConnectString(`${BASE}${SF}`);
    expect(c.sfMaxTotalBytes).toBe(10 * GiB);
    expect(c.storeAndForward).toBe(true);
  });

  test('wss keeps the default port 9000, not 443', () => {
    const c = parseConnectString('wss::addr=db.example.com;');
    expect(c.scheme).toBe('wss');
    expect(c.tls).toBe(true);
    expect(c.addresses).toEqual([{ host: 'db.example.com', port: 9000 }]);
  });

  test('auto_flush=off turns every trigger off', () => {
    const c = parseConnectString(`${BASE}auto_flush=off;auto_flush_rows=10;`);
    expect([c.autoFlushRows, c.autoFlushIntervalMs, c.autoFlushBytes]).toEqual([0, 0, 0]);
  });

  test('off and 0 both disable a trigger', () => {
    expect(parseConnectString(`${BASE}auto_flush_rows=off;`).autoFlushRows).toBe(0);
    expect(parseConnectString(`${BASE}auto_flush_rows=0;`).autoFlushRows).toBe(0);
    expect(parseConnectString(`${BASE}auto_flush_bytes=off;`).autoFlushBytes).toBe(0);
  });

  test('the parsed config is frozen', () => {
    const c = parseConnectString(BASE);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.addresses)).toBe(true);
    expect(Object.isFrozen(c.addresses[0])).toBe(true);
    expect(Object.isFrozen(c.errorPolicies)).toBe(true);
    expect(() => {
      (c as { authTimeoutMs: number }).authTimeoutMs = 1;
    }).toThrow(TypeError);
  });

  test('a repeated single-valued key keeps the last value', () => {
    expect(parseConnectString(`${BASE}auto_flush_rows=1;auto_flush_rows=2;`).autoFlushRows).toBe(2);
  });
});

describe('initial_connect_retry resolution', () => {
  test.each([
    ['reconnect_initial_backoff_millis=200;', 'on'],
    ['reconnect_max_backoff_millis=9000;', 'on'],
    ['reconnect_max_duration_millis=120000;', 'on'],
    ['reconnect_max_duration_millis=120000;initial_connect_retry=off;', 'off'],
    ['initial_connect_retry=off;reconnect_max_duration_millis=120000;', 'off'],
    ['reconnect_max_duration_millis=1;initial_connect_retry=async;', 'async'],
    ['lazy_connect=on;', 'async'],
    ['lazy_connect=on;initial_connect_retry=async;', 'async'],
    ['lazy_connect=off;reconnect_max_duration_millis=1;', 'on'],
    ['', 'off'],
  ])('%s → %s', (keys, expected) => {
    expect(parseConnectString(`${BASE}${keys}`).initialConnectRetry).toBe(expected);
  });

  test('lazy_connect=on contradicts an explicit blocking mode', () => {
    expectReject(
      `${BASE}lazy_connect=on;initial_connect_retry=on;`,
      'ERR_QWP_CONFIG_CONFLICT',
      'initial_connect_retry',
      /lazy_connect/,
    );
  });
});
