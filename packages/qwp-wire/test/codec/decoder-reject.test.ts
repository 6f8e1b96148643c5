import { describe, expect, it } from 'vitest';
import { decodeMessage, QwpDecodeError, Status, SymbolDictionary } from '../../src/index.js';
import { withHeader } from './frames.js';
import { hex } from './hex.js';

/** A message with `flags`, `tables` and the payload given as hex. */
function msg(flags: number, tables: number, payload: string | Uint8Array): Uint8Array {
  return withHeader(flags, tables, typeof payload === 'string' ? hex(payload) : payload);
}

const varint = (v: number) => {
  const out: string[] = [];
  while (v >= 0x80) {
    out.push(((v % 128) | 0x80).toString(16));
    v = Math.floor(v / 128);
  }
  out.push(v.toString(16).padStart(2, '0'));
  return out.join(' ');
};
/** Table "t" with `rows` rows and one column `c` of `type`, then the column data. */
const one = (rows: number, type: string, data: string) =>
  `01 74 ${varint(rows)} 01 01 63 ${type} ${data}`;

const cases: [string, Uint8Array, RegExp, number, number?][] = [
  ['empty table name', msg(0, 1, '00 01 00'), /empty table name/, 12],
  [
    'table name over 127 bytes',
    msg(0, 1, `80 01 ${'61 '.repeat(128)} 00 00`),
    /128 bytes exceeds 127/,
    12,
  ],
  [
    'column name over 127 bytes',
    msg(0, 1, `01 74 00 01 80 01 ${'61 '.repeat(128)} 05 00`),
    /128 bytes exceeds 127/,
    16,
  ],
  ['rows over the limit', msg(0, 1, `01 74 ${varint(1_000_001)} 00`), /1000001 rows/, 14],
  ['columns over the limit', msg(0, 1, `01 74 00 ${varint(2049)}`), /2049 columns/, 15],
  [
    'columns beyond the bytes left',
    msg(0, 1, `01 74 00 ${varint(2000)} 00`),
    /more than the bytes left/,
    15,
  ],
  [
    'designated column of type LONG',
    msg(0, 1, '01 74 00 01 00 05 00'),
    /designated timestamp column has type LONG/,
    17,
  ],
  [
    'duplicate column names',
    msg(0, 1, '01 74 00 02 01 63 05 01 63 05 00 00'),
    /duplicate column 'c'/,
    19,
  ],
  [
    'varint longer than 10 bytes',
    msg(0, 1, `01 74 ${'80 '.repeat(10)} 00`),
    /longer than 10 bytes/,
    14,
  ],
  ['varint beyond int32', msg(0, 1, '01 74 80 80 80 80 08 00'), /exceeds int32/, 14],
  [
    'null bitmap truncated',
    msg(0, 1, one(16, '05', '01 00')),
    /truncated column 'c' null bitmap/,
    20,
  ],
  [
    'fewer values than rows',
    msg(0, 1, one(2, '05', `00 ${'00 '.repeat(8)}`)),
    /truncated column 'c' values/,
    20,
  ],
  [
    'bitmap values short',
    msg(0, 1, one(3, '05', `01 02 ${'00 '.repeat(8)}`)),
    /needs 16 bytes/,
    21,
  ],
  [
    'Gorilla stream past the end',
    msg(0x04, 1, one(3, '0a', `00 01 ${'00 '.repeat(16)} 0f`)),
    /Gorilla bit stream runs past/,
    37,
  ],
  [
    'unknown timestamp encoding',
    msg(0x04, 1, one(1, '0a', '00 02')),
    /unknown timestamp encoding 2/,
    20,
  ],
  ['GeoHash precision 0', msg(0, 1, one(1, '0e', '00 00 00')), /precision 0 is outside 1-60/, 20],
  ['GeoHash precision 61', msg(0, 1, one(1, '0e', '00 3d 00')), /precision 61/, 20],
  ['array with 0 dimensions', msg(0, 1, one(1, '11', '00 00')), /0 dimensions/, 20],
  ['array with 33 dimensions', msg(0, 1, one(1, '11', '00 21')), /33 dimensions/, 20],
  [
    'array with a negative length',
    msg(0, 1, one(1, '12', '00 01 ff ff ff ff')),
    /negative length -1/,
    21,
  ],
  ['array longer than the frame', msg(0, 1, one(1, '11', '00 01 ff ff ff 7f')), /does not fit/, 20],
  [
    'VARCHAR offset[0] not 0',
    msg(0, 1, one(1, '0f', '00 01 00 00 00 01 00 00 00 61')),
    /offset\[0\] is not 0/,
    20,
  ],
  [
    'VARCHAR offset past the data',
    msg(0, 1, one(2, '0f', '00 00 00 00 00 02 00 00 00 01 00 00 00 61 61')),
    /offset\[1\] = 2 is out of order or past the data/,
    24,
  ],
  [
    'VARCHAR data past the end',
    msg(0, 1, one(1, '0f', '00 00 00 00 00 09 00 00 00 61')),
    /truncated column 'c' data/,
    28,
  ],
  [
    'VARCHAR invalid UTF-8',
    msg(0, 1, one(1, '0f', '00 00 00 00 00 01 00 00 00 ff')),
    /not valid UTF-8/,
    28,
  ],
  ['symbol id unknown', msg(0x08, 1, `00 01 01 78 ${one(1, '09', '00 01')}`), /symbol id 1/, 24],
  [
    'decimal scale over 18',
    msg(0, 1, one(1, '13', `00 13 ${'00 '.repeat(8)}`)),
    /scale 19 exceeds 18/,
    20,
  ],
  [
    'decimal128 scale over 38',
    msg(0, 1, one(1, '14', `00 27 ${'00 '.repeat(16)}`)),
    /scale 39 exceeds 38/,
    20,
  ],
  [
    'decimal256 scale over 76',
    msg(0, 1, one(1, '15', `00 4d ${'00 '.repeat(32)}`)),
    /scale 77 exceeds 76/,
    20,
  ],
  ['unknown type code', msg(0, 1, one(0, '19', '')), /unknown type code 0x19/, 18],
  ['trailing bytes', msg(0, 0, '00'), /1 trailing bytes/, 12],
  ['missing table block', msg(0, 2, one(0, '05', '00')), /truncated varint table name length/, 20],
  ['symbol dictionary too large', msg(0x08, 0, `00 ${varint(2_000_001)}`), /2000001 > 2000000/, 12],
  ['invalid UTF-8 symbol', msg(0x08, 0, '00 01 01 c0'), /symbol 0 is not valid UTF-8/, 15],
  ['invalid UTF-8 table name', msg(0, 1, '01 ff 00 00'), /table name is not valid UTF-8/, 13],
];

