import { describe, expect, it } from 'vitest';
import {
  columnNameProblem,
  decodeMessage,
  GlobalSymbolDictionary,
  Limits,
  QwpBatch,
  QwpEncoder,
  QwpInvalidValueError,
  SymbolDictionary,
  type TableBuffer,
  tableNameProblem,
  tableRows,
} from '../../src/index.js';

function caught(fn: () => unknown): QwpInvalidValueError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(QwpInvalidValueError);
    return err as QwpInvalidValueError;
  }
  throw new Error('expected a QwpInvalidValueError');
}

/** A table with two good rows already buffered. */
function twoRows(): { batch: QwpBatch; t: TableBuffer } {
  const batch = new QwpBatch();
  const t = batch.table('trades');
  t.symbol('sym', 'A').longColumn('qty', 1).at(1000n, 'us');
  t.symbol('sym', 'B').longColumn('qty', 2).at(2000n, 'us');
  return { batch, t };
}

function decodeRows(batch: QwpBatch): Record<string, unknown>[] {
  const [frame] = new QwpEncoder(batch.symbols).encode(batch.tables());
  return tableRows(decodeMessage(frame!, new SymbolDictionary()).tables[0]!);
}

const AFTER = [
  { sym: 'A', qty: 1n, '': 1000n },
  { sym: 'B', qty: 2n, '': 2000n },
];

