import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  QwpBatch,
  QwpEncoder,
  SymbolDictionary,
  tableRows,
} from '../../src/index.js';

describe('encode -> decode', () => {
  it('round-trips a trades batch', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    const t = batch.table('trades');
    for (let i = 0; i < 100; i++) {
      t.symbol('sym', `S${i % 10}`)
        .longColumn('qty', i)
        .doubleColumn('px', i / 4)
        .at(1_700_000_000_000_000_000n + BigInt(i * 1000), 'ns');
    }
    const frames = enc.encode(batch.tables());
    expect(frames).toHaveLength(1);
    const dict = new SymbolDictionary();
    const msg = decodeMessage(frames[0]!, dict);
    expect(dict.size).toBe(10);
    const rows = tableRows(msg.tables[0]!);
    expect(rows[7]).toEqual({ sym: 'S7', qty: 7n, px: 1.75, '': 1_700_000_000_000_007_000n });
    expect(msg.tables[0]!.columns[3]!.encoding).toBe(1);
  });
});