describe('decodeMessage rejects what the server rejects', () => {
  for (const [label, bytes, reason, offset] of cases) {
    it(label, () => {
      let error: unknown;
      try {
        decodeMessage(bytes, new SymbolDictionary());
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(QwpDecodeError);
      const e = error as QwpDecodeError;
      expect(e.status).toBe(Status.PARSE_ERROR);
      expect(e.reason).toMatch(reason);
      expect(e.offset).toBe(offset);
      expect(e.message).toContain(`at byte ${offset}`);
    });
  }

  it('enforces the max batch size option', () => {
    const m = msg(0, 0, '');
    new DataView(m.buffer).setUint32(8, 101, true);
    expect(() => decodeMessage(m, null, { maxBatchSize: 100 })).toThrow(/101 exceeds 100/);
  });

  it('accepts a null bitmap with a valid dense column and empty arrays distinct from NULL', () => {
    const ok = msg(0, 1, one(3, '11', '01 02  01 00 00 00 00  02 02 00 00 00 00 00 00 00'));
    const col = decodeMessage(ok, null).tables[0]!.columns[0]!;
    expect(col.values).toEqual([
      { shape: [0], values: new Float64Array(0) },
      null,
      { shape: [2, 0], values: new Float64Array(0) },
    ]);
  });

  it('rejects a frame of a million rows and no data quickly and without allocating per row', () => {
    const t0 = Date.now();
    expect(() => decodeMessage(msg(0, 1, one(1_000_000, '01', '00')), null)).toThrow(
      QwpDecodeError,
    );
    expect(Date.now() - t0).toBeLessThan(500);
  });
});

describe('VARCHAR offsets out of order', () => {
  it('rejects a decreasing offset', () => {
    const offsets = '00 00 00 00  02 00 00 00  01 00 00 00  03 00 00 00';
    const bytes = msg(0, 1, one(3, '0f', `00 ${offsets} 61 62 63`));
    expect(() => decodeMessage(bytes, null)).toThrow(/offset\[2\] = 1 is out of order/);
  });
});
