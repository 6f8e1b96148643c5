import { describe, expect, test } from 'vitest';
import { parseConnectString } from '../../src/config/index.js';
import { parseSize } from '../../src/config/sizes.js';
import { ConnectStringError } from '../../src/errors.js';
import { expectReject } from './helpers.js';

describe('parseSize', () => {
  test.each([
    ['0', 0],
    ['65536', 65536],
    ['64k', 64 * 1024],
    ['64K', 64 * 1024],
    ['64kb', 64 * 1024],
    ['64kB', 64 * 1024],
    ['4m', 4 * 1024 ** 2],
    ['4MB', 4 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['10Gb', 10 * 1024 ** 3],
    ['1t', 1024 ** 4],
    ['2TB', 2 * 1024 ** 4],
    ['007k', 7 * 1024],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize('sf_max_bytes', text)).toBe(bytes);
  });

  test.each([
    ['4x', /unknown size suffix 'x'/],
    ['4kib', /unknown size suffix 'kib'/],
    ['4p', /unknown size suffix 'p'/],
    // A suffix named like an inherited object member is no multiplier.
    ['4constructor', /unknown size suffix 'constructor'/],
    ['4toString', /unknown size suffix 'toString'/],
    ['4 m', /not a size/],
    ['m', /not a size/],
    ['-4m', /not a size/],
    ['1.5g', /not a size/],
    ['0x10', /not a size/],
    ['8192t', /too large/],
    ['99999999999999999999', /too large/],
  ])('%s is rejected (%s)', (text, problem) => {
    let caught: unknown;
    try {
      parseSize('sf_max_bytes', text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConnectStringError);
    const err = caught as ConnectStringError;
    expect(err.code).toBe('ERR_QWP_CONFIG_BAD_VALUE');
    expect(err.key).toBe('sf_max_bytes');
    expect(err.message).toMatch(/^sf_max_bytes: /);
    expect(err.message).toMatch(problem);
  });

  test('every size key goes through the suffix parser', () => {
    const c = parseConnectString(
      'ws::addr=h;auto_flush_bytes=1k;init_buf_size=2k;max_buf_size=3m;sf_max_bytes=4m;sf_max_total_bytes=5g;',
    );
    expect([
      c.autoFlushBytes,
      c.initBufSize,
      c.maxBufSize,
      c.sfMaxBytes,
      c.sfMaxTotalBytes,
    ]).toEqual([1024, 2048, 3 * 1024 ** 2, 4 * 1024 ** 2, 5 * 1024 ** 3]);
    for (const key of [
      'auto_flush_bytes',
      'init_buf_size',
      'max_buf_size',
      'sf_max_bytes',
      'sf_max_total_bytes',
    ]) {
      expectReject(`ws::addr=h;${key}=1q;`, 'ERR_QWP_CONFIG_BAD_VALUE', key, /suffix 'q'/);
    }
  });
});
