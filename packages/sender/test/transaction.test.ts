import { describe, expect, it } from 'vitest';
import { SenderStateError, TransactionError } from '../src/index.js';
import { confFor, sender, server, writeTrades } from './helpers.js';

describe('transactions', () => {
  it('everything written in the callback commits at once, across many frames', async () => {
    const commits: number[] = [];
    const s = await server({ onCommit: (_t, rows) => commits.push(rows.length) });
    const snd = await sender(confFor(s, 'auto_flush_rows=7;auto_flush_interval=off;'));
    const result = await snd.transaction(async (tx) => {
      writeTrades(tx, 0, 50);
      tx.flush();
      writeTrades(tx, 50, 3);
      await new Promise((r) => setTimeout(r, 50));
      expect(s.rows('trades')).toHaveLength(0); // nothing leaves before the commit
      return 'done';
    });
    expect(result).toBe('done');
    await snd.drain(5000);
    expect(s.rows('trades')).toHaveLength(53);
    expect(commits).toEqual([53]);
    expect(s.stats().frames).toBeGreaterThan(5); // split into deferred frames, one commit
  });

  it('a callback that throws sends nothing, and the sender goes on', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush_rows=5;auto_flush_interval=off;'));
    const boom = new Error('boom');
    await expect(
      snd.transaction((tx) => {
        writeTrades(tx, 0, 20);
        throw boom;
      }),
    ).rejects.toBe(boom);
    writeTrades(snd, 100, 2);
    await snd.drain(5000);
    expect(s.rows('trades').map((r) => r.qty)).toEqual([100n, 101n]);
  });

  it('inside a transaction the sender refuses rows; tx refuses use after its end; no nesting', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    let leaked: import('../src/index.js').Transaction | undefined;
    await snd.transaction(async (tx) => {
      leaked = tx;
      expect(() => snd.table('t')).toThrow(SenderStateError);
      await expect(snd.flush()).rejects.toBeInstanceOf(SenderStateError);
      await expect(snd.transaction(() => {})).rejects.toBeInstanceOf(TransactionError);
      tx.table('t').intColumn('x', 1).atNow();
    });
    expect(() => leaked!.table('t')).toThrow(TransactionError);
    await snd.drain(5000);
    expect(s.rows('t')).toHaveLength(1);
  });

  it('a transaction larger than the buffer can hold is refused', async () => {
    const s = await server();
    const snd = await sender(
      confFor(
        s,
        'sf_max_bytes=65536;sf_max_total_bytes=196608;auto_flush_rows=100;auto_flush_interval=off;',
      ),
    );
    await expect(
      snd.transaction((tx) => {
        writeTrades(tx, 0, 20_000);
      }),
    ).rejects.toBeInstanceOf(TransactionError);
    writeTrades(snd, 0, 1);
    await snd.drain(5000);
    expect(s.rows('trades')).toHaveLength(1);
  });
});
