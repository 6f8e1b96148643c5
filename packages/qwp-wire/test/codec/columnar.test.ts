import { describe, expect, it } from 'vitest';
import {
  type AppendColumnsOptions,
  type ColumnarColumn,
  ColumnType,
  decodeMessage,
  GlobalSymbolDictionary,
  Limits,
  QwpBatch,
  QwpEncoder,
  QwpInvalidValueError,
  SymbolDictionary,
  type TableBuffer,
  tableRows,
} from '../../src/index.js';

/** The batch's rows per table, encoded on a fresh connection and decoded. */
function rowsOf(batch: QwpBatch): Record<string, unknown>[] {
  const [frame] = new QwpEncoder(batch.symbols).encode(batch.tables());
  return tableRows(decodeMessage(frame!, new SymbolDictionary()).tables[0]!);
}

function decodedColumn(batch: QwpBatch, name: string) {
  const [frame] = new QwpEncoder(batch.symbols).encode(batch.tables());
  return decodeMessage(frame!, new SymbolDictionary()).tables[0]!.columns.find(
    (c) => c.name === name,
  )!;
}

function refused(fn: () => unknown): QwpInvalidValueError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(QwpInvalidValueError);
    return err as QwpInvalidValueError;
  }
  throw new Error('expected a QwpInvalidValueError');
}

