import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  FLAG_DEFER_COMMIT,
  FLAG_DELTA_SYMBOL_DICT,
  FLAG_GORILLA,
  Limits,
  QwpBatch,
  QwpBatchSizeError,
  QwpEncoder,
  SymbolDictionary,
  tableRows,
} from '../../src/index.js';

describe('QwpEncoder', () => {
  it('sends each symbol once per connection and resends after resetConnection via catch-up', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    const server = new SymbolDictionary();
    batch.table('t').symbol('s', 'a').symbol('x', 'b').atNow();
    const [f1] = enc.encode(batch.tables());
    expect(decodeMessage(f1!, server).symbolDelta).toEqual({ start: 0, entries: ['a', 'b'] });
    batch.clear();
    batch.table('t').symbol('s', 'b').symbol('x', 'c').atNow();
    const [f2] = enc.encode(batch.tables());
    expect(decodeMessage(f2!, server).symbolDelta).toEqual({ start: 2, entries: ['c'] });
    expect(enc.sentSymbols).toBe(3);

    // Reconnect: a fresh server dictionary; the old frame would be a gap.
    enc.resetConnection();
    const fresh = new SymbolDictionary();
    expect(() => decodeMessage(f2!, fresh)).toThrow(/starts at id 2/);
    const catchUp = enc.encodeCatchUp();
    expect(catchUp).toHaveLength(1);
    const cu = decodeMessage(catchUp[0]!, fresh);
    expect(cu.header.flags).toBe(FLAG_DEFER_COMMIT | FLAG_DELTA_SYMBOL_DICT | FLAG_GORILLA);
    expect(cu.header.tableCount).toBe(0);
    expect(fresh.entries).toEqual(['a', 'b', 'c']);
    // Replaying the stored frame now overlaps and is accepted.
    expect(tableRows(decodeMessage(f2!, fresh).tables[0]!)).toEqual([{ s: 'b', x: 'c' }]);
  });

  it('setSentSymbols declares symbols the server holds; setMaxBatchSize changes the frame limit', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    batch.table('t').symbol('s', 'a').atNow();
    batch.table('t').symbol('s', 'b').atNow();
    // A restored sender: ids 0 and 1 crossed the connection before.
    enc.setSentSymbols(2);
    const server = new SymbolDictionary();
    server.apply(0, ['a', 'b']);
    batch.table('t').symbol('s', 'c').atNow();
    const [frame] = enc.encode(batch.tables());
    expect(decodeMessage(frame!, server).symbolDelta).toEqual({ start: 2, entries: ['c'] });
    expect(enc.sentSymbols).toBe(3);
    for (const bad of [-1, 4, 1.5, Number.NaN]) {
      expect(() => enc.setSentSymbols(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_QWP_SYMBOL_DICTIONARY' }),
      );
    }
    expect(enc.sentSymbols).toBe(3);

    enc.setMaxBatchSize(64);
    expect(enc.maxBatchSize).toBe(64);
    batch.clear();
    for (let i = 0; i < 20; i++) batch.table('t').intColumn('v', i).atNow();
    const frames = enc.encode(batch.tables());
    expect(frames.length).toBeGreaterThan(1);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(64);
    for (const bad of [12, 0, 100.5]) {
      expect(() => enc.setMaxBatchSize(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_QWP_BATCH_SIZE' }),
      );
      expect(() => new QwpEncoder(batch.symbols, { maxBatchSize: bad })).toThrow(
        expect.objectContaining({ code: 'ERR_QWP_BATCH_SIZE' }),
      );
    }
    expect(enc.maxBatchSize).toBe(64);
  });

  it('splits a large dictionary catch-up into frames that fit', () => {
    const batch = new QwpBatch();
    for (let i = 0; i < 300; i++) batch.symbols.idOf(`symbol-${i}`);
    const enc = new QwpEncoder(batch.symbols, { maxBatchSize: 256 });
    const frames = enc.encodeCatchUp();
    expect(frames.length).toBeGreaterThan(10);
    const server = new SymbolDictionary();
    for (const f of frames) {
      expect(f.length).toBeLessThanOrEqual(256);
      expect(f[5]! & FLAG_DEFER_COMMIT).toBe(FLAG_DEFER_COMMIT);
      decodeMessage(f, server, { maxBatchSize: 256 });
    }
    expect(server.entries).toEqual(batch.symbols.symbols);
  });

  it('sends new symbols that do not fit beside the rows in delta-only frames first', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    for (let i = 0; i < 50; i++) t.symbol('s', `a-rather-long-symbol-value-${i}`).atNow();
    const enc = new QwpEncoder(batch.symbols, { maxBatchSize: 300 });
    const frames = enc.encode(batch.tables());
    const server = new SymbolDictionary();
    const rows: unknown[] = [];
    frames.forEach((f, i) => {
      expect(f.length).toBeLessThanOrEqual(300);
      const m = decodeMessage(f, server, { maxBatchSize: 300 });
      expect((m.header.flags & FLAG_DEFER_COMMIT) !== 0).toBe(i < frames.length - 1);
      for (const tb of m.tables) rows.push(...tableRows(tb));
    });
    expect(rows).toHaveLength(50);
    expect(rows[49]).toEqual({ s: 'a-rather-long-symbol-value-49' });
  });

  it('packs several tables into one message and splits across tables', () => {
    const batch = new QwpBatch();
    for (let i = 0; i < 30; i++) {
      batch.table('a').longColumn('v', i).atNow();
      batch.table('b').doubleColumn('w', i).atNow();
    }
    const one = new QwpEncoder(batch.symbols).encode(batch.tables());
    expect(one).toHaveLength(1);
    expect(decodeMessage(one[0]!, new SymbolDictionary()).tables.map((t) => t.name)).toEqual([
      'a',
      'b',
    ]);
    const split = new QwpEncoder(batch.symbols, { maxBatchSize: 200 }).encode(batch.tables());
    expect(split.length).toBeGreaterThan(2);
    const server = new SymbolDictionary();
    const count: Record<string, number> = {};
    for (const f of split) {
      for (const tb of decodeMessage(f, server, { maxBatchSize: 200 }).tables) {
        count[tb.name] = (count[tb.name] ?? 0) + tb.rowCount;
      }
    }
    expect(count).toEqual({ a: 30, b: 30 });
  });

  it('fails cleanly when one row cannot fit', () => {
    const batch = new QwpBatch();
    batch.table('t').binaryColumn('b', new Uint8Array(500)).atNow();
    const enc = new QwpEncoder(batch.symbols, { maxBatchSize: 200 });
    expect(() => enc.encode(batch.tables())).toThrow(QwpBatchSizeError);
  });

  it('encodeCommit is an empty message with DEFER_COMMIT clear', () => {
    const enc = new QwpEncoder(new QwpBatch().symbols, { gorilla: false });
    const m = decodeMessage(enc.encodeCommit(), new SymbolDictionary());
    expect(m.header).toEqual({
      version: 1,
      flags: FLAG_DELTA_SYMBOL_DICT,
      tableCount: 0,
      payloadLength: 2,
    });
  });

  it('a deferred batch sets DEFER_COMMIT on its only frame', () => {
    const batch = new QwpBatch();
    batch.table('t').longColumn('v', 1).atNow();
    const [f] = new QwpEncoder(batch.symbols).encode(batch.tables(), true);
    expect(f![5]! & FLAG_DEFER_COMMIT).toBe(FLAG_DEFER_COMMIT);
  });

  it('reuses buffers across batches without leaking rows or columns', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    batch.table('t').longColumn('a', 1).longColumn('b', 2).at(1n);
    enc.encode(batch.tables());
    batch.clear();
    batch.table('t').longColumn('a', 3).at(2n);
    const [f] = enc.encode(batch.tables());
    expect(tableRows(decodeMessage(f!, null).tables[0]!)).toEqual([{ a: 3n, '': 2n }]);
  });

  it('empty batches encode no tables', () => {
    const batch = new QwpBatch();
    batch.table('t');
    const [f] = new QwpEncoder(batch.symbols).encode(batch.tables());
    expect(decodeMessage(f!, null).tables).toEqual([]);
  });
});

