import { describe, expect, test } from 'vitest';
import { parseConnectString } from '../../src/config/index.js';
import { expectReject } from './helpers.js';

describe('addr', () => {
  test('comma lists and repeated addr keys accumulate in order', () => {
    const c = parseConnectString('ws::addr=node-a:9000,node-b:9001;addr=node-c;addr=10.0.0.4:1;');
    expect(c.addresses).toEqual([
      { host: 'node-a', port: 9000 },
      { host: 'node-b', port: 9001 },
      { host: 'node-c', port: 9000 },
      { host: '10.0.0.4', port: 1 },
    ]);
  });

  test('whitespace around entries is trimmed', () => {
    expect(parseConnectString('ws::addr= a:1 , b ;').addresses).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 9000 },
    ]);
  });

  test('IPv6: bracketed with or without port, bare on the default port', () => {
    const c = parseConnectString('ws::addr=[::1]:9100,[fe80::2],fe80::3;');
    expect(c.addresses).toEqual([
      { host: '::1', port: 9100 },
      { host: 'fe80::2', port: 9000 },
      { host: 'fe80::3', port: 9000 },
    ]);
  });

  test('is required', () => {
    expectReject('ws::username=u;password=p;', 'ERR_QWP_CONFIG_MISSING_KEY', 'addr', /missing/);
    expectReject('ws::', 'ERR_QWP_CONFIG_MISSING_KEY', 'addr');
  });

  test.each([
    ['', /empty/],
    ['a,,b', /empty entry at position 2/],
    [',a', /empty entry at position 1/],
    ['a,', /empty entry at position 2/],
    ['a, ,b', /empty entry/],
    ['a:0', /outside 1-65535/],
    ['a:65536', /outside 1-65535/],
    ['a:', /port '' in entry 'a:'/],
    ['a:http', /port 'http'/],
    ['a:-1', /port '-1'/],
    [':9000', /empty host/],
    ['[::1', /no closing/],
    ['[]:9000', /empty host/],
    ['[::1]9000', /expected ':' after ']'/],
    ['[::1]:x', /port 'x'/],
    ['a b:9000', /whitespace/],
    ['a:9000,b,A:9000', /duplicate entry 'A:9000'/],
    ['a,a:9000', /duplicate entry 'a:9000'/],
  ])('addr=%s is rejected (%s)', (value, problem) => {
    expectReject(`ws::addr=${value};`, 'ERR_QWP_CONFIG_BAD_VALUE', 'addr', problem);
  });

  test('duplicates are found across repeated addr keys', () => {
    expectReject('ws::addr=a:1;addr=b:2,a:1;', 'ERR_QWP_CONFIG_BAD_VALUE', 'addr', /duplicate/);
  });
});
