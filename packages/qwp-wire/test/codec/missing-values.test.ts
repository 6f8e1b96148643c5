import { describe, expect, it } from 'vitest';
import {
  type DecodedTable,
  decodeMessage,
  QwpBatch,
  QwpEncoder,
  SymbolDictionary,
  type TableBuffer,
} from '../../src/index.js';

/** Values of column `name` over all `tables` (split frames concatenated), in row order. */
function columnValues(tables: DecodedTable[], name: string): unknown[] {
  const out: unknown[] = [];
  for (const t of tables) {
    const c = t.columns.find((col) => col.name === name);
    if (c === undefined) throw new Error(`frame without column '${name}'`);
    out.push(...c.values);
  }
  return out;
}

function encodeDecode(fill: (t: TableBuffer) => void, maxBatchSize?: number): DecodedTable[] {
  const batch = new QwpBatch();
  fill(batch.table('t'));
  const enc = new QwpEncoder(batch.symbols, maxBatchSize === undefined ? {} : { maxBatchSize });
  const dict = new SymbolDictionary();
  return enc.encode(batch.tables()).flatMap((f) => decodeMessage(f, dict).tables);
}

/**
 * Six rows: `late*` columns first appear in row 3 (so rows 0-2 are back-filled),
 * and row 4 leaves every column out but `id`.
 */
function fill(t: TableBuffer): void {
  for (let row = 0; row < 6; row++) {
    t.longColumn('id', row);
    if (row !== 4) {
      t.varcharColumn('early', `e${row}`);
      if (row >= 3) {
        t.longColumn('late_long', row * 10)
          .booleanColumn('late_bool', true)
          .byteColumn('late_byte', row)
          .symbol('late_sym', `s${row}`)
          .doubleArrayColumn('late_arr', [row])
          .timestampColumn('late_ts', 1_000_000 + row, 'us');
      }
    }
    t.at(1_700_000_000_000_000n + BigInt(row), 'us');
  }
}

const EXPECTED: Record<string, unknown[]> = {
  id: [0n, 1n, 2n, 3n, 4n, 5n],
  early: ['e0', 'e1', 'e2', 'e3', null, 'e5'],
  late_long: [null, null, null, 30n, null, 50n],
  // BOOLEAN and BYTE have no null in QuestDB: a missing value is sent as false / 0.
  late_bool: [false, false, false, true, false, true],
  late_byte: [0, 0, 0, 3, 0, 5],
  late_sym: [null, null, null, 's3', null, 's5'],
  late_arr: [
    null,
    null,
    null,
    { shape: [1], values: new Float64Array([3]) },
    null,
    { shape: [1], values: new Float64Array([5]) },
  ],
  late_ts: [null, null, null, 1_000_003n, null, 1_000_005n],
};

describe('missing values', () => {
  it('a column first written mid-batch is null in the earlier rows; a row that omits a column is null in it', () => {
    const tables = encodeDecode(fill);
    expect(tables).toHaveLength(1);
    for (const [name, values] of Object.entries(EXPECTED)) {
      expect(columnValues(tables, name), name).toEqual(values);
    }
  });

  it('the same holds when the batch is split into frames at any row', () => {
    // Small enough that some frames carry only back-filled rows of the late columns.
    const tables = encodeDecode(fill, 190);
    expect(tables.length).toBeGreaterThan(2);
    for (const [name, values] of Object.entries(EXPECTED)) {
      expect(columnValues(tables, name), name).toEqual(values);
    }
  });
});