describe('GlobalSymbolDictionary', () => {
  it('assigns ids in first-use order and rebuilds from a persisted list', async () => {
    const { GlobalSymbolDictionary } = await import('../../src/index.js');
    const d = new GlobalSymbolDictionary();
    expect([d.idOf('x'), d.idOf('y'), d.idOf('x')]).toEqual([0, 1, 0]);
    const again = GlobalSymbolDictionary.from(d.symbols);
    expect(again.peek('y')).toBe(1);
    expect(() => GlobalSymbolDictionary.from(['a', 'a'])).toThrow(/duplicate/);
  });
});

describe('QwpEncoder.encodeEach', () => {
  it('hands out views and advances the watermark only past accepted frames', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    batch.table('t').symbol('s', 'a').atNow();
    expect(() =>
      enc.encodeEach(batch.tables(), () => {
        throw new Error('ring full');
      }),
    ).toThrow('ring full');
    expect(enc.sentSymbols).toBe(0);
    const seen: Uint8Array[] = [];
    enc.encodeEach(batch.tables(), (f) => seen.push(f.slice()));
    expect(enc.sentSymbols).toBe(1);
    expect(decodeMessage(seen[0]!, new SymbolDictionary()).symbolDelta).toEqual({
      start: 0,
      entries: ['a'],
    });
  });

  it('a row that fits no frame fails before the sink takes any frame with rows', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    for (let i = 0; i < 40; i++) t.symbol('s', `v${i}`).longColumn('n', i).atNow();
    t.binaryColumn('b', new Uint8Array(500)).atNow();
    for (let i = 0; i < 40; i++) t.longColumn('n', i).atNow();
    const enc = new QwpEncoder(batch.symbols, { maxBatchSize: 200 });
    const taken: Uint8Array[] = [];
    expect(() => enc.encodeEach(batch.tables(), (f) => taken.push(f.slice()))).toThrow(
      QwpBatchSizeError,
    );
    // Delta-only frames register symbols and commit nothing; no rows went out.
    const server = new SymbolDictionary();
    for (const f of taken) {
      expect(decodeMessage(f, server, { maxBatchSize: 200 }).tables).toHaveLength(0);
    }
    expect(enc.sentSymbols).toBe(server.size);
  });

  it('sends a delta that crowds out the first row as its own frame', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    t.symbol('s', 'x'.repeat(150)).binaryColumn('b', new Uint8Array(100)).atNow();
    const enc = new QwpEncoder(batch.symbols, { maxBatchSize: 260 });
    const frames = enc.encode(batch.tables());
    expect(frames.length).toBe(2);
    const server = new SymbolDictionary();
    expect(decodeMessage(frames[0]!, server, { maxBatchSize: 260 }).tables).toHaveLength(0);
    const rows = tableRows(decodeMessage(frames[1]!, server, { maxBatchSize: 260 }).tables[0]!);
    expect(rows[0]!.s).toBe('x'.repeat(150));
  });
});

