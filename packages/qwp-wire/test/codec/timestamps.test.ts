import { describe, expect, it } from 'vitest';
import {
  ColumnType,
  type DecodedTable,
  decodeMessage,
  FLAG_GORILLA,
  HEADER_SIZE,
  QwpBatch,
  QwpEncoder,
  SymbolDictionary,
  type TableBuffer,
  type TimestampUnit,
} from '../../src/index.js';

/** Fills table 't' through `rows`, encodes it to one frame and decodes it back. */
function roundTrip(rows: (t: TableBuffer) => void, gorilla = true): DecodedTable {
  const batch = new QwpBatch();
  rows(batch.table('t'));
  const frames = new QwpEncoder(batch.symbols, { gorilla }).encode(batch.tables());
  expect(frames).toHaveLength(1);
  return decodeMessage(frames[0]!, new SymbolDictionary()).tables[0]!;
}

function column(table: DecodedTable, name: string) {
  const c = table.columns.find((col) => col.name === name);
  if (c === undefined) throw new Error(`no column '${name}'`);
  return c;
}

describe('at(ts, unit): every unit, number and bigint', () => {
  const N = ColumnType.TIMESTAMP_NANOS;
  const U = ColumnType.TIMESTAMP;
  const cases: [TimestampUnit, number | bigint, number, bigint][] = [
    ['ns', 1_700_000_000_123_456_789n, N, 1_700_000_000_123_456_789n],
    ['ns', 1_700_000_000_123, N, 1_700_000_000_123n],
    ['us', 1_700_000_000_123_456n, U, 1_700_000_000_123_456n],
    ['us', 1_700_000_000_123_456, U, 1_700_000_000_123_456n],
    ['us', -1, U, -1n],
    ['ms', 1_700_000_000_123, U, 1_700_000_000_123_000n],
    ['ms', 1_700_000_000_123n, U, 1_700_000_000_123_000n],
    // The µs value is past 2^53: the number path must switch to exact BigInt.
    ['ms', 9_007_199_254_740, U, 9_007_199_254_740_000n],
    ['s', 1_700_000_000, U, 1_700_000_000_000_000n],
    ['s', 1_700_000_000n, U, 1_700_000_000_000_000n],
    ['s', -2, U, -2_000_000n],
  ];
  for (const [unit, ts, type, want] of cases) {
    it(`${typeof ts} ${ts} ${unit} -> ${ColumnType.TIMESTAMP_NANOS === type ? 'TIMESTAMP_NANOS' : 'TIMESTAMP'} ${want}`, () => {
      const table = roundTrip((t) => t.longColumn('v', 1).at(ts, unit));
      const c = column(table, '');
      expect(c.type).toBe(type);
      expect(c.values).toEqual([want]);
    });
  }

  it('the default unit is µs and a Date is milliseconds', () => {
    const table = roundTrip((t) => {
      t.longColumn('v', 1).at(1_700_000_000_123_456n);
      t.longColumn('v', 2).at(new Date(1_700_000_000_123));
    });
    const c = column(table, '');
    expect(c.type).toBe(ColumnType.TIMESTAMP);
    expect(c.values).toEqual([1_700_000_000_123_456n, 1_700_000_000_123_000n]);
  });

  it('the first row fixes the type; later rows in other units are converted to it', () => {
    const nanos = roundTrip((t) => {
      t.longColumn('v', 1).at(5n, 'ns');
      t.longColumn('v', 2).at(7, 'us');
      t.longColumn('v', 3).at(3n, 'ms');
      t.longColumn('v', 4).at(2, 's');
    });
    expect(column(nanos, '').type).toBe(ColumnType.TIMESTAMP_NANOS);
    expect(column(nanos, '').values).toEqual([5n, 7_000n, 3_000_000n, 2_000_000_000n]);

    // ns into a µs column rounds toward negative infinity, like integer time division.
    const micros = roundTrip((t) => {
      t.longColumn('v', 1).at(1n, 'us');
      t.longColumn('v', 2).at(1_999n, 'ns');
      t.longColumn('v', 3).at(-1_500, 'ns');
      t.longColumn('v', 4).at(-2_000n, 'ns');
    });
    expect(column(micros, '').type).toBe(ColumnType.TIMESTAMP);
    expect(column(micros, '').values).toEqual([1n, 1n, -2n, -2n]);
  });

  it('timestampColumn takes the same units for a non-designated column', () => {
    const table = roundTrip((t) => {
      t.timestampColumn('a', 1_700_000_000_123, 'ms').timestampColumn('b', 9n, 'ns').atNow();
      t.timestampColumn('a', 2n, 's').timestampColumn('b', 4, 'us').atNow();
    });
    expect(column(table, 'a').type).toBe(ColumnType.TIMESTAMP);
    expect(column(table, 'a').values).toEqual([1_700_000_000_123_000n, 2_000_000n]);
    expect(column(table, 'b').type).toBe(ColumnType.TIMESTAMP_NANOS);
    expect(column(table, 'b').values).toEqual([9n, 4_000n]);
  });
});

describe('atNow()', () => {
  it('sends no designated timestamp column when no row has one', () => {
    const table = roundTrip((t) => {
      t.longColumn('v', 1).atNow();
      t.longColumn('v', 2).atNow();
    });
    expect(table.columns.map((c) => c.name)).toEqual(['v']);
    expect(table.rowCount).toBe(2);
  });

  it('is a null designated timestamp in a batch where other rows have one', () => {
    for (const gorilla of [true, false]) {
      const table = roundTrip((t) => {
        t.longColumn('v', 1).at(1_000n, 'us');
        t.longColumn('v', 2).atNow();
        t.longColumn('v', 3).at(3_000n, 'us');
        t.longColumn('v', 4).at(5_000n, 'us');
      }, gorilla);
      const c = column(table, '');
      expect(c.nullFlag).not.toBe(0);
      expect(c.values).toEqual([1_000n, null, 3_000n, 5_000n]);
      expect(column(table, 'v').values).toEqual([1n, 2n, 3n, 4n]);
    }
  });
});

describe('DATE on ingress', () => {
  it('is a plain int64 column with no encoding byte, even under FLAG_GORILLA', () => {
    const batch = new QwpBatch();
    const dates = [1_700_000_000_000, 1_700_000_001_000, 1_700_000_002_000, 1_700_000_003_000];
    for (const d of dates) batch.table('d').dateColumn('x', d).atNow();
    const [frame] = new QwpEncoder(batch.symbols).encode(batch.tables());
    expect(frame![5]! & FLAG_GORILLA).toBe(FLAG_GORILLA);
    // Header, empty delta (start 0, count 0), then: name "d", 4 rows, 1 column,
    // column "x" type DATE, null flag 0, and the four int64 values right after it.
    const block = frame!.subarray(HEADER_SIZE + 2);
    expect([...block.subarray(0, 7)]).toEqual([1, 0x64, 4, 1, 1, 0x78, ColumnType.DATE]);
    expect(block[7]).toBe(0);
    const values = new DataView(block.buffer, block.byteOffset + 8);
    expect(block.length).toBe(8 + dates.length * 8);
    dates.forEach((d, i) => {
      expect(values.getBigInt64(i * 8, true)).toBe(BigInt(d));
    });
    const col = decodeMessage(frame!, new SymbolDictionary()).tables[0]!.columns[0]!;
    expect(col.encoding).toBeUndefined();
    expect(col.values).toEqual(dates.map(BigInt));
  });
});
