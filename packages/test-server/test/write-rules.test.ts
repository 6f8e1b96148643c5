import { ColumnType, type DecodedColumn, type DecodedMessage, Status } from '@qwp/qwp-wire/codec';
import { describe, expect, it } from 'vitest';
import { FrameRejectedError } from '../src/errors.js';
import { PendingTxn, type Row, RowStore, type RowStoreOptions } from '../src/row-store.js';

const C = ColumnType;

type Col = Omit<DecodedColumn, 'nullFlag'>;

function block(name: string, rowCount: number, columns: Col[]) {
  return { name, rowCount, columns: columns.map((c) => ({ nullFlag: 0, ...c })) };
}

function msg(...tables: ReturnType<typeof block>[]): DecodedMessage {
  return {
    header: { version: 1, flags: 0, tableCount: tables.length, payloadLength: 0 },
    symbolDelta: null,
    tables,
  };
}

/** Stages and commits `m`; returns the error the store threw (after a rollback, as a connection does), or null. */
function write(store: RowStore, m: DecodedMessage): FrameRejectedError | null {
  const txn = new PendingTxn();
  try {
    store.stage(m, txn);
  } catch (err) {
    if (err instanceof FrameRejectedError) {
      txn.clear();
      return err;
    }
    throw err;
  }
  store.commit(txn);
  return null;
}

/** The reason `m` is refused with `status`. */
function refusal(store: RowStore, m: DecodedMessage, status: number): string {
  const err = write(store, m);
  expect(err).not.toBeNull();
  expect(err?.status).toBe(status);
  return err?.reason ?? '';
}

const writeError = (store: RowStore, m: DecodedMessage) => refusal(store, m, Status.WRITE_ERROR);
const schemaMismatch = (store: RowStore, m: DecodedMessage) =>
  refusal(store, m, Status.SCHEMA_MISMATCH);

/** A store holding table `t` with one column `v` of `type` (created as SQL would, with a timestamp). */
function storeWith(
  type: number,
  extra: Partial<{ scale: number }> = {},
  options?: RowStoreOptions,
) {
  const store = new RowStore(options);
  store.createTable(
    't',
    [
      { name: 'v', type, ...extra },
      { name: 'timestamp', type: C.TIMESTAMP },
    ],
    'timestamp',
  );
  return store;
}

const one = (type: number, value: unknown, more: Partial<Col> = {}) =>
  msg(block('t', 1, [{ name: 'v', type: type as Col['type'], values: [value as never], ...more }]));

const stored = (store: RowStore): unknown => store.rows('t').at(-1)?.v;