describe('bad input: synchronous errors that keep buffered rows and drop the half row', () => {
  const cases: [string, (t: TableBuffer) => void, RegExp, string | undefined][] = [
    ['empty column name', (t) => t.longColumn('', 1), /empty/, ''],
    [
      'column name over 127 bytes',
      (t) => t.longColumn('é'.repeat(64), 1),
      /128 UTF-8 bytes/,
      'é'.repeat(64),
    ],
    [
      'forbidden column character',
      (t) => t.longColumn('a.b', 1),
      /forbidden character "\."/,
      'a.b',
    ],
    ['forbidden column character -', (t) => t.longColumn('a-b', 1), /forbidden/, 'a-b'],
    ['control character in column name', (t) => t.longColumn('a\nb', 1), /forbidden/, 'a\nb'],
    [
      'type change within the batch',
      (t) => t.doubleColumn('qty', 1.5),
      /is LONG, not DOUBLE/,
      'qty',
    ],
    [
      'timestamp into a LONG column',
      (t) => t.timestampColumn('qty', 5),
      /is LONG, not TIMESTAMP/,
      'qty',
    ],
    ['column twice in one row', (t) => t.longColumn('x', 1).longColumn('x', 2), /twice/, 'x'],
    ['INT out of range', (t) => t.int32Column('i', 2 ** 31), /INT needs an integer/, 'i'],
    ['BYTE not integral', (t) => t.byteColumn('b', 1.5), /BYTE needs an integer/, 'b'],
    ['SHORT out of range', (t) => t.shortColumn('s', -32769), /SHORT/, 's'],
    ['LONG not integral', (t) => t.longColumn('l', 0.5), /signed 64-bit/, 'l'],
    ['LONG number beyond int64', (t) => t.longColumn('l', 2 ** 63), /signed 64-bit/, 'l'],
    ['bigint beyond int64', (t) => t.longColumn('l', 2n ** 63n), /bigint outside/, 'l'],
    ['bigint below int64', (t) => t.longColumn('l', -(2n ** 63n) - 1n), /bigint outside/, 'l'],
    [
      'wrong JS type',
      (t) => t.doubleColumn('d', '1' as unknown as number),
      /expected a number/,
      'd',
    ],
    ['lone surrogate in VARCHAR', (t) => t.varcharColumn('v', 'a\ud800b'), /surrogate/, 'v'],
    ['lone surrogate in SYMBOL', (t) => t.symbol('s2', '\udc00'), /surrogate/, 's2'],
    ['ragged array', (t) => t.doubleArrayColumn('arr', [[1, 2], [3]]), /ragged/, 'arr'],
    [
      'array too deep on one branch',
      (t) => t.doubleArrayColumn('arr', [1, [2]]),
      /deeper|ragged/,
      'arr',
    ],
    ['non-number array element', (t) => t.doubleArrayColumn('arr', ['x']), /not a number/, 'arr'],
    ['LONG_ARRAY fraction', (t) => t.longArrayColumn('la', [1.5]), /not a 64-bit integer/, 'la'],
    [
      'array shape mismatch',
      (t) => t.doubleArrayColumn('arr', { shape: [2, 2], values: [1] }),
      /needs 4/,
      'arr',
    ],
    ['decimal scale too large', (t) => t.decimal64Column('d64', 1n, 19), /scale 19/, 'd64'],
    [
      'decimal overflow',
      (t) => t.decimal64Column('d64', 2n ** 63n, 2),
      /overflows DECIMAL64/,
      'd64',
    ],
    ['DECIMAL256 scale too large', (t) => t.decimal256Column('d256', 1n, 77), /scale 77/, 'd256'],
    [
      'DECIMAL128 overflow',
      (t) => t.decimal128Column('d128', 2n ** 127n),
      /overflows DECIMAL128/,
      'd128',
    ],
    ['decimal text malformed', (t) => t.decimal128Column('d', '1.2.3'), /decimal text/, 'd'],
    ['GeoHash precision 0', (t) => t.geohashColumn('g', 1, 0), /1-60/, 'g'],
    ['GeoHash precision 61', (t) => t.geohashColumn('g', 1, 61), /1-60/, 'g'],
    ['GeoHash value too wide', (t) => t.geohashColumn('g', 32, 5), /\[0, 2\^5\)/, 'g'],
    ['bad UUID', (t) => t.uuidColumn('u', 'not-a-uuid'), /UUID/, 'u'],
    ['bad IPv4', (t) => t.ipv4Column('ip', '256.1.1.1'), /IPv4/, 'ip'],
    ['negative LONG256', (t) => t.long256Column('l2', -1n), /unsigned 256-bit/, 'l2'],
    ['CHAR of two units', (t) => t.charColumn('c', 'ab'), /one UTF-16/, 'c'],
    ['fractional timestamp', (t) => t.at(1.5, 'ms'), /integer/, ''],
    ['timestamp beyond int64 after scaling', (t) => t.at(2n ** 62n, 's'), /64-bit/, ''],
    ['bad unit', (t) => t.at(1, 'h' as 'us'), /unit/, ''],
    // Names every object inherits must not pass for a unit.
    ['unit named like a prototype member', (t) => t.at(1, 'toString' as 'us'), /unit/, ''],
    [
      'timestampColumn unit named like a prototype member',
      (t) => t.timestampColumn('ts2', 1, 'constructor' as 'us'),
      /unit/,
      'ts2',
    ],
  ];

  for (const [label, act, message, column] of cases) {
    it(label, () => {
      const { batch, t } = twoRows();
      const err = caught(() => {
        // Part of the row is written first: it must be discarded with the bad value.
        t.symbol('sym', 'C').longColumn('fresh', 7);
        act(t);
        t.at(3000n, 'us');
      });
      expect(err.message).toMatch(message);
      expect(err.table).toBe('trades');
      expect(err.column).toBe(column);
      expect(err.message).toContain("table 'trades'");
      expect(err.value).not.toBeUndefined();
      expect(err.message).toMatch(/\(value: .+\)$/);
      expect(t.rowCount).toBe(2);
      expect(t.hasOpenRow).toBe(false);
      expect(decodeRows(batch)).toEqual(AFTER);
      // The table keeps working after the error.
      t.symbol('sym', 'D').longColumn('qty', 4).at(4000n, 'us');
      expect(decodeRows(batch)).toHaveLength(3);
    });
  }

  it('names the offending value itself in the error and its message', () => {
    const cases: [(t: TableBuffer) => void, unknown, string][] = [
      [(t) => t.doubleColumn('qty', 1.5), 1.5, '(value: 1.5)'],
      [(t) => t.int32Column('i', 2 ** 31), 2 ** 31, '(value: 2147483648)'],
      [(t) => t.longColumn('l', 2n ** 63n), 2n ** 63n, '(value: 9223372036854775808n)'],
      [(t) => t.varcharColumn('v', 'a\ud800b'), 'a\ud800b', '(value: "a\\ud800b")'],
      [(t) => t.geohashColumn('g', 1, 61), 61, '(value: 61)'],
      [(t) => t.decimal64Column('d', '1.2.3'), '1.2.3', '(value: "1.2.3")'],
    ];
    for (const [act, value, text] of cases) {
      const { t } = twoRows();
      const err = caught(() => act(t));
      expect(err.value).toBe(value);
      expect(err.message).toContain(text);
    }
  });

  it('rejects invalid table names by name', () => {
    const batch = new QwpBatch();
    expect(caught(() => batch.table('')).message).toMatch(/empty/);
    expect(caught(() => batch.table('x'.repeat(128))).message).toMatch(/128 UTF-8 bytes/);
    expect(caught(() => batch.table('a/b')).message).toMatch(/forbidden character "\/"/);
    expect(caught(() => batch.table('..')).message).toMatch(/"\."/);
    expect(caught(() => batch.table('a\ud800')).message).toMatch(/surrogate/);
    expect(batch.table('x'.repeat(127)).name).toHaveLength(127);
    expect(batch.table('a.b').name).toBe('a.b');
  });

  it("maxNameLength (a sender's max_name_len) bounds table and column names, row and columnar", () => {
    const batch = new QwpBatch(undefined, { maxNameLength: 8 });
    expect(caught(() => batch.table('x'.repeat(9))).message).toMatch(/9 UTF-8 bytes, over 8/);
    // Bytes, not characters: four 2-byte characters are 8 bytes, five are 10.
    expect(batch.table('é'.repeat(4)).name).toBe('éééé');
    const t = batch.table('t');
    const err = caught(() => t.longColumn('c'.repeat(9), 1n));
    expect(err.message).toMatch(/column name is 9 UTF-8 bytes, over 8/);
    expect(err.column).toBe('c'.repeat(9));
    t.longColumn('c'.repeat(8), 1n).at(1n);
    expect(t.rowCount).toBe(1);
    const columnar = caught(() =>
      batch
        .table('u')
        .appendColumns([{ name: 'é'.repeat(5), type: 'LONG', values: new BigInt64Array([1n]) }], {
          timestamps: new BigInt64Array([1n]),
          unit: 'us',
        }),
    );
    expect(columnar.message).toMatch(/10 UTF-8 bytes, over 8/);
    expect(() => new QwpBatch(undefined, { maxNameLength: 0 })).toThrow(RangeError);
  });

  it('a timestamp into a LONG column is refused on the in-order fast path too', () => {
    const { batch, t } = twoRows();
    const err = caught(() => t.symbol('sym', 'C').timestampColumn('qty', 5));
    expect(err.message).toMatch(/is LONG, not TIMESTAMP/);
    expect(decodeRows(batch)).toEqual(AFTER);
  });

  it("a refused or discarded row does not fix a decimal column's scale for the rows after it", () => {
    const batch = new QwpBatch();
    const t = batch.table('trades');
    // The column exists, null so far: the next value would fix its scale.
    t.decimal64Column('fee', null).longColumn('qty', 1).atNow();
    // Refused by its own overflow check, after the scale was computed.
    caught(() => t.decimal64Column('fee', 2n ** 63n, 2));
    // Accepted, then discarded with its row by a later bad value.
    caught(() => t.decimal64Column('fee', 5n, 2).longColumn('qty', 0.5));
    t.decimal64Column('fee', 12345n, 3).longColumn('qty', 2).atNow();
    const [frame] = new QwpEncoder(batch.symbols).encode(batch.tables());
    const fee = decodeMessage(frame!, new SymbolDictionary()).tables[0]!.columns[0]!;
    expect(fee.scale).toBe(3);
    expect(fee.values).toEqual([null, 12345n]);
  });

  it('atNow on a row with no values is an error', () => {
    const { t } = twoRows();
    expect(caught(() => t.atNow()).message).toMatch(/no columns/);
  });
});

