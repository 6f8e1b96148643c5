import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  GlobalSymbolDictionary,
  Limits,
  QwpBatch,
  QwpEncoder,
  QwpError,
  QwpInvalidValueError,
  SymbolDictionary,
  tableRows,
} from '../../src/index.js';

/** Encodes the batch on a fresh connection; returns its symbol delta and rows per table. */
function sent(batch: QwpBatch): { delta: string[]; rows: Record<string, unknown[]> } {
  const server = new SymbolDictionary();
  const rows: Record<string, unknown[]> = {};
  const delta: string[] = [];
  for (const frame of new QwpEncoder(batch.symbols).encode(batch.tables())) {
    const msg = decodeMessage(frame, server);
    if (msg.symbolDelta !== null) delta.push(...msg.symbolDelta.entries);
    for (const t of msg.tables) rows[t.name] = [...(rows[t.name] ?? []), ...tableRows(t)];
  }
  return { delta, rows };
}

function invalid(fn: () => unknown): QwpInvalidValueError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(QwpInvalidValueError);
    return err as QwpInvalidValueError;
  }
  throw new Error('expected a QwpInvalidValueError');
}

describe('symbols of discarded rows never enter the dictionary', () => {
  it('a row refused after symbol() leaves no id; the next new symbol takes the next id', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    t.symbol('s', 'kept').at(1n);
    invalid(() => t.symbol('s', 'lost').longColumn('n', 0.5));
    expect(batch.symbols.peek('lost')).toBeUndefined();
    expect(batch.symbols.symbols).toEqual(['kept']);
    t.symbol('s', 'next').at(2n);
    expect(batch.symbols.peek('next')).toBe(1);
    expect(sent(batch)).toEqual({
      delta: ['kept', 'next'],
      rows: {
        t: [
          { s: 'kept', '': 1n },
          { s: 'next', '': 2n },
        ],
      },
    });
  });

  it('discardRow() drops the open row with its new symbols', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    t.symbol('a', 'x').symbol('b', 'y');
    t.discardRow();
    t.symbol('a', 'y').atNow();
    expect(batch.symbols.symbols).toEqual(['y']);
    expect(sent(batch).delta).toEqual(['y']);
  });

  it('a new symbol gets its id when its row completes, in the order its row used it', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    // The same new string in two columns of one row: one id.
    t.symbol('a', 'p').symbol('b', 'q').symbol('c', 'p');
    expect(batch.symbols.size).toBe(0);
    t.atNow();
    expect(batch.symbols.symbols).toEqual(['p', 'q']);
    expect(sent(batch).rows.t).toEqual([{ a: 'p', b: 'q', c: 'p' }]);
  });

  it('two tables with open rows: a row completed meanwhile keeps its id, ids stay contiguous', () => {
    const batch = new QwpBatch();
    const a = batch.table('a');
    const b = batch.table('b');
    a.symbol('s', 'x'); // open in a
    b.symbol('s', 'y').at(1n); // completed in b
    a.symbol('u', 'z');
    invalid(() => a.longColumn('n', 2 ** 70)); // a's row refused
    expect(batch.symbols.symbols).toEqual(['y']);
    a.symbol('s', 'w').at(2n);
    expect(batch.symbols.symbols).toEqual(['y', 'w']);
    const out = sent(batch);
    expect(out.delta).toEqual(['y', 'w']);
    expect(out.rows).toEqual({ a: [{ s: 'w', '': 2n }], b: [{ s: 'y', '': 1n }] });
  });

  it('a new symbol shared by two open rows: the discard of one leaves it to the other', () => {
    for (const first of ['a', 'b'] as const) {
      const batch = new QwpBatch();
      const t = { a: batch.table('a'), b: batch.table('b') };
      const other = first === 'a' ? 'b' : 'a';
      t.a.symbol('s', 'shared');
      t.b.symbol('s', 'shared');
      t[first].discardRow();
      expect(batch.symbols.size).toBe(0);
      t[other].at(7n);
      expect(batch.symbols.symbols).toEqual(['shared']);
      expect(sent(batch)).toEqual({
        delta: ['shared'],
        rows: { [other]: [{ s: 'shared', '': 7n }] },
      });
      // ... and both discarded: nothing at all.
      const empty = new QwpBatch();
      empty.table('a').symbol('s', 'gone');
      empty.table('b').symbol('s', 'gone');
      empty.table('a').discardRow();
      invalid(() => empty.table('b').symbol('s', 'gone'));
      expect(empty.symbols.size).toBe(0);
    }
  });

  it('a symbol completed by another table first keeps that id for the later row', () => {
    const batch = new QwpBatch();
    batch.table('a').symbol('s', 'x');
    batch.table('b').symbol('s', 'x').at(1n);
    batch.table('a').at(2n);
    expect(batch.symbols.symbols).toEqual(['x']);
    expect(sent(batch).rows).toEqual({ a: [{ s: 'x', '': 2n }], b: [{ s: 'x', '': 1n }] });
  });

  it('encoding while a row is open sends the completed rows only, and no symbol of the open row', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    const server = new SymbolDictionary();
    const t = batch.table('t');
    t.symbol('s', 'done').longColumn('n', 1).at(1n);
    t.symbol('s', 'open').longColumn('n', 2);
    const [f1] = enc.encode(batch.tables());
    const m1 = decodeMessage(f1!, server);
    expect(m1.symbolDelta!.entries).toEqual(['done']);
    expect(tableRows(m1.tables[0]!)).toEqual([{ s: 'done', n: 1n, '': 1n }]);
    // The open row is intact and completes normally.
    t.at(2n);
    const [f2] = enc.encode(batch.tables());
    const m2 = decodeMessage(f2!, server);
    expect(m2.symbolDelta).toEqual({ start: 1, entries: ['open'] });
    expect(tableRows(m2.tables[0]!)).toEqual([
      { s: 'done', n: 1n, '': 1n },
      { s: 'open', n: 2n, '': 2n },
    ]);
  });

  it("the server's limit holds when two open rows each took the last free id", () => {
    // Pretends to hold MAX - 1 symbols more than it does.
    class NearlyFull extends GlobalSymbolDictionary {
      override get size(): number {
        return super.size + Limits.MAX_SYMBOL_DICTIONARY_SIZE - 1;
      }
    }
    const batch = new QwpBatch(new NearlyFull());
    const a = batch.table('a');
    const b = batch.table('b');
    a.symbol('s', 'p').symbol('t', 'p'); // one new symbol, used twice: fits
    b.symbol('s', 'q'); // fits too, until a's row takes the last id
    a.at(1n);
    const err = invalid(() => b.at(2n));
    expect(err.message).toMatch(/symbol dictionary is full/);
    expect([err.table, err.column, err.value]).toEqual(['b', 's', 'q']);
    expect(b.rowCount).toBe(0);
    expect(b.hasOpenRow).toBe(false);
    expect(batch.symbols.symbols).toEqual(['p']);
    // A known symbol still works; a second new one in one row is refused at symbol().
    b.symbol('s', 'p').at(3n);
    invalid(() => b.symbol('s', 'r'));
  });
});