describe('D1: type coercion into an existing column', () => {
  it.each<[string, number, number, unknown, unknown]>([
    ['LONG into INT', C.LONG, C.INT, 5n, 5],
    ['BYTE into LONG', C.BYTE, C.LONG, -3, -3n],
    ['INT into SHORT at the limit', C.INT, C.SHORT, 32767, 32767],
    ['LONG into DOUBLE', C.LONG, C.DOUBLE, 7n, 7],
    ['DOUBLE into FLOAT (rounded to float32)', C.DOUBLE, C.FLOAT, 0.1, Math.fround(0.1)],
    ['whole DOUBLE into LONG', C.DOUBLE, C.LONG, 2, 2n],
    ['NaN into INT is null', C.DOUBLE, C.INT, Number.NaN, null],
    ['LONG into DATE', C.LONG, C.DATE, 1000n, 1000n],
    ['BOOLEAN into INT', C.BOOLEAN, C.INT, true, 1],
    ['INT into TIMESTAMP (raw epoch)', C.INT, C.TIMESTAMP, 12, 12n],
    ['TIMESTAMP into TIMESTAMP_NANOS', C.TIMESTAMP, C.TIMESTAMP_NANOS, 5n, 5000n],
    ['TIMESTAMP_NANOS into TIMESTAMP (truncated)', C.TIMESTAMP_NANOS, C.TIMESTAMP, 5999n, 5n],
    ['LONG into VARCHAR', C.LONG, C.VARCHAR, 42n, '42'],
    ['whole DOUBLE into VARCHAR', C.DOUBLE, C.VARCHAR, 1, '1.0'],
    ['BOOLEAN into VARCHAR', C.BOOLEAN, C.VARCHAR, false, 'false'],
    ['TIMESTAMP into VARCHAR', C.TIMESTAMP, C.VARCHAR, 1_500_000n, '1970-01-01T00:00:01.500000Z'],
    ['SYMBOL into VARCHAR', C.SYMBOL, C.VARCHAR, 'abc', 'abc'],
    ['VARCHAR into SYMBOL', C.VARCHAR, C.SYMBOL, 'abc', 'abc'],
    ['LONG into SYMBOL', C.LONG, C.SYMBOL, 5n, '5'],
    ['DOUBLE into SYMBOL', C.DOUBLE, C.SYMBOL, 1.5, '1.5'],
    ['VARCHAR into LONG (parsed)', C.VARCHAR, C.LONG, ' 42 ', 42n],
    ['VARCHAR into BOOLEAN (parsed)', C.VARCHAR, C.BOOLEAN, 'TRUE', true],
    [
      'VARCHAR into TIMESTAMP (ISO)',
      C.VARCHAR,
      C.TIMESTAMP,
      '1970-01-01T00:00:02.000003Z',
      2_000_003n,
    ],
  ])('%s', (_label, wire, column, value, expected) => {
    const store = storeWith(column);
    expect(write(store, one(wire, value))).toBeNull();
    expect(stored(store)).toEqual(expected);
    expect(store.schema('t')[0]?.type).toBe(column);
  });

  it('LONG and DOUBLE into a DECIMAL column are scaled to its scale', () => {
    const store = storeWith(C.DECIMAL64, { scale: 2 });
    expect(write(store, one(C.LONG, 3n))).toBeNull();
    expect(stored(store)).toBe(300n);
    expect(write(store, one(C.DOUBLE, 1.25))).toBeNull();
    expect(stored(store)).toBe(125n);
    expect(write(store, one(C.DECIMAL64, 5n, { scale: 1 }))).toBeNull();
    expect(stored(store)).toBe(50n);
  });

  it.each<[string, number, number, unknown, string]>([
    [
      'a value out of the narrower range',
      C.LONG,
      C.INT,
      3_000_000_000n,
      'value 3000000000 is out of range for column [column=v, type=INT]',
    ],
    [
      'a fraction into an integer column',
      C.DOUBLE,
      C.LONG,
      2.5,
      'value 2.5 is not a whole number for column [column=v, type=LONG]',
    ],
    [
      'a VARCHAR that is no number',
      C.VARCHAR,
      C.LONG,
      'abc',
      "cannot parse 'abc' as LONG [column=v]",
    ],
    [
      'a TIMESTAMP past the nanosecond range',
      C.TIMESTAMP,
      C.TIMESTAMP_NANOS,
      2n ** 62n,
      `timestamp overflow converting micros to nanos: ${2n ** 62n}`,
    ],
  ])(
    // QuestDB's newest end-to-end tests (QwpSenderE2ETest) expect value
    // conversion refusals to be SCHEMA_MISMATCH like type refusals.
    'refuses %s (a value the column cannot hold) with SCHEMA_MISMATCH',
    (_label, wire, column, value, message) => {
      const store = storeWith(column);
      expect(schemaMismatch(store, one(wire, value))).toBe(message);
      expect(store.rowCount('t')).toBe(0);
    },
  );

  // QuestDB raises these with CairoException.schemaMismatch(), which its QWP
  // processor answers with STATUS_SCHEMA_MISMATCH (the spec's "column type
  // incompatible with existing table").
  it.each<[string, number, number, unknown, string]>([
    [
      'UUID into LONG',
      C.UUID,
      C.LONG,
      '00000000-0000-0000-0000-000000000000',
      'type coercion from UUID to LONG is not supported [column=v]',
    ],
    [
      'DATE into LONG',
      C.DATE,
      C.LONG,
      1n,
      'type coercion from DATE to LONG is not supported [column=v]',
    ],
    [
      'DOUBLE into DATE',
      C.DOUBLE,
      C.DATE,
      1,
      'type coercion from DOUBLE to DATE is not supported [column=v]',
    ],
    [
      'DOUBLE into TIMESTAMP',
      C.DOUBLE,
      C.TIMESTAMP,
      1,
      'type coercion from DOUBLE to TIMESTAMP is not supported [column=v]',
    ],
    [
      'SYMBOL into LONG',
      C.SYMBOL,
      C.LONG,
      'x',
      'cannot write SYMBOL to column [column=v, type=LONG]',
    ],
    [
      'TIMESTAMP into BOOLEAN',
      C.TIMESTAMP,
      C.BOOLEAN,
      1n,
      'cannot write TIMESTAMP to column [column=v, type=BOOLEAN]',
    ],
    [
      'BOOLEAN into SYMBOL',
      C.BOOLEAN,
      C.SYMBOL,
      true,
      'cannot write BOOLEAN to column [column=v, type=SYMBOL]',
    ],
  ])(
    'refuses %s (a type the column cannot take) with SCHEMA_MISMATCH',
    (_label, wire, column, value, message) => {
      const store = storeWith(column);
      expect(schemaMismatch(store, one(wire, value))).toBe(message);
      expect(store.rowCount('t')).toBe(0);
    },
  );

  it('refuses a geohash of another precision than the column with SCHEMA_MISMATCH', () => {
    const store = new RowStore();
    store.createTable(
      't',
      [
        { name: 'v', type: C.GEOHASH, geohashBits: 20 },
        { name: 'timestamp', type: C.TIMESTAMP },
      ],
      'timestamp',
    );
    expect(write(store, one(C.GEOHASH, 5n, { geohashBits: 20 }))).toBeNull();
    expect(schemaMismatch(store, one(C.GEOHASH, 5n, { geohashBits: 25 }))).toBe(
      'geohash precision 25 bits does not match column [column=v, type=GEOHASH(4c)]',
    );
  });

  it('a refused value in a later row commits none of the frame, but the table made before stays', () => {
    const store = storeWith(C.INT);
    const m = msg(
      block('other', 1, [{ name: 'x', type: C.LONG, values: [1n] }]),
      block('t', 2, [{ name: 'v', type: C.LONG, values: [1n, 2n ** 40n] }]),
    );
    expect(schemaMismatch(store, m)).toMatch(/out of range/);
    // QuestDB creates a block's table before it appends the next block.
    expect(store.tables()).toEqual(['t', 'other']);
    expect(store.rowCount('t')).toBe(0);
    expect(store.rowCount('other')).toBe(0);
    expect(store.seqTxn('other')).toBe(0n);
  });
});

