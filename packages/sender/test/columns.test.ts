import { inspectSymbolDict } from '@qwp/segment-log/inspect';
import { describe, expect, it } from 'vitest';
import { QwpInvalidValueError } from '../src/index.js';
import { confFor, sender, server, tempDir, writeTrades } from './helpers.js';

describe('columnar API', () => {
  it('appends typed-array columns, dictionary symbols and nulls, split into frames as needed', async () => {
    const s = await server({ maxBatchSize: 65536 });
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    const n = 50_000;
    const px = new Float64Array(n);
    const qty = new BigInt64Array(n);
    const ts = new BigInt64Array(n);
    const idx = new Uint8Array(n);
    const nulls = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      px[i] = i / 4;
      qty[i] = BigInt(i);
      ts[i] = BigInt(1_700_000_000_000_000 + i);
      idx[i] = i % 3;
      nulls[i] = i % 10 === 0 ? 1 : 0;
    }
    snd.columns(
      'trades',
      [
        { name: 'sym', type: 'SYMBOL', values: { dictionary: ['A', 'B', 'C'], indices: idx } },
        { name: 'px', type: 'DOUBLE', values: px, nulls },
        { name: 'qty', type: 'LONG', values: qty },
      ],
      { timestamps: ts, unit: 'us' },
    );
    expect(snd.stats().bufferedRows).toBe(n);
    await snd.drain(10_000);
    const rows = s.rows('trades');
    expect(rows).toHaveLength(n);
    expect(rows[7]).toMatchObject({
      sym: 'B',
      px: 7 / 4,
      qty: 7n,
      timestamp: 1_700_000_000_000_007n,
    });
    expect(rows[10]!.px).toBeNull();
    expect(s.stats().frames).toBeGreaterThan(5); // 50k rows do not fit one 64 KiB frame
  });

  it('auto-flushes a columnar append that crosses auto_flush_rows', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush_rows=100;auto_flush_interval=off;'));
    snd.columns('t', [{ name: 'v', type: 'INT', values: new Int32Array(250) }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.rows('t')).toHaveLength(250);
  });

  it('a bad column adds nothing and names the table, column and row', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    let err: unknown;
    try {
      snd.columns('t', [
        { name: 'a', type: 'INT', values: new Int32Array(3) },
        { name: 'b', type: 'VARCHAR', values: ['x', 'y'] },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QwpInvalidValueError);
    expect((err as Error).message).toMatch(/\bt\b/);
    expect((err as Error).message).toMatch(/\bb\b/);
    expect(snd.stats().bufferedRows).toBe(0);
    snd.table('t').intColumn('a', 1).atNow();
    await snd.drain(5000);
    expect(s.rows('t')).toHaveLength(1);
  });
});

describe('symbols of rows that never went out', () => {
  it('a symbol seen only in a discarded or reset row never reaches the dictionary on disk', async () => {
    const s = await server();
    const dir = tempDir();
    const snd = await sender(confFor(s, `sf_dir=${dir};sender_id=syms;auto_flush=off;`));
    writeTrades(snd, 0, 3);
    await snd.flush();
    expect(() =>
      snd.table('trades').symbol('sym', 'DISCARDED').intColumn('qty', 0.5).at(9, 'us'),
    ).toThrow(QwpInvalidValueError);
    snd.table('trades').symbol('sym', 'RESET').floatColumn('px', 1).intColumn('qty', 1).at(9, 'us');
    snd.reset();
    writeTrades(snd, 3, 1);
    await snd.drain(5000);
    const dict = inspectSymbolDict(`${dir}/syms/.symbol-dict`);
    expect(dict.entries).toEqual(['ETH-USD', 'BTC-USD', 'SOL-USD']);
    expect(new Set(s.rows('trades').map((r) => r.sym))).toEqual(
      new Set(['ETH-USD', 'BTC-USD', 'SOL-USD']),
    );
  });

  it('an aborted transaction leaves none of its symbols behind', async () => {
    const s = await server();
    const dir = tempDir();
    const snd = await sender(
      confFor(s, `sf_dir=${dir};sender_id=txsyms;auto_flush_rows=2;auto_flush_interval=off;`),
    );
    await expect(
      snd.transaction((tx) => {
        for (let i = 0; i < 5; i++)
          tx.table('t')
            .symbol('s', `tx-only-${i}`)
            .at(i + 1, 'us');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    snd.table('t').symbol('s', 'kept').at(100, 'us');
    await snd.drain(5000);
    expect(inspectSymbolDict(`${dir}/txsyms/.symbol-dict`).entries).toEqual(['kept']);
    expect(s.rows('t').map((r) => r.s)).toEqual(['kept']);
  });
});