describe('appendColumns', () => {
  it('the README example', () => {
    const batch = new QwpBatch();
    const t0 = 1_700_000_000_000_000_000n;
    batch.table('trades').appendColumns(
      [
        { name: 'sym', type: 'SYMBOL', values: ['ETH-USD', 'BTC-USD', 'ETH-USD'] },
        { name: 'px', type: 'DOUBLE', values: new Float64Array([2615.5, 64210.25, 2616]) },
        { name: 'qty', type: 'LONG', values: new BigInt64Array([3n, 1n, 7n]) },
        {
          name: 'venue',
          type: 'SYMBOL',
          values: { dictionary: ['XNAS', 'XNYS'], indices: new Uint8Array([1, 0, 0]) },
          nulls: new Uint8Array([0, 0, 1]),
        },
      ],
      { timestamps: new BigInt64Array([t0, t0 + 1000n, t0 + 2000n]), unit: 'ns' },
    );
    expect(rowsOf(batch)).toEqual([
      { sym: 'ETH-USD', px: 2615.5, qty: 3n, venue: 'XNYS', '': t0 },
      { sym: 'BTC-USD', px: 64210.25, qty: 1n, venue: 'XNAS', '': t0 + 1000n },
      { sym: 'ETH-USD', px: 2616, qty: 7n, venue: null, '': t0 + 2000n },
    ]);
    expect(decodedColumn(batch, '').type).toBe(ColumnType.TIMESTAMP_NANOS);
  });

  it('every fixed-width type, with and without a null mask', () => {
    const nulls = new Uint8Array([0, 1, 0]);
    const cols: ColumnarColumn[] = [
      { name: 'bo', type: 'BOOLEAN', values: new Uint8Array([1, 1, 2]), nulls },
      { name: 'by', type: 'BYTE', values: new Int8Array([-128, 5, 127]), nulls },
      { name: 'sh', type: 'SHORT', values: new Int16Array([-32768, 5, 32767]), nulls },
      { name: 'ch', type: 'CHAR', values: new Uint16Array([0x41, 0x42, 0xe9]), nulls },
      { name: 'in', type: 'INT', values: new Int32Array([-(2 ** 31), 5, 2 ** 31 - 1]), nulls },
      { name: 'ip', type: 'IPv4', values: new Uint32Array([0x7f000001, 5, 0xffffffff]), nulls },
      { name: 'fl', type: 'FLOAT', values: new Float32Array([1.5, 5, -0.25]), nulls },
      { name: 'do', type: 'DOUBLE', values: new Float64Array([Math.PI, 5, Number.NaN]), nulls },
      {
        name: 'lo',
        type: 'LONG',
        values: new BigInt64Array([-(2n ** 63n), 5n, 2n ** 63n - 1n]),
        nulls,
      },
      { name: 'da', type: 'DATE', values: new BigInt64Array([1n, 5n, -3n]), nulls },
    ];
    const masked = new QwpBatch();
    masked.table('t').appendColumns(cols);
    expect(rowsOf(masked)).toEqual([
      {
        bo: true,
        by: -128,
        sh: -32768,
        ch: 'A',
        in: -(2 ** 31),
        ip: '127.0.0.1',
        fl: 1.5,
        do: Math.PI,
        lo: -(2n ** 63n),
        da: 1n,
      },
      // Sentinel types (BOOLEAN, BYTE, SHORT, CHAR) have no null: false / 0.
      {
        bo: false,
        by: 0,
        sh: 0,
        ch: '\u0000',
        in: null,
        ip: null,
        fl: null,
        do: null,
        lo: null,
        da: null,
      },
      {
        bo: true,
        by: 127,
        sh: 32767,
        ch: 'é',
        in: 2 ** 31 - 1,
        ip: '255.255.255.255',
        fl: -0.25,
        do: Number.NaN,
        lo: 2n ** 63n - 1n,
        da: -3n,
      },
    ]);
    const plain = new QwpBatch();
    plain.table('t').appendColumns(cols.map(({ nulls: _, ...c }) => c as ColumnarColumn));
    const row1 = rowsOf(plain)[1]!;
    expect(row1).toEqual({
      bo: true,
      by: 5,
      sh: 5,
      ch: 'B',
      in: 5,
      ip: '0.0.0.5',
      fl: 5,
      do: 5,
      lo: 5n,
      da: 5n,
    });
    // Without nulls no column carries a bitmap.
    const [frame] = new QwpEncoder(plain.symbols).encode(plain.tables());
    for (const c of decodeMessage(frame!, null).tables[0]!.columns) expect(c.nullFlag).toBe(0);
  });

  it('LONG and DATE from a Float64Array of integers, up to the int64 ends', () => {
    const batch = new QwpBatch();
    batch.table('t').appendColumns([
      { name: 'lo', type: 'LONG', values: new Float64Array([-(2 ** 63), 2 ** 53 + 2, -1, 0]) },
      { name: 'da', type: 'DATE', values: new Float64Array([1_700_000_000_123, 0, -5, 2 ** 62]) },
    ]);
    expect(decodedColumn(batch, 'lo').values).toEqual([-(2n ** 63n), 2n ** 53n + 2n, -1n, 0n]);
    expect(decodedColumn(batch, 'da').values).toEqual([1_700_000_000_123n, 0n, -5n, 2n ** 62n]);
  });

  it('VARCHAR and SYMBOL from strings: null entries and the mask are both null', () => {
    const batch = new QwpBatch();
    batch.table('t').appendColumns([
      {
        name: 'v',
        type: 'VARCHAR',
        values: ['ż𝄞', null, '', undefined, 'x'],
        nulls: new Uint8Array([0, 0, 0, 0, 1]),
      },
      {
        name: 's',
        type: 'SYMBOL',
        values: ['b', 'a', null, 'a', 'c'],
        nulls: new Uint8Array([0, 0, 0, 0, 1]),
      },
    ]);
    expect(rowsOf(batch)).toEqual([
      { v: 'ż𝄞', s: 'b' },
      { v: null, s: 'a' },
      { v: '', s: null },
      { v: null, s: 'a' },
      { v: null, s: null },
    ]);
    // New strings enter the dictionary in row order; a masked row's string does not.
    expect(batch.symbols.symbols).toEqual(['b', 'a']);
  });

  it('dictionary-encoded SYMBOL: any integer index type; negative index, null entry and mask are null; unused entries stay out', () => {
    const dictionary = ['unused', 'x', null, 'y', 'also-unused'];
    for (const indices of [
      new Int8Array([3, 1, -1, 2, 3, 1]),
      new Int16Array([3, 1, -1, 2, 3, 1]),
      new Int32Array([3, 1, -1, 2, 3, 1]),
    ]) {
      const batch = new QwpBatch();
      batch.table('t').appendColumns([
        {
          name: 's',
          type: 'SYMBOL',
          values: { dictionary, indices },
          nulls: new Uint8Array([0, 0, 0, 0, 0, 1]),
        },
      ]);
      expect(decodedColumn(batch, 's').values).toEqual(['y', 'x', null, null, 'y', null]);
      expect(batch.symbols.symbols).toEqual(['y', 'x']);
    }
    const batch = new QwpBatch();
    batch.table('t').appendColumns([
      {
        name: 's',
        type: 'SYMBOL',
        values: { dictionary: ['p', 'q'], indices: new Uint32Array([1, 1, 0]) },
      },
    ]);
    expect(decodedColumn(batch, 's').values).toEqual(['q', 'q', 'p']);
  });

  it('a symbol known to the dictionary keeps its id; the row API and columns share it', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    t.symbol('s', 'a').atNow();
    t.appendColumns([
      {
        name: 's',
        type: 'SYMBOL',
        values: { dictionary: ['b', 'a'], indices: new Uint8Array([1, 0]) },
      },
    ]);
    t.symbol('s', 'b').atNow();
    expect(batch.symbols.symbols).toEqual(['a', 'b']);
    expect(decodedColumn(batch, 's').values).toEqual(['a', 'a', 'b', 'b']);
  });

  it('row API rows stay, columnar rows follow; a column left out is null in them, a new one null before', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    t.longColumn('a', 1).booleanColumn('flag', true).at(10n, 'us');
    t.appendColumns(
      [
        { name: 'b', type: 'DOUBLE', values: new Float64Array([0.5, 1.5]) },
        { name: 'a', type: 'LONG', values: new BigInt64Array([2n, 3n]) },
      ],
      { timestamps: new BigInt64Array([20n, 30n]), unit: 'us' },
    );
    t.longColumn('a', 4).at(40n, 'us');
    t.appendColumns([{ name: 'a', type: 'LONG', values: new BigInt64Array([5n]) }]);
    expect(t.rowCount).toBe(5);
    expect(rowsOf(batch)).toEqual([
      { a: 1n, flag: true, '': 10n, b: null },
      { a: 2n, flag: false, '': 20n, b: 0.5 },
      { a: 3n, flag: false, '': 30n, b: 1.5 },
      { a: 4n, flag: false, '': 40n, b: null },
      { a: 5n, flag: false, '': null, b: null },
    ]);
  });

  it('designated timestamps: the unit picks a new column type, an existing column converts', () => {
    const fresh = new QwpBatch();
    fresh
      .table('t')
      .appendColumns([], { timestamps: new Float64Array([1_700_000_000_123, -1]), unit: 'ms' });
    expect(decodedColumn(fresh, '').type).toBe(ColumnType.TIMESTAMP);
    expect(decodedColumn(fresh, '').values).toEqual([1_700_000_000_123_000n, -1000n]);

    const nanos = new QwpBatch();
    const t = nanos.table('t');
    t.longColumn('a', 0).at(1n, 'ns');
    // ms numbers into nanoseconds pass 2^53: converted exactly through BigInt.
    t.appendColumns([], { timestamps: new Float64Array([1_700_000_000_123]), unit: 'ms' });
    t.appendColumns([], { timestamps: new BigInt64Array([7n]), unit: 'us' });
    expect(decodedColumn(nanos, '').values).toEqual([1n, 1_700_000_000_123_000_000n, 7000n]);

    const micros = new QwpBatch();
    const m = micros.table('t');
    m.longColumn('a', 0).at(1n, 'us');
    // ns into a TIMESTAMP column rounds down, negatives too (as at()).
    m.appendColumns([], { timestamps: new BigInt64Array([1999n, -1n]), unit: 'ns' });
    m.appendColumns([], { timestamps: new Float64Array([1999, -1001]), unit: 'ns' });
    expect(decodedColumn(micros, '').values).toEqual([1n, 1n, -1n, 1n, -2n]);
  });

  it('TIMESTAMP columns take a unit; TIMESTAMP_NANOS keeps nanoseconds', () => {
    const batch = new QwpBatch();
    batch.table('t').appendColumns([
      { name: 'us', type: 'TIMESTAMP', values: new BigInt64Array([5n]) },
      { name: 'from_ms', type: 'TIMESTAMP', values: new Float64Array([3]), unit: 'ms' },
      { name: 'from_s', type: 'TIMESTAMP_NANOS', values: new BigInt64Array([2n]), unit: 's' },
      { name: 'ns', type: 'TIMESTAMP_NANOS', values: new BigInt64Array([9n]) },
    ]);
    expect(rowsOf(batch)).toEqual([{ us: 5n, from_ms: 3000n, from_s: 2_000_000_000n, ns: 9n }]);
    expect(decodedColumn(batch, 'ns').type).toBe(ColumnType.TIMESTAMP_NANOS);
  });

  it('with rowCount, arrays may be longer (a reused buffer): the rest is ignored', () => {
    const batch = new QwpBatch();
    const px = new Float64Array(1024);
    px.set([1, 2, 3]);
    batch.table('t').appendColumns(
      [
        { name: 'px', type: 'DOUBLE', values: px, nulls: new Uint8Array(1024) },
        {
          name: 's',
          type: 'SYMBOL',
          values: { dictionary: ['a', 'b'], indices: new Uint8Array([0, 1, 0, 1, 1]) },
        },
      ],
      { rowCount: 3, timestamps: new BigInt64Array(8), unit: 'us' },
    );
    expect(rowsOf(batch)).toEqual([
      { px: 1, s: 'a', '': 0n },
      { px: 2, s: 'b', '': 0n },
      { px: 3, s: 'a', '': 0n },
    ]);
  });

  it('zero rows changes nothing', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    t.appendColumns([{ name: 's', type: 'SYMBOL', values: [] }]);
    expect([t.rowCount, t.columns.length, batch.symbols.size]).toEqual([0, 0, 0]);
  });

  it('a large call splits into frames like row API rows', () => {
    const n = 300_000;
    const px = new Float64Array(n).map((_, i) => i / 4);
    const ts = new BigInt64Array(n).map((_, i) => 1_700_000_000_000_000_000n + BigInt(i) * 1000n);
    const batch = new QwpBatch();
    batch.table('t').appendColumns(
      [
        {
          name: 's',
          type: 'SYMBOL',
          values: { dictionary: ['a', 'b', 'c'], indices: new Uint8Array(n).map((_, i) => i % 3) },
        },
        { name: 'px', type: 'DOUBLE', values: px },
      ],
      { timestamps: ts, unit: 'ns' },
    );
    const server = new SymbolDictionary();
    const frames = new QwpEncoder(batch.symbols, { maxBatchSize: 256 * 1024 }).encode(
      batch.tables(),
    );
    expect(frames.length).toBeGreaterThan(5);
    let row = 0;
    let wrong = 0;
    for (const f of frames) {
      // A frame may hold several blocks of the table (the split fills each frame).
      for (const t of decodeMessage(f, server, { maxBatchSize: 256 * 1024 }).tables) {
        const [s, p, d] = t.columns;
        for (let i = 0; i < t.rowCount; i++, row++) {
          if (
            s!.values[i] !== 'abc'[row % 3] ||
            p!.values[i] !== px[row] ||
            d!.values[i] !== ts[row]
          ) {
            wrong++;
          }
        }
      }
    }
    expect([row, wrong]).toEqual([n, 0]);
  });
});

