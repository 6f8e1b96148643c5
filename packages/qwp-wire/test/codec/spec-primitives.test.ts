import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../src/codec/byte-reader.js';
import { ByteWriter } from '../../src/codec/byte-writer.js';
import { writeTableBlock } from '../../src/codec/encoder.js';
import { ColumnType, decodeMessage, GlobalSymbolDictionary, TableBuffer } from '../../src/index.js';
import { withHeader } from './frames.js';
import { hex, toHex } from './hex.js';

/** The column data section of the only column of `t` (after its 7-byte block header). */
function columnSection(t: TableBuffer): Uint8Array {
  const w = new ByteWriter();
  writeTableBlock(w, t, 0, t.rowCount, false);
  // Name "t" (2) + row count (1) + column count (1) + definition "c" + type (3).
  return w.copy(7);
}

/** One table block 't' around `column` (type `type`, `rows` rows) as a whole message. */
function message(rows: number, type: number, column: Uint8Array): Uint8Array {
  return withHeader(0, 1, new Uint8Array([0x01, 0x74, rows, 0x01, 0x01, 0x63, type, ...column]));
}

describe('the spec primitives byte for byte, both directions', () => {
  const varints: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '80 01'],
    [255, 'ff 01'],
    [300, 'ac 02'],
    [16384, '80 80 01'],
  ];
  for (const [value, bytes] of varints) {
    it(`varint ${value} <-> ${bytes}`, () => {
      const w = new ByteWriter();
      w.varint(value);
      expect(toHex(w.copy())).toBe(toHex(hex(bytes)));
      const r = new ByteReader(hex(bytes));
      expect(r.varint('value')).toBe(value);
      expect(r.remaining).toBe(0);
    });
  }

  it('null bitmap: 10 rows with rows 0, 2 and 9 null is 05 02', () => {
    const t = new TableBuffer('t', new GlobalSymbolDictionary());
    const nulls = new Set([0, 2, 9]);
    for (let row = 0; row < 10; row++) {
      t.longColumn('c', nulls.has(row) ? null : row).atNow();
    }
    const section = columnSection(t);
    expect(toHex(section.subarray(0, 3))).toBe(toHex(hex('01 05 02')));
    expect(section.length).toBe(3 + 7 * 8);

    const col = decodeMessage(message(10, ColumnType.LONG, section), null).tables[0]!.columns[0]!;
    expect(col.values).toEqual(
      Array.from({ length: 10 }, (_, row) => (nulls.has(row) ? null : BigInt(row))),
    );
  });

  it('BOOLEAN: [true, false, true, true, false, false, false, true] packs to 8D', () => {
    const values = [true, false, true, true, false, false, false, true];
    const t = new TableBuffer('t', new GlobalSymbolDictionary());
    for (const v of values) t.booleanColumn('c', v).atNow();
    const section = columnSection(t);
    expect(toHex(section)).toBe(toHex(hex('00 8d')));

    const col = decodeMessage(message(8, ColumnType.BOOLEAN, section), null).tables[0]!.columns[0]!;
    expect(col.values).toEqual(values);
  });

  it('BOOLEAN null is sent as bit 0 in sentinel mode', () => {
    const t = new TableBuffer('t', new GlobalSymbolDictionary());
    for (const v of [true, null, true]) t.booleanColumn('c', v).atNow();
    expect(toHex(columnSection(t))).toBe(toHex(hex('00 05')));
  });
});

