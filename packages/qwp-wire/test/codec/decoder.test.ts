import { describe, expect, it } from 'vitest';
import {
  ColumnType,
  decodeMessage,
  QwpDecodeError,
  Status,
  SymbolDictionary,
  tableRows,
} from '../../src/index.js';
import { withHeader } from './frames.js';
import { hex } from './hex.js';
import { NULLABLE_VARCHAR_COLUMN, SENSORS_GORILLA, SENSORS_PLAIN } from './spec-examples.js';

function message(flags: number, payload: Uint8Array, tableCount = 1): Uint8Array {
  return withHeader(flags, tableCount, payload);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

function rejects(bytes: Uint8Array, dict: SymbolDictionary | null = null): QwpDecodeError {
  try {
    decodeMessage(bytes, dict);
  } catch (err) {
    expect(err).toBeInstanceOf(QwpDecodeError);
    return err as QwpDecodeError;
  }
  throw new Error('expected a QwpDecodeError');
}

describe('decodeMessage: spec examples', () => {
  it('decodes "single table with three columns"', () => {
    const msg = decodeMessage(SENSORS_PLAIN, new SymbolDictionary());
    expect(msg.header).toEqual({ version: 1, flags: 0, tableCount: 1, payloadLength: 74 });
    expect(msg.symbolDelta).toBeNull();
    const [t] = msg.tables;
    expect(t!.name).toBe('sensors');
    expect(t!.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', ColumnType.LONG],
      ['value', ColumnType.DOUBLE],
      ['', ColumnType.TIMESTAMP],
    ]);
    expect(tableRows(t!)).toEqual([
      { id: 1n, value: 1.3, '': 10000000000n },
      { id: 2n, value: 2.2, '': 400000n },
    ]);
  });

  it('decodes the nullable VARCHAR column example', () => {
    const payload = concat(hex('01 74  04 01  01 76 0F'), NULLABLE_VARCHAR_COLUMN);
    const msg = decodeMessage(message(0, payload), null);
    expect(msg.tables[0]!.columns[0]!.values).toEqual(['foo', null, 'bar', 'baz']);
  });

  it('decodes the Gorilla + delta dictionary example and applies the delta', () => {
    const dict = new SymbolDictionary();
    const msg = decodeMessage(SENSORS_GORILLA, dict);
    expect(msg.symbolDelta).toEqual({ start: 0, entries: ['server1', 'server2'] });
    expect(dict.entries).toEqual(['server1', 'server2']);
    expect(tableRows(msg.tables[0]!)).toEqual([
      { host: 'server1', temp: 91.6, '': 1000000n },
      { host: 'server2', temp: 92.4, '': 2000000n },
    ]);
    expect(msg.tables[0]!.columns[2]!.encoding).toBe(1);
  });
});

describe('decodeMessage: rejections', () => {
  it('rejects bad magic, version, reserved flags and length mismatches', () => {
    const bad = SENSORS_PLAIN.slice();
    bad[0] = 0x50;
    expect(rejects(bad).offset).toBe(0);
    const v2 = SENSORS_PLAIN.slice();
    v2[4] = 2;
    expect(rejects(v2).reason).toMatch(/version 2/);
    for (const flag of [0x02, 0x10, 0x80]) {
      const f = SENSORS_PLAIN.slice();
      f[5] = flag;
      expect(rejects(f).reason).toMatch(/reserved flag/);
    }
    expect(rejects(SENSORS_PLAIN.subarray(0, 40)).reason).toMatch(/payload length/);
    expect(rejects(concat(SENSORS_PLAIN, hex('00'))).reason).toMatch(/follow the declared/);
    expect(rejects(SENSORS_PLAIN.subarray(0, 5)).status).toBe(Status.PARSE_ERROR);
  });

  it('rejects a delta that starts past the dictionary with DICTIONARY_GAP', () => {
    const gap = SENSORS_GORILLA.slice();
    gap[12] = 5;
    const dict = new SymbolDictionary();
    const err = rejects(gap, dict);
    expect(err.status).toBe(Status.DICTIONARY_GAP);
    expect(err.offset).toBe(12);
    expect(dict.size).toBe(0);
  });

  it('leaves the dictionary untouched when a later part of the message is bad', () => {
    const broken = SENSORS_GORILLA.slice(0, SENSORS_GORILLA.length - 1);
    new DataView(broken.buffer).setUint32(8, broken.length - 12, true);
    const dict = new SymbolDictionary();
    expect(rejects(broken, dict).reason).toMatch(/truncated/);
    expect(dict.size).toBe(0);
  });

  it('accepts an overlapping delta and overwrites', () => {
    const dict = new SymbolDictionary();
    dict.apply(0, ['old0', 'old1', 'old2']);
    decodeMessage(SENSORS_GORILLA, dict);
    expect(dict.entries).toEqual(['server1', 'server2', 'old2']);
  });

  it('rejects the unassigned type code 0x08', () => {
    const payload = hex('01 74  01 01  01 76 08  00 00');
    const err = rejects(message(0, payload));
    expect(err.reason).toMatch(/unknown type code 0x8/);
    expect(err.offset).toBe(12 + 6);
  });
});