describe('appendColumns: a refused call changes nothing', () => {
  /** A table with rows from both APIs, and everything observable about it. */
  function setUp(): { batch: QwpBatch; t: TableBuffer; snapshot: () => unknown } {
    const batch = new QwpBatch();
    const t = batch.table('t');
    t.symbol('s', 'known').longColumn('n', 1).varcharColumn('v', 'x').at(1n, 'us');
    t.appendColumns(
      [
        { name: 'n', type: 'LONG', values: new BigInt64Array([2n]), nulls: new Uint8Array([1]) },
        { name: 'px', type: 'DOUBLE', values: new Float64Array([0.5]) },
      ],
      { timestamps: new BigInt64Array([2n]), unit: 'us' },
    );
    const snapshot = () => ({
      frame: Buffer.from(new QwpEncoder(batch.symbols).encode(batch.tables())[0]!).toString('hex'),
      symbols: [...batch.symbols.symbols],
      rows: t.rowCount,
      columns: t.columns.map((c) => `${c.name}:${c.type}`),
      bound: batch.maxEncodedBytes(),
    });
    return { batch, t, snapshot };
  }

  const n3 = (values: number[]) => new Float64Array(values);
  type Case = [string, (t: TableBuffer) => void, RegExp, string | undefined, number | undefined];
  const cases: Case[] = [
    [
      'a half-written row',
      (t) => {
        t.longColumn('n', 5);
        t.appendColumns([], { timestamps: new BigInt64Array(1), unit: 'us' });
      },
      /half-written/,
      undefined,
      undefined,
    ],
    [
      'columns not an array',
      (t) => t.appendColumns({} as never),
      /must be an array/,
      undefined,
      undefined,
    ],
    ['nothing to append', (t) => t.appendColumns([]), /nothing to append/, undefined, undefined],
    [
      'a bad rowCount',
      (t) => t.appendColumns([], { rowCount: -1 }),
      /non-negative integer/,
      undefined,
      undefined,
    ],
    [
      'lengths that differ',
      (t) =>
        t.appendColumns([
          { name: 'a', type: 'DOUBLE', values: n3([1, 2]) },
          { name: 'b', type: 'DOUBLE', values: n3([1]) },
        ]),
      /has 1 rows, not 2/,
      'b',
      undefined,
    ],
    [
      'timestamps of another length',
      (t) =>
        t.appendColumns([{ name: 'a', type: 'DOUBLE', values: n3([1, 2]) }], {
          timestamps: new BigInt64Array(3),
          unit: 'us',
        }),
      /has 3 rows, not 2/,
      '',
      undefined,
    ],
    [
      'arrays shorter than rowCount',
      (t) => t.appendColumns([{ name: 'a', type: 'DOUBLE', values: n3([1]) }], { rowCount: 2 }),
      /has 1 rows, not 2/,
      'a',
      undefined,
    ],
    [
      'timestamps without a unit',
      (t) => t.appendColumns([], { timestamps: new BigInt64Array(1) } as AppendColumnsOptions),
      /need a unit/,
      '',
      undefined,
    ],
    [
      'a unit without timestamps',
      (t) => t.appendColumns([{ name: 'a', type: 'DOUBLE', values: n3([1]) }], { unit: 'ms' }),
      /without timestamps/,
      '',
      undefined,
    ],
    [
      'timestamps of the wrong array',
      (t) => t.appendColumns([], { timestamps: new Int32Array(1) as never, unit: 'us' }),
      /BigInt64Array or Float64Array/,
      '',
      undefined,
    ],
    [
      'a mask of the wrong length',
      (t) =>
        t.appendColumns([
          { name: 'a', type: 'DOUBLE', values: n3([1, 2]), nulls: new Uint8Array(1) },
        ]),
      /one per row/,
      'a',
      undefined,
    ],
    [
      'a mask that is not bytes',
      (t) => t.appendColumns([{ name: 'a', type: 'DOUBLE', values: n3([1]), nulls: [0] as never }]),
      /Uint8Array/,
      'a',
      undefined,
    ],
    [
      'the wrong typed array',
      (t) => t.appendColumns([{ name: 'a', type: 'DOUBLE', values: new Float32Array(1) as never }]),
      /DOUBLE takes a Float64Array, not Float32Array/,
      'a',
      undefined,
    ],
    [
      'numbers for LONG',
      (t) => t.appendColumns([{ name: 'a', type: 'LONG', values: new Int32Array(1) as never }]),
      /BigInt64Array or Float64Array, not Int32Array/,
      'a',
      undefined,
    ],
    [
      'strings for VARCHAR not in an array',
      (t) => t.appendColumns([{ name: 'a', type: 'VARCHAR', values: 'abc' as never }]),
      /array of strings/,
      'a',
      undefined,
    ],
    [
      'an unknown type',
      (t) => t.appendColumns([{ name: 'a', type: 'DOUBLES', values: n3([1]) } as never]),
      /unknown column type/,
      'a',
      undefined,
    ],
    [
      'a type only the row API takes',
      (t) => t.appendColumns([{ name: 'a', type: 'UUID', values: [] } as never]),
      /does not take UUID/,
      'a',
      undefined,
    ],
    [
      'a type conflict',
      (t) => t.appendColumns([{ name: 'px', type: 'FLOAT', values: new Float32Array(1) }]),
      /column is DOUBLE, not FLOAT/,
      'px',
      undefined,
    ],
    [
      'a column given twice',
      (t) =>
        t.appendColumns([
          { name: 'a', type: 'DOUBLE', values: n3([1]) },
          { name: 'a', type: 'DOUBLE', values: n3([1]) },
        ]),
      /twice/,
      'a',
      undefined,
    ],
    [
      'the designated column as a column',
      (t) => t.appendColumns([{ name: '', type: 'TIMESTAMP', values: new BigInt64Array(1) }]),
      /options\.timestamps/,
      '',
      undefined,
    ],
    [
      'a forbidden name',
      (t) => t.appendColumns([{ name: 'a.b', type: 'DOUBLE', values: n3([1]) }]),
      /forbidden character/,
      'a.b',
      undefined,
    ],
    [
      'a unit on a DOUBLE column',
      (t) => t.appendColumns([{ name: 'a', type: 'DOUBLE', values: n3([1]), unit: 'ms' } as never]),
      /takes no unit/,
      'a',
      undefined,
    ],
    [
      'a bad unit',
      (t) =>
        t.appendColumns([{ name: 'a', type: 'TIMESTAMP', values: n3([1]), unit: 'h' as never }]),
      /unit must be/,
      'a',
      undefined,
    ],
    // Refused while writing, after other columns (new ones among them) took the rows.
    [
      'a lone surrogate in VARCHAR',
      (t) =>
        t.appendColumns([
          { name: 'px', type: 'DOUBLE', values: n3([1, 2, 3]) },
          { name: 'new', type: 'LONG', values: new BigInt64Array(3) },
          { name: 'v', type: 'VARCHAR', values: ['ok', 'fine', 'bad\ud800'] },
        ]),
      /lone UTF-16 surrogate/,
      'v',
      2,
    ],
    [
      'a lone surrogate after new symbols',
      (t) =>
        t.appendColumns([
          { name: 's', type: 'SYMBOL', values: ['new-1', 'known', 'new-2', '\udc00'] },
        ]),
      /lone UTF-16 surrogate/,
      's',
      3,
    ],
    [
      'a dictionary index past its end',
      (t) =>
        t.appendColumns([
          {
            name: 's',
            type: 'SYMBOL',
            values: { dictionary: ['d-1', 'd-2'], indices: new Uint8Array([0, 1, 2]) },
          },
        ]),
      /outside the 2-entry dictionary/,
      's',
      2,
    ],
    [
      'a dictionary entry that is no string',
      (t) =>
        t.appendColumns([
          {
            name: 's',
            type: 'SYMBOL',
            values: { dictionary: ['d-1', 5 as never], indices: new Uint8Array([0, 1]) },
          },
        ]),
      /entry 1 is not a string/,
      's',
      1,
    ],
    [
      'a symbol that is no string',
      (t) => t.appendColumns([{ name: 's', type: 'SYMBOL', values: ['new-1', 7 as never] }]),
      /expected a string/,
      's',
      1,
    ],
    [
      'a fraction for LONG',
      (t) => t.appendColumns([{ name: 'n', type: 'LONG', values: n3([1, 2.5]) }]),
      /expected an integer/,
      'n',
      1,
    ],
    [
      'NaN for DATE',
      (t) => t.appendColumns([{ name: 'd', type: 'DATE', values: n3([Number.NaN]) }]),
      /expected an integer/,
      'd',
      0,
    ],
    [
      '2^63 for LONG',
      (t) => t.appendColumns([{ name: 'n', type: 'LONG', values: n3([0, 2 ** 63]) }]),
      /outside the signed 64-bit range/,
      'n',
      1,
    ],
    [
      'seconds past int64 nanoseconds',
      (t) =>
        t.appendColumns([
          {
            name: 'ts',
            type: 'TIMESTAMP_NANOS',
            values: new BigInt64Array([1n, 10_000_000_000n]),
            unit: 's',
          },
        ]),
      /outside the signed 64-bit range/,
      'ts',
      1,
    ],
    [
      'a fractional timestamp',
      (t) =>
        t.appendColumns([{ name: 'px', type: 'DOUBLE', values: n3([1, 2]) }], {
          timestamps: n3([1, 1.5]),
          unit: 'ms',
        }),
      /expected an integer/,
      '',
      1,
    ],
  ];

  it.each(cases)('%s', (_label, call, message, column, row) => {
    const { batch, t, snapshot } = setUp();
    const before = snapshot();
    const err = refused(() => call(t));
    expect(err.message).toMatch(message);
    expect(err.code).toBe('ERR_QWP_INVALID_VALUE');
    expect(err.table).toBe('t');
    expect(err.column).toBe(column);
    expect(err.row).toBe(row);
    if (row !== undefined) expect(err.message).toContain(`row ${row}:`);
    // A half-written row stays half-written; everything else is as before.
    if (t.hasOpenRow) t.discardRow();
    expect(snapshot()).toEqual(before);
    // The table goes on as if the call never happened.
    t.appendColumns([{ name: 's', type: 'SYMBOL', values: ['next'] }], {
      timestamps: new BigInt64Array([3n]),
      unit: 'us',
    });
    expect(batch.symbols.symbols).toEqual(['known', 'next']);
    expect(rowsOf(batch).at(-1)).toMatchObject({ s: 'next', '': 3n });
  });

  it('a full symbol dictionary: refused at the first new symbol, nothing kept', () => {
    class NearlyFull extends GlobalSymbolDictionary {
      override get size(): number {
        return super.size + Limits.MAX_SYMBOL_DICTIONARY_SIZE - 2;
      }
      override truncate(size: number): void {
        super.truncate(size - (Limits.MAX_SYMBOL_DICTIONARY_SIZE - 2));
      }
    }
    const batch = new QwpBatch(new NearlyFull());
    const t = batch.table('t');
    const err = refused(() =>
      t.appendColumns([
        {
          name: 's',
          type: 'SYMBOL',
          values: { dictionary: ['a', 'b', 'c'], indices: new Uint8Array([0, 1, 0, 2]) },
        },
      ]),
    );
    expect(err.message).toMatch(/symbol dictionary is full/);
    expect([err.column, err.row, err.value]).toEqual(['s', 3, 'c']);
    expect(batch.symbols.symbols).toEqual([]);
    expect(t.rowCount).toBe(0);
    t.appendColumns([{ name: 's', type: 'SYMBOL', values: ['a', 'b', 'a'] }]);
    expect(batch.symbols.symbols).toEqual(['a', 'b']);
  });
});