describe('GlobalSymbolDictionary.truncate', () => {
  it('drops the ids from size on: lookups, strings and UTF-8; the next new symbol reuses the id', () => {
    const d = GlobalSymbolDictionary.from(['a', 'b', 'c', 'd']);
    d.truncate(2);
    expect(d.size).toBe(2);
    expect(d.symbols).toEqual(['a', 'b']);
    expect(d.utf8.map((u) => new TextDecoder().decode(u))).toEqual(['a', 'b']);
    expect(d.peek('c')).toBeUndefined();
    expect(d.peek('b')).toBe(1);
    expect(d.idOf('d')).toBe(2);
    d.truncate(3);
    expect(d.size).toBe(3);
    d.truncate(0);
    expect([d.size, d.peek('a')]).toEqual([0, undefined]);
  });

  it.each([5, -1, 1.5, Number.NaN])('refuses size %s (the dictionary holds 4)', (size) => {
    const d = GlobalSymbolDictionary.from(['a', 'b', 'c', 'd']);
    expect(() => d.truncate(size)).toThrow(QwpError);
    expect(() => d.truncate(size)).toThrow(/cannot truncate the symbol dictionary to .* holds 4/);
    expect(d.size).toBe(4);
  });

  it('a sender reset: clear the batch, truncate to sentSymbols, and the next frame continues the delta', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    const server = new SymbolDictionary();
    batch.table('t').symbol('s', 'a').atNow();
    enc.encodeEach(batch.tables(), (f) => decodeMessage(f, server));
    batch.clear();
    batch.table('t').symbol('s', 'b').atNow();
    batch.clear();
    batch.symbols.truncate(enc.sentSymbols);
    batch.table('t').symbol('s', 'c').atNow();
    const [frame] = enc.encode(batch.tables());
    const msg = decodeMessage(frame!, server);
    expect(msg.symbolDelta).toEqual({ start: 1, entries: ['c'] });
    expect(tableRows(msg.tables[0]!)).toEqual([{ s: 'c' }]);
  });

  it('the encoder refuses a dictionary truncated below what it sent, rather than a broken delta', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    batch.table('t').symbol('s', 'a').symbol('u', 'b').atNow();
    enc.encode(batch.tables());
    batch.clear();
    batch.symbols.truncate(1);
    batch.table('t').longColumn('n', 1).atNow();
    expect(() => enc.encode(batch.tables())).toThrow(
      /holds 1 symbols, fewer than the 2 already sent/,
    );
    expect(() => enc.encodeCommit()).toThrow(QwpError);
    enc.resetConnection();
    expect(enc.encode(batch.tables())).toHaveLength(1);
  });
});

