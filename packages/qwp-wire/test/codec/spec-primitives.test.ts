import { describe, expect, it } from 'vitest';
import {
  ByteReader,
  ByteWriter,
  ColumnType,
  decodeMessage,
  GlobalSymbolDictionary,
  TableBuffer,
  writeTableBlock,
} from '../../src/index.js';
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
  const body = new Uint8Array([0x01, 0x74, rows, 0x01, 0x01, 0x63, type, ...column]);
  const out = new Uint8Array(12 + body.length);
  out.set([0x51, 0x57, 0x50, 0x31, 1, 0, 1, 0]);
  new DataView(out.buffer).setUint32(8, body.length, true);
  out.set(body, 12);
  return out;
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