describe('column layouts of the spec, hand-computed, both directions', () => {
  const cases: [string, number, (t: TableBuffer) => void, string, unknown][] = [
    [
      'DECIMAL64 12.345 is scale 3 and unscaled 12345 (the spec example)',
      ColumnType.DECIMAL64,
      (t) => t.decimal64Column('c', '12.345'),
      '00 03  39 30 00 00 00 00 00 00',
      12345n,
    ],
    [
      "DECIMAL128 is 16-byte little-endian two's complement",
      ColumnType.DECIMAL128,
      (t) => t.decimal128Column('c', -2n, 3),
      `00 03  fe ${'ff '.repeat(15)}`,
      -2n,
    ],
    [
      'DECIMAL256 puts the least significant word first',
      ColumnType.DECIMAL256,
      (t) => t.decimal256Column('c', (1n << 192n) | 2n, 0),
      `00 00  02 ${'00 '.repeat(23)} 01 ${'00 '.repeat(7)}`,
      (1n << 192n) | 2n,
    ],
    [
      'UUID is the low 64 bits then the high 64 bits, each little-endian',
      ColumnType.UUID,
      (t) => t.uuidColumn('c', '00112233-4455-6677-8899-aabbccddeeff'),
      '00  ff ee dd cc bb aa 99 88  77 66 55 44 33 22 11 00',
      '00112233-4455-6677-8899-aabbccddeeff',
    ],
    [
      'LONG256 is four int64 words, least significant first',
      ColumnType.LONG256,
      (t) => t.long256Column('c', (1n << 192n) | 2n),
      `00  02 ${'00 '.repeat(23)} 01 ${'00 '.repeat(7)}`,
      (1n << 192n) | 2n,
    ],
    [
      'IPv4 1.2.3.4 is the uint32 0x01020304 little-endian',
      ColumnType.IPV4,
      (t) => t.ipv4Column('c', '1.2.3.4'),
      '00  04 03 02 01',
      '1.2.3.4',
    ],
    [
      'GEOHASH: precision varint, then ceil(bits / 8) little-endian bytes',
      ColumnType.GEOHASH,
      (t) => t.geohashColumn('c', 0xabc, 12),
      '00  0c  bc 0a',
      0xabcn,
    ],
    [
      'CHAR is one UTF-16 code unit, little-endian',
      ColumnType.CHAR,
      (t) => t.charColumn('c', 'é'),
      '00  e9 00',
      'é',
    ],
    [
      'DOUBLE_ARRAY: n_dims, int32 dims, float64 values row-major',
      ColumnType.DOUBLE_ARRAY,
      (t) => t.doubleArrayColumn('c', [[1], [2]]),
      '00  02  02 00 00 00  01 00 00 00  00 00 00 00 00 00 f0 3f  00 00 00 00 00 00 00 40',
      { shape: [2, 1], values: new Float64Array([1, 2]) },
    ],
    [
      'LONG_ARRAY: n_dims, int32 dims, int64 values',
      ColumnType.LONG_ARRAY,
      (t) => t.longArrayColumn('c', [-1n]),
      `00  01  01 00 00 00  ${'ff '.repeat(8)}`,
      { shape: [1], values: new BigInt64Array([-1n]) },
    ],
  ];
  for (const [label, type, write, bytes, decoded] of cases) {
    it(label, () => {
      const t = new TableBuffer('t', new GlobalSymbolDictionary());
      write(t);
      t.atNow();
      const section = columnSection(t);
      expect(toHex(section)).toBe(toHex(hex(bytes)));
      const col = decodeMessage(message(1, type, section), null).tables[0]!.columns[0]!;
      expect(col.type).toBe(type);
      expect(col.values).toEqual([decoded]);
    });
  }
});

describe('sentinel-mode nulls of the spec decode as null', () => {
  const MIN = '00 00 00 00 00 00 00 80';
  const cases: [string, number, string, unknown[]][] = [
    ['GEOHASH all-ones bytes', ColumnType.GEOHASH, '00 0c  ff ff  bc 0a', [null, 0xabcn]],
    ['IPv4 0.0.0.0', ColumnType.IPV4, '00  00 00 00 00  04 03 02 01', [null, '1.2.3.4']],
    [
      'UUID of two Long.MIN_VALUE halves',
      ColumnType.UUID,
      `00  ${MIN} ${MIN}  ${'00 '.repeat(15)} 01`,
      [null, '01000000-0000-0000-0000-000000000000'],
    ],
    [
      'LONG256 of four Long.MIN_VALUE words',
      ColumnType.LONG256,
      `00  ${MIN} ${MIN} ${MIN} ${MIN}  05 ${'00 '.repeat(31)}`,
      [null, 5n],
    ],
  ];
  for (const [label, type, section, values] of cases) {
    it(label, () => {
      const col = decodeMessage(message(2, type, hex(section)), null).tables[0]!.columns[0]!;
      expect(col.values).toEqual(values);
    });
  }
});