describe('write-time refusals and skips', () => {
  it('D2: a new LONG_ARRAY column is refused by default and stored with longArrays: accept', () => {
    const arr = { shape: [2], values: new BigInt64Array([1n, 2n]) };
    const m = msg(block('t', 1, [{ name: 'a', type: C.LONG_ARRAY, values: [arr] }]));
    expect(writeError(new RowStore(), m)).toBe('long arrays are not supported, only double arrays');
    const store = new RowStore({ longArrays: 'accept' });
    expect(write(store, m)).toBeNull();
    expect(store.rows('t')[0]?.a).toEqual(arr);
  });

  it('D3: a new column with an invalid or empty name (non-timestamp type) in an existing table is WRITE_ERROR', () => {
    for (const name of ['a.b', 'a-b', 'x?', 'new\nline', '']) {
      const m = msg(block('t', 1, [{ name, type: C.LONG, values: [1n] }]));
      expect(writeError(storeWith(C.LONG), m)).toBe(
        `invalid column name [table=t, column=${name}]`,
      );
    }
  });

  it('D11: a block with no rows of an existing table skips every column check and adds nothing', () => {
    const store = storeWith(C.INT);
    const m = msg(
      block('t', 0, [
        { name: 'v', type: C.SYMBOL, values: [] },
        { name: 'bad.name', type: C.LONG, values: [] },
        { name: '', type: C.LONG, values: [] },
        { name: 'longs', type: C.LONG_ARRAY, values: [] },
      ]),
    );
    expect(write(store, m)).toBeNull();
    expect(store.schema('t').map((c) => c.name)).toEqual(['v', 'timestamp']);
    expect(store.tables()).toEqual(['t']);
    expect(store.seqTxn('t')).toBe(0n);
  });

  it('D9: arrays of one batch must share their dimensions, and match the column', () => {
    const a1 = { shape: [1], values: new Float64Array([1]) };
    const a2 = { shape: [1, 1], values: new Float64Array([1]) };
    const mixed = msg(block('t', 2, [{ name: 'a', type: C.DOUBLE_ARRAY, values: [a1, a2] }]));
    // SCHEMA_MISMATCH for a new table (QwpTudCache) and an existing one (QwpSenderE2ETest).
    expect(schemaMismatch(new RowStore(), mixed)).toBe(
      'array dimensionality mismatch in QWP batch [column=a, expectedDims=1, actualDims=2]',
    );
    const store = new RowStore();
    expect(
      write(store, msg(block('t', 2, [{ name: 'a', type: C.DOUBLE_ARRAY, values: [null, a1] }]))),
    ).toBeNull();
    expect(store.schema('t')[0]).toMatchObject({ name: 'a', dims: 1 });
    // Against the column's own dimensions it is a shape mismatch: SCHEMA_MISMATCH.
    const twoD = msg(block('t', 1, [{ name: 'a', type: C.DOUBLE_ARRAY, values: [a2] }]));
    expect(schemaMismatch(store, twoD)).toBe(
      'array dimensionality mismatch [column=a, expected=DOUBLE[], actual=DOUBLE[][]]',
    );
  });

  it('D9: an all-null DOUBLE_ARRAY batch does not create the column (the server defers it)', () => {
    const store = new RowStore();
    const m = msg(
      block('t', 1, [
        { name: 'a', type: C.DOUBLE_ARRAY, values: [null] },
        { name: 'v', type: C.LONG, values: [1n] },
      ]),
    );
    expect(write(store, m)).toBeNull();
    expect(store.schema('t').map((c) => c.name)).toEqual(['v', 'timestamp']);
  });

  it('D10: a designated timestamp sent to a table without one is WRITE_ERROR', () => {
    const store = new RowStore();
    store.createTable('t', [{ name: 'v', type: C.LONG }], null);
    const withTs = msg(
      block('t', 1, [
        { name: 'v', type: C.LONG, values: [1n] },
        { name: '', type: C.TIMESTAMP, values: [5n] },
      ]),
    );
    expect(writeError(store, withTs)).toBe(
      'designated timestamp provided but table has no designated timestamp [table=t]',
    );
    expect(
      write(store, msg(block('t', 1, [{ name: 'v', type: C.LONG, values: [2n] }]))),
    ).toBeNull();
    expect(store.rows('t')).toEqual([{ v: 2n }]);
  });

  it('a table created over QWP always gets a designated timestamp, auto-added last when absent', () => {
    const store = new RowStore();
    const before = BigInt(Date.now()) * 1000n;
    expect(
      write(store, msg(block('t', 1, [{ name: 'v', type: C.LONG, values: [1n] }]))),
    ).toBeNull();
    expect(store.schema('t').map((c) => [c.name, c.typeName])).toEqual([
      ['v', 'LONG'],
      ['timestamp', 'TIMESTAMP'],
    ]);
    expect(store.rows('t')[0]?.timestamp as bigint).toBeGreaterThanOrEqual(before);
    // A later designated timestamp (nanoseconds here) goes to that column, converted.
    const later = msg(block('t', 1, [{ name: '', type: C.TIMESTAMP_NANOS, values: [7_000n] }]));
    expect(write(store, later)).toBeNull();
    expect(store.rows('t')[1]).toEqual({ v: null, timestamp: 7n });
  });

  it('a TIMESTAMP_NANOS designated timestamp makes a nanosecond table; micros are scaled up', () => {
    const store = new RowStore();
    const first = msg(block('t', 1, [{ name: '', type: C.TIMESTAMP_NANOS, values: [1n] }]));
    expect(write(store, first)).toBeNull();
    expect(store.schema('t')).toMatchObject([{ name: 'timestamp', type: C.TIMESTAMP_NANOS }]);
    expect(
      write(store, msg(block('t', 1, [{ name: '', type: C.TIMESTAMP, values: [2n] }]))),
    ).toBeNull();
    const before = BigInt(Date.now()) * 1_000_000n;
    expect(
      write(store, msg(block('t', 1, [{ name: 'v', type: C.LONG, values: [1n] }]))),
    ).toBeNull();
    const rows: Row[] = store.rows('t');
    expect(rows.slice(0, 2).map((r) => r.timestamp)).toEqual([1n, 2000n]);
    expect(rows[2]?.timestamp as bigint).toBeGreaterThanOrEqual(before);
  });

  it('a column named timestamp in a new table yields to the designated timestamp the block sends', () => {
    const store = new RowStore();
    const m = msg(
      block('t', 1, [
        { name: 'timestamp', type: C.LONG, values: [5n] },
        { name: '', type: C.TIMESTAMP, values: [7n] },
      ]),
    );
    expect(write(store, m)).toBeNull();
    expect(store.schema('t')).toMatchObject([{ name: 'timestamp', type: C.TIMESTAMP }]);
    expect(store.rows('t')).toEqual([{ timestamp: 7n }]);
  });

  it('D8: a duplicated column writes the same column, the last definition winning', () => {
    const store = new RowStore();
    const m = msg(
      block('t', 1, [
        { name: 'v', type: C.LONG, values: [1n] },
        { name: 'v', type: C.LONG, values: [2n] },
      ]),
    );
    expect(write(store, m)).toBeNull();
    expect(store.rows('t')[0]?.v).toBe(2n);
    expect(store.schema('t').filter((c) => c.name === 'v')).toHaveLength(1);
  });

  it('createTable refuses an existing table, a bad name and a designated column that is no timestamp', () => {
    const store = storeWith(C.LONG);
    expect(() => store.createTable('t', [], null)).toThrow(/already exists/);
    expect(() => store.createTable('u', [{ name: 'a.b', type: C.LONG }], null)).toThrow(
      /forbidden/,
    );
    expect(() => store.createTable('u', [{ name: 'x', type: C.LONG }], 'x')).toThrow(/TIMESTAMP/);
  });
});
