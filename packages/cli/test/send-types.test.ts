import { describe, expect, it } from 'vitest';
import {
  asNanos,
  Instant,
  parseIsoNanos,
  readerFor,
  TypeGuess,
  ValueError,
} from '../src/send/types.js';

function guess(...values: unknown[]): string {
  // JSON values when any is not a string, as NDJSON gives them; text as CSV gives it otherwise.
  const g = new TypeGuess(values.some((v) => typeof v !== 'string'));
  for (const v of values) g.add(v);
  return g.type;
}

describe('type inference', () => {
  it.each([
    [['1', '-2', '+3', ''], 'LONG'],
    [['9223372036854775807'], 'LONG'],
    [['9223372036854775808'], 'DOUBLE'], // past int64
    [['1', '2.5'], 'DOUBLE'],
    [['1e3', '.5', '-7.', 'NaN', 'Infinity', '-inf'], 'DOUBLE'],
    [['true', 'FALSE', 'True'], 'BOOLEAN'],
    [['true', '1'], 'VARCHAR'],
    [
      [
        '2024-01-02',
        '2024-01-02T03:04:05Z',
        '2024-01-02 03:04',
        '2024-01-02T03:04:05.123456+05:30',
      ],
      'TIMESTAMP',
    ],
    [['2024-01-02T03:04:05.1234567Z', '2024-01-02'], 'TIMESTAMP_NANOS'],
    [['2024-02-30'], 'VARCHAR'], // no such day
    [['2024-01-02T24:00:00Z'], 'VARCHAR'],
    [['1', 'x'], 'VARCHAR'],
    [[''], 'VARCHAR'], // nothing to go by
    [[], 'VARCHAR'],
    // JSON values count by their JSON type.
    [[1, 2, null], 'LONG'],
    [[1, 2.5], 'DOUBLE'],
    [[2 ** 60], 'DOUBLE'], // not a safe integer: JSON.parse already rounded it
    [[true, false], 'BOOLEAN'],
    [['12', 13], 'VARCHAR'],
    [['2024-01-02T03:04:05Z', null], 'TIMESTAMP'],
    [[{ a: 1 }], 'VARCHAR'],
  ])('%j -> %s', (values, type) => {
    expect(guess(...(values as unknown[]))).toBe(type);
  });
});

describe('ISO-8601 timestamps', () => {
  it('reads dates, fractions and offsets to the nanosecond', () => {
    expect(parseIsoNanos('1970-01-01')).toBe(0n);
    expect(parseIsoNanos('1970-01-01T00:00:00.000000001Z')).toBe(1n);
    expect(parseIsoNanos('2023-11-14T22:13:20.5')).toBe(1_700_000_000_500_000_000n);
    expect(parseIsoNanos('2023-11-15T00:13:20+02:00')).toBe(1_700_000_000_000_000_000n);
    expect(parseIsoNanos('2023-11-14T21:13:20-0100')).toBe(1_700_000_000_000_000_000n);
    expect(parseIsoNanos('1969-12-31T23:59:59.999999Z')).toBe(-1000n);
    expect(parseIsoNanos('2023-13-01')).toBeUndefined();
    expect(parseIsoNanos('2023-11-14T22:13:20+25:00')).toBeUndefined();
    expect(parseIsoNanos('20231114')).toBeUndefined();
  });

  it('TIMESTAMP rounds down to the microsecond, before 1970 too', () => {
    const read = readerFor('TIMESTAMP', 'us');
    expect(read('1969-12-31T23:59:59.9999995Z')).toBe(-1n);
    expect(read('1970-01-01T00:00:00.0000015Z')).toBe(1n);
    expect(read(new Instant(1_500n))).toBe(1n);
  });

  it('numbers count the unit; text that is neither is refused', () => {
    expect(asNanos('1700000000000', 'ms', 'TIMESTAMP')).toBe(1_700_000_000_000_000_000n);
    expect(asNanos(1.5, 's', 'TIMESTAMP')).toBe(1_500_000_000n);
    expect(asNanos(7n, 'us', 'TIMESTAMP')).toBe(7000n);
    expect(() => asNanos('yesterday', 'us', 'TIMESTAMP')).toThrow(ValueError);
    expect(readerFor('DATE', 'ns')('1000')).toBe(1000); // DATE integers are always milliseconds
  });
});

describe('value readers', () => {
  it('read text and JSON values as the column type, or say why not', () => {
    expect(readerFor('LONG', 'us')('-12')).toBe(-12);
    expect(readerFor('LONG', 'us')('9007199254740993')).toBe(9_007_199_254_740_993n);
    expect(() => readerFor('LONG', 'us')('99999999999999999999')).toThrow(/outside int64/);
    expect(() => readerFor('LONG', 'us')(1.5)).toThrow(/1\.5 is not a LONG/);
    expect(readerFor('DOUBLE', 'us')(' 2.5 ')).toBe(2.5);
    expect(readerFor('DOUBLE', 'us')('-Infinity')).toBe(-Infinity);
    expect(() => readerFor('DOUBLE', 'us')('1,5')).toThrow(/"1,5" is not a DOUBLE/);
    expect(readerFor('BOOLEAN', 'us')('0')).toBe(false);
    expect(() => readerFor('BOOLEAN', 'us')('yes')).toThrow(ValueError);
    expect(readerFor('VARCHAR', 'us')({ a: [1n] })).toBe('{"a":["1"]}');
    expect(() => readerFor('CHAR', 'us')('ab')).toThrow(/not one character/);
  });
});
