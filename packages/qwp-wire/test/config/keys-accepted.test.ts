import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import { parseConnectString } from '../../src/config/index.js';
import { IGNORED_KEYS, LEGACY_KEY_HINTS } from '../../src/config/keys.js';
import { expectReject, rejectOf } from './helpers.js';

const BASE = 'ws::addr=h;';

describe('schemas', () => {
  test.each([
    ['ws', 'ws'],
    ['wss', 'wss'],
    ['qwpws', 'ws'],
    ['qwpwss', 'wss'],
  ])('%s:: is %s', (schema, scheme) => {
    expect(parseConnectString(`${schema}::addr=h;`).scheme).toBe(scheme);
  });

  test.each(['http', 'https', 'tcp', 'tcps', 'udp', 'WS', 'constructor'])(
    '%s:: is rejected naming the schema',
    (schema) => {
      const err = rejectOf(`${schema}::addr=h;`);
      expect(err.code).toBe('ERR_QWP_CONFIG_SCHEMA');
      expect(err.message).toContain(`'${schema}'`);
    },
  );

  test('an ILP schema points at the ILP client', () => {
    expect(rejectOf('http::addr=h;').message).toMatch(/ILP/);
  });
});

describe('unknown, ignored, aliased and legacy keys', () => {
  test('an unknown key is rejected naming the key and its position', () => {
    const err = expectReject(
      `${BASE}auto_flush_row=5;`,
      'ERR_QWP_CONFIG_UNKNOWN_KEY',
      'auto_flush_row',
    );
    expect(err.position).toBe(11);
    expect(err.message).toMatch(/unknown key 'auto_flush_row' at position 11/);
  });

  test('keys are case-sensitive', () => {
    expectReject(`${BASE}ADDR=x;`, 'ERR_QWP_CONFIG_UNKNOWN_KEY', 'ADDR');
  });

  test.each(Object.entries(LEGACY_KEY_HINTS))(
    'legacy key %s is rejected with a hint',
    (key, hint) => {
      const err = expectReject(`${BASE}${key}=1;`, 'ERR_QWP_CONFIG_UNKNOWN_KEY', key);
      expect(err.message).toContain(hint);
    },
  );

  test.each([...IGNORED_KEYS])('%s is accepted for other clients and not interpreted', (key) => {
    // A value the query client would reject is still accepted by the sender.
    const c = parseConnectString(`${BASE}${key}=not-validated-here;`);
    expect(c.ignoredKeys).toEqual([key]);
  });

  test('ignored keys are listed in the order written', () => {
    const c = parseConnectString(`${BASE}zone=eu-west-1a;target=replica;failover=off;zone=x;`);
    expect(c.ignoredKeys).toEqual(['zone', 'target', 'failover', 'zone']);
  });

  test('user/pass and sf_max_segment_bytes are aliases', () => {
    const c = parseConnectString(`${BASE}user=u;pass=p;sf_max_segment_bytes=1m;`);
    expect(c.username).toBe('u');
    expect(c.password).toBe('p');
    expect(c.sfMaxBytes).toBe(1024 ** 2);
    expect(String(c)).toContain('username=u;password=***;sf_max_bytes=1m;');
  });

  test('an error on an aliased key names the canonical key', () => {
    expectReject(`${BASE}sf_max_segment_bytes=1z;`, 'ERR_QWP_CONFIG_BAD_VALUE', 'sf_max_bytes');
  });
});