describe('QwpEncoder: rows per table block', () => {
  it('splits a table of more than 1,000,000 rows into DEFER_COMMIT frames the decoder accepts', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    const t = batch.table('t');
    const rows = Limits.MAX_ROWS_PER_TABLE * 2 + 5;
    for (let i = 0; i < rows; i++) t.booleanColumn('b', i % 3 === 0).atNow();
    batch.table('u').longColumn('v', 1).atNow();
    const frames = enc.encode(batch.tables());
    // Small enough for one frame by bytes, so only the row limit splits it.
    expect(frames.reduce((n, f) => n + f.length, 0)).toBeLessThan(Limits.MAX_BATCH_SIZE);
    expect(frames).toHaveLength(3);
    const dict = new SymbolDictionary();
    const counts: [string, number][] = [];
    let trues = 0;
    frames.forEach((f, i) => {
      expect((f[5]! & FLAG_DEFER_COMMIT) !== 0).toBe(i < frames.length - 1);
      for (const table of decodeMessage(f, dict).tables) {
        counts.push([table.name, table.rowCount]);
        if (table.name === 't') for (const v of table.columns[0]!.values) if (v === true) trues++;
      }
    });
    expect(counts).toEqual([
      ['t', Limits.MAX_ROWS_PER_TABLE],
      ['t', Limits.MAX_ROWS_PER_TABLE],
      ['t', 5],
      ['u', 1],
    ]);
    expect(trues).toBe(Math.ceil(rows / 3));
  });
});

describe('QwpEncoder: splitting a large batch', () => {
  it('is linear in the rows and packs frames full (1,000,000 nullable rows into 256 KiB frames)', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    const rows = 1_000_000;
    for (let i = 0; i < rows; i++) {
      t.longColumn('a', i % 3 === 0 ? null : i)
        .varcharColumn('s', i % 7 === 0 ? null : 'x'.repeat(i % 13))
        .at(1_700_000_000_000_000 + i, 'us');
    }
    const max = 256 * 1024;
    const enc = new QwpEncoder(batch.symbols, { maxBatchSize: max });
    const t0 = performance.now();
    const frames = enc.encode(batch.tables());
    // Quadratic splitting took over 8 s here; linear takes a small fraction of one.
    expect(performance.now() - t0).toBeLessThan(3000);
    for (const f of frames.slice(0, -1)) expect(f.length).toBeGreaterThan(max * 0.95);
    const dict = new SymbolDictionary();
    let seen = 0;
    let wrong = 0;
    for (const f of frames) {
      for (const table of decodeMessage(f, dict, { maxBatchSize: max }).tables) {
        const a = table.columns.find((c) => c.name === 'a')!.values;
        const s = table.columns.find((c) => c.name === 's')!.values;
        for (let r = 0; r < table.rowCount; r++, seen++) {
          if (a[r] !== (seen % 3 === 0 ? null : BigInt(seen))) wrong++;
          if (s[r] !== (seen % 7 === 0 ? null : 'x'.repeat(seen % 13))) wrong++;
        }
      }
    }
    expect(seen).toBe(rows);
    expect(wrong).toBe(0);
  }, 60_000);
});