describe('FrameSink: the symbol delta range of each frame', () => {
  /** Each frame's range next to what the decoder reads in its delta section. */
  function ranges(
    batch: QwpBatch,
    enc: QwpEncoder,
    server: SymbolDictionary,
  ): { range: [number, number]; delta: [number, number] }[] {
    const out: { range: [number, number]; delta: [number, number] }[] = [];
    enc.encodeEach(batch.tables(), (frame, start, end) => {
      const d = decodeMessage(frame, server, { maxBatchSize: enc.maxBatchSize }).symbolDelta!;
      out.push({ range: [start, end], delta: [d.start, d.start + d.entries.length] });
    });
    return out;
  }

  it('one frame: the new ids; a frame without new symbols: an empty range at the watermark', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    const server = new SymbolDictionary();
    batch.table('t').symbol('s', 'a').symbol('u', 'b').atNow();
    expect(ranges(batch, enc, server)).toEqual([{ range: [0, 2], delta: [0, 2] }]);
    batch.clear();
    batch.table('t').symbol('s', 'b').atNow();
    expect(ranges(batch, enc, server)).toEqual([{ range: [2, 2], delta: [2, 2] }]);
  });

  it('split frames and delta-only frames: contiguous ranges that match each delta', () => {
    const batch = new QwpBatch();
    const t = batch.table('t');
    for (let i = 0; i < 60; i++)
      t.symbol('s', `sym-${i}-${'x'.repeat(20)}`)
        .longColumn('n', i)
        .atNow();
    const enc = new QwpEncoder(batch.symbols, { maxBatchSize: 400 });
    const out = ranges(batch, enc, new SymbolDictionary());
    expect(out.length).toBeGreaterThan(3);
    let next = 0;
    for (const { range, delta } of out) {
      expect(range).toEqual(delta);
      expect(range[0]).toBe(next);
      next = range[1];
    }
    expect(next).toBe(60);
  });

  it('a frame the sink refused is handed out again with the same range', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    batch.table('t').symbol('s', 'a').atNow();
    const seen: [number, number][] = [];
    expect(() =>
      enc.encodeEach(batch.tables(), (_f, start, end) => {
        seen.push([start, end]);
        throw new Error('ring full');
      }),
    ).toThrow('ring full');
    enc.encodeEach(batch.tables(), (_f, start, end) => {
      seen.push([start, end]);
    });
    expect(seen).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });
});
