import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/codec/byte-writer.js';
import { writeTableBlock } from '../../src/codec/encoder.js';
import { GlobalSymbolDictionary, QwpBatch, QwpEncoder, TableBuffer } from '../../src/index.js';
import { toHex } from './hex.js';
import { NULLABLE_VARCHAR_COLUMN, SENSORS_GORILLA, SENSORS_PLAIN } from './spec-examples.js';

describe('encoder reproduces the spec examples byte for byte', () => {
  it('"single table with three columns" (table block, no Gorilla)', () => {
    const t = new TableBuffer('sensors', new GlobalSymbolDictionary());
    t.longColumn('id', 1).doubleColumn('value', 1.3).at(10000000000, 'us');
    t.longColumn('id', 2).doubleColumn('value', 2.2).at(400000, 'us');
    const w = new ByteWriter();
    writeTableBlock(w, t, 0, t.rowCount, false);
    // The example has no FLAG_DELTA_SYMBOL_DICT, which our encoder always sets:
    // compare the table block, the whole payload of the example.
    expect(toHex(w.copy())).toBe(toHex(SENSORS_PLAIN.subarray(12)));
  });

  it('"nullable VARCHAR column" (column data section)', () => {
    const t = new TableBuffer('t', new GlobalSymbolDictionary());
    for (const v of ['foo', null, 'bar', 'baz']) {
      t.varcharColumn('v', v);
      t.atNow();
    }
    const w = new ByteWriter();
    writeTableBlock(w, t, 0, t.rowCount, false);
    // Block: name (2) + rows (1) + columns (1) + def (3) = 7 bytes before the column.
    expect(toHex(w.copy(7))).toBe(toHex(NULLABLE_VARCHAR_COLUMN));
  });

  it('"Gorilla timestamps with delta symbol dictionary" (whole message)', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols, { gorilla: true });
    const t = batch.table('sensors');
    t.symbol('host', 'server1').doubleColumn('temp', 91.6).at(1000000n, 'us');
    t.symbol('host', 'server2').doubleColumn('temp', 92.4).at(2000000n, 'us');
    const [frame, ...rest] = enc.encode(batch.tables());
    expect(rest).toHaveLength(0);
    expect(toHex(frame!)).toBe(toHex(SENSORS_GORILLA));
  });
});