describe('secrets never print', () => {
  const input = 'wss::addr=h;username=admin;password=hunter2;;x;zone=z;';
  const tokenInput = 'wss::addr=h;token=tok-SECRET-123;';

  test('password and token are readable through getters', () => {
    expect(parseConnectString(input).password).toBe('hunter2;x');
    expect(parseConnectString(tokenInput).token).toBe('tok-SECRET-123');
  });

  test.each([
    ['toString', (c: object) => String(c)],
    ['template literal', (c: object) => `${c}`],
    ['util.inspect', (c: object) => inspect(c, { depth: 10, showHidden: true })],
    ['JSON.stringify', (c: object) => JSON.stringify(c)],
    ['Object.entries', (c: object) => JSON.stringify(Object.entries(c))],
  ])('%s hides password and token', (_name, render) => {
    for (const [text, secret] of [
      [input, 'hunter2'],
      [tokenInput, 'tok-SECRET-123'],
    ] as const) {
      const out = render(parseConnectString(text));
      expect(out).not.toContain(secret);
    }
  });

  test('toString is the canonical connect string with secrets masked', () => {
    expect(String(parseConnectString(input))).toBe(
      'wss::addr=h;username=admin;password=***;zone=z;',
    );
    expect(String(parseConnectString('ws::addr=a:1;sender_id=x;sf_dir=/a;;b;'))).toBe(
      'ws::addr=a:1;sender_id=x;sf_dir=/a;;b;',
    );
  });

  test('errors about secret keys do not echo the secret', () => {
    const err = rejectOf('ws::addr=h;token=tok-SECRET;username=u;');
    expect(err.message).not.toContain('tok-SECRET');
    const grammar = rejectOf('ws::addr=h;password=abc\u0001def;');
    expect(grammar.message).not.toContain('abc');
  });
});

describe('contradictory keys', () => {
  test.each([
    ['ws::addr=h;token=t;username=u;password=p;', 'token', /choose one/],
    ['ws::addr=h;username=u;', 'username', /password is missing/],
    ['ws::addr=h;password=p;', 'password', /username is missing/],
    ['ws::addr=h;tls_verify=on;', 'tls_verify', /wss:: only/],
    ['ws::addr=h;tls_roots=/ca.pem;', 'tls_roots', /wss:: only/],
    ['wss::addr=h;tls_roots=/ca.pem;tls_roots_password=x;', 'tls_roots_password', /PEM/],
    [
      'ws::addr=h;reconnect_initial_backoff_millis=500;reconnect_max_backoff_millis=100;',
      'reconnect_max_backoff_millis',
      /below reconnect_initial_backoff_millis 500/,
    ],
    ['ws::addr=h;init_buf_size=2m;max_buf_size=1m;', 'max_buf_size', /below init_buf_size/],
    [
      'ws::addr=h;sf_max_bytes=8m;sf_max_total_bytes=4m;',
      'sf_max_total_bytes',
      /below sf_max_bytes/,
    ],
    ['ws::addr=h;drain_orphans=on;', 'drain_orphans', /needs sf_dir/],
    ['ws::addr=h;sf_durability=periodic;', 'sf_durability', /needs sf_dir/],
    ['ws::addr=h;sf_durability=append;', 'sf_durability', /needs sf_dir/],
    ['ws::addr=h;sf_durability=flush;', 'sf_durability', /needs sf_dir.*no file to sync/],
    [
      'ws::addr=h;sf_dir=/d;sf_durability=flush;sf_sync_interval_millis=9;',
      'sf_sync_interval_millis',
      /periodic/,
    ],
    ['ws::addr=h;sf_dir=/d;sf_sync_interval_millis=100;', 'sf_sync_interval_millis', /periodic/],
  ])('%s is rejected naming %s', (input, key, problem) => {
    expectReject(input, 'ERR_QWP_CONFIG_CONFLICT', key, problem);
  });

  test.each(['memory', 'periodic', 'flush', 'append'])(
    'sf_durability=%s is read with sf_dir (the spec vocabulary)',
    (mode) => {
      expect(parseConnectString(`ws::addr=h;sf_dir=/d;sf_durability=${mode};`).sfDurability).toBe(
        mode,
      );
    },
  );

  test('the same keys are fine together when consistent', () => {
    const c = parseConnectString(
      'wss::addr=h;tls_verify=unsafe_off;tls_roots=/ca.pem;sf_dir=/d;drain_orphans=on;sf_durability=periodic;sf_sync_interval_millis=100;',
    );
    expect([c.tlsVerify, c.drainOrphans, c.sfDurability, c.sfSyncIntervalMs]).toEqual([
      false,
      true,
      'periodic',
      100,
    ]);
    expect(parseConnectString('ws::addr=h;drain_orphans=off;').drainOrphans).toBe(false);
  });
});