describe("bad input: names follow QuestDB's TableUtils character rules", () => {
  // TableUtils.isValidTableName / isValidColumnName: these characters and U+0000-U+000F.
  const bothForbid = [...'?,\'"\\/:)(+*%~', '\u007f', '\ufeff'];
  const controls = Array.from({ length: 0x10 }, (_, c) => String.fromCharCode(c));

  it.each([...bothForbid, ...controls, '.', '-'].map((ch) => [JSON.stringify(ch), ch]))(
    'column name with %s is refused',
    (_label, ch) => {
      expect(columnNameProblem(`a${ch}b`)).toMatch(/forbidden character/);
    },
  );

  it.each([...bothForbid, ...controls].map((ch) => [JSON.stringify(ch), ch]))(
    'table name with %s is refused',
    (_label, ch) => {
      expect(tableNameProblem(`a${ch}b`)).toMatch(/forbidden character/);
    },
  );

  it('U+0010-U+001F, spaces inside and other punctuation are legal, as on the server', () => {
    const legal = [
      ...Array.from({ length: 0x10 }, (_, c) => String.fromCharCode(0x10 + c)),
      ' ',
      '_',
      '$',
      '#',
      '@',
      'é',
      '𝄞',
    ];
    for (const ch of legal) {
      expect(columnNameProblem(`a${ch}b`)).toBeNull();
      expect(tableNameProblem(`a${ch}b`)).toBeNull();
    }
    // The row API takes them too, and they reach the wire unchanged.
    const batch = new QwpBatch();
    batch.table('t\u001fx').longColumn('c\u0010d', 1).atNow();
    const [frame] = new QwpEncoder(batch.symbols).encode(batch.tables());
    const table = decodeMessage(frame!, new SymbolDictionary()).tables[0]!;
    expect(table.name).toBe('t\u001fx');
    expect(table.columns[0]!.name).toBe('c\u0010d');
  });

  it("a table name may hold one '.' inside, not at an end, not doubled; no space at an end", () => {
    expect(tableNameProblem('a.b')).toBeNull();
    expect(tableNameProblem('.a')).toMatch(/starts or ends/);
    expect(tableNameProblem('a.')).toMatch(/starts or ends/);
    expect(tableNameProblem('a..b')).toMatch(/"\.\."/);
    expect(tableNameProblem(' a')).toMatch(/space/);
    expect(tableNameProblem('a ')).toMatch(/space/);
  });
});

describe('bad input: the symbol dictionary limit', () => {
  it('a new symbol past 2,000,000 distinct ones is refused; known ones still work', () => {
    // Reports a full dictionary without holding 2M strings (that takes seconds).
    class FullDictionary extends GlobalSymbolDictionary {
      override get size(): number {
        return Limits.MAX_SYMBOL_DICTIONARY_SIZE;
      }
    }
    const dict = new FullDictionary();
    dict.idOf('s7');
    const batch = new QwpBatch(dict);
    const t = batch.table('trades');
    t.symbol('sym', 's7').longColumn('qty', 1).at(1000n, 'us');
    const err = caught(() => t.symbol('sym', 's7').symbol('venue', 'new-one'));
    expect(err.message).toMatch(/symbol dictionary is full \(2000000 distinct symbols/);
    expect(err.table).toBe('trades');
    expect(err.column).toBe('venue');
    expect(err.value).toBe('new-one');
    expect(dict.peek('new-one')).toBeUndefined();
    expect(t.rowCount).toBe(1);
    expect(t.hasOpenRow).toBe(false);
    t.symbol('sym', 's7').at(2000n, 'us');
    expect(t.rowCount).toBe(2);
  });
});
