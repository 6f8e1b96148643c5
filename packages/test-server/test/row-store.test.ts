import { ColumnType, type DecodedMessage, Status } from '@qwp/qwp-wire/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameRejectedError } from '../src/errors.js';
import { PendingTxn, RowStore } from '../src/row-store.js';

const SEED = Number(process.env.QWP_TEST_SEED ?? 7);
const RUNS = process.env.QWP_TEST_LONG === '1' ? 2000 : 100;

function msg(table: string, rows: { k: string; ts: bigint; v: number }[]): DecodedMessage {
  return {
    header: { version: 1, flags: 0, tableCount: 1, payloadLength: 0 },
    symbolDelta: null,
    tables: [
      {
        name: table,
        rowCount: rows.length,
        columns: [
          { name: 'k', type: ColumnType.SYMBOL, nullFlag: 0, values: rows.map((r) => r.k) },
          { name: 'v', type: ColumnType.DOUBLE, nullFlag: 0, values: rows.map((r) => r.v) },
          { name: '', type: ColumnType.TIMESTAMP, nullFlag: 0, values: rows.map((r) => r.ts) },
        ],
      },
    ],
  };
}

describe('RowStore', () => {
  it('stages without committing; commit bumps seqTxn once per table', () => {
    const store = new RowStore();
    const txn = new PendingTxn();
    store.stage(msg('a', [{ k: 'x', ts: 1n, v: 1 }]), txn);
    store.stage(msg('a', [{ k: 'y', ts: 2n, v: 2 }]), txn);
    expect(store.rows('a')).toEqual([]);
    expect(store.commit(txn)).toEqual([{ table: 'a', seqTxn: 1n, rows: 2 }]);
    expect(store.rows('a')).toHaveLength(2);
    expect(txn.isEmpty()).toBe(true);
  });

  it('rejects a type QuestDB cannot coerce with SCHEMA_MISMATCH, keeping the table and the column added before', () => {
    const store = new RowStore();
    const m = msg('a', [{ k: 'x', ts: 1n, v: 1 }]);
    m.tables.push({
      name: 'a',
      rowCount: 1,
      columns: [
        { name: 'extra', type: ColumnType.LONG, nullFlag: 0, values: [1n] },
        { name: 'v', type: ColumnType.TIMESTAMP, nullFlag: 0, values: [1n] },
      ],
    });
    const txn = new PendingTxn();
    let caught: unknown;
    try {
      store.stage(m, txn);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FrameRejectedError);
    expect((caught as FrameRejectedError).status).toBe(Status.SCHEMA_MISMATCH);
    expect((caught as FrameRejectedError).reason).toBe(
      'cannot write TIMESTAMP to column [column=v, type=DOUBLE]',
    );
    // QuestDB creates the table from the first block and adds `extra`
    // (an ALTER, one seqTxn) before it converts the refused column.
    expect(store.tables()).toEqual(['a']);
    expect(store.schema('a').map((c) => c.name)).toEqual(['k', 'v', 'timestamp', 'extra']);
    expect(store.seqTxn('a')).toBe(1n);
    expect(txn.rowCount).toBe(1);
  });

  it('gives rows without the designated timestamp the server clock', () => {
    const store = new RowStore();
    const txn = new PendingTxn();
    store.stage(msg('a', [{ k: 'x', ts: 1n, v: 1 }]), txn);
    store.stage(
      {
        header: { version: 1, flags: 0, tableCount: 1, payloadLength: 0 },
        symbolDelta: null,
        tables: [
          {
            name: 'a',
            rowCount: 1,
            columns: [{ name: 'v', type: ColumnType.DOUBLE, nullFlag: 0, values: [2] }],
          },
        ],
      },
      txn,
    );
    const before = BigInt(Date.now()) * 1000n;
    store.commit(txn);
    const ts = store.rows('a')[1]?.timestamp as bigint;
    expect(ts).toBeGreaterThanOrEqual(before);
  });

  it('with DEDUP, any at-least-once replay of batches gives the exactly-once result (property)', () => {
    const rowArb = fc.record({
      k: fc.constantFrom('a', 'b', 'c'),
      ts: fc.bigInt({ min: 0n, max: 20n }),
      v: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(rowArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (batches, replays) => {
          // Reference: each batch once, in order, last write per key wins.
          const expected = new Map<string, { k: string; ts: bigint; v: number }>();
          for (const b of batches) for (const r of b) expected.set(`${r.k}|${r.ts}`, r);
          // At-least-once: every batch delivered, some re-delivered right after (a replay).
          const store = new RowStore();
          store.setDedup('t', ['k']);
          for (let i = 0; i < batches.length; i++) {
            const times = 1 + replays.filter((x) => x % batches.length === i).length;
            for (let n = 0; n < times; n++) {
              const txn = new PendingTxn();
              store.stage(msg('t', batches[i]!), txn);
              store.commit(txn);
            }
          }
          const got = store.rows('t').map((r) => `${r.k}|${r.timestamp}|${r.v}`);
          const want = [...expected.values()].map((r) => `${r.k}|${r.ts}|${r.v}`);
          expect(got.sort()).toEqual(want.sort());
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("keys DEDUP on the table's own designated timestamp, whatever its name", () => {
    const store = new RowStore();
    store.createTable(
      'q',
      [
        { name: 'k', type: ColumnType.SYMBOL },
        { name: 'v', type: ColumnType.DOUBLE },
        { name: 'ts', type: ColumnType.TIMESTAMP },
      ],
      'ts',
    );
    store.setDedup('q', ['k']);
    const send = (rows: { k: string; ts: bigint; v: number }[]) => {
      const txn = new PendingTxn();
      store.stage(msg('q', rows), txn);
      store.commit(txn);
    };
    send([
      { k: 'a', ts: 1n, v: 1 },
      { k: 'a', ts: 2n, v: 2 },
    ]);
    send([{ k: 'a', ts: 1n, v: 3 }]);
    expect(store.rows('q').map((r) => [r.k, r.ts, r.v])).toEqual([
      ['a', 1n, 3],
      ['a', 2n, 2],
    ]);
  });

  it('turning DEDUP on later collapses the rows already stored', () => {
    const store = new RowStore();
    const txn = new PendingTxn();
    store.stage(
      msg('t', [
        { k: 'a', ts: 1n, v: 1 },
        { k: 'a', ts: 1n, v: 2 },
      ]),
      txn,
    );
    store.commit(txn);
    store.setDedup('t', ['k']);
    expect(store.rows('t').map((r) => r.v)).toEqual([2]);
  });
});
