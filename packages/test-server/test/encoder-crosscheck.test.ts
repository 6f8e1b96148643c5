import { GlobalSymbolDictionary, QwpBatch, QwpEncoder } from '@qwp/qwp-wire/codec';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/index.js';
import { ackCoverage, connect, type TestClient } from './helpers/client.js';
import { tradeRows } from './helpers/frames.js';

let server: TestServer | null = null;
let client: TestClient | null = null;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = null;
  server = null;
});

describe("frames from @qwp/qwp-wire's encoder", () => {
  it('commit to the rows that were written, over two frames sharing the symbol dictionary', async () => {
    server = await startTestServer();
    client = await connect(server.url);
    const dict = new GlobalSymbolDictionary();
    const batch = new QwpBatch(dict);
    const encoder = new QwpEncoder(dict);
    const t = batch.table('trades');
    t.symbol('sym', 'ETH-USD')
      .varcharColumn('side', 'buy')
      .doubleColumn('px', 2615.5)
      .longColumn('qty', 3n)
      .booleanColumn('ok', true)
      .uuidColumn('id', '123e4567-e89b-12d3-a456-426614174000')
      .ipv4Column('ip', '10.0.0.1')
      .doubleArrayColumn('v', [1.5, 2.5])
      .at(1_700_000_000_000_000n, 'us');
    t.symbol('sym', 'BTC-USD').doubleColumn('px', 1.25).at(1_700_000_000_000_001n, 'us');
    const first = encoder.encode(batch.tables());
    batch.clear();
    batch
      .table('trades')
      .symbol('sym', 'ETH-USD')
      .doubleColumn('px', 3)
      .at(1_700_000_000_000_002n, 'us');
    const second = encoder.encode(batch.tables());
    for (const f of [...first, ...second]) client.send(f);
    const responses = await client.waitForAck(first.length + second.length - 1);
    expect(responses.every((r) => r.kind === 'ok')).toBe(true);
    expect(ackCoverage(responses).highest).toBe(BigInt(first.length + second.length - 1));
    const rows = server.rows('trades');
    expect(rows.map((r) => [r.sym, r.px, r.timestamp])).toEqual([
      ['ETH-USD', 2615.5, 1_700_000_000_000_000n],
      ['BTC-USD', 1.25, 1_700_000_000_000_001n],
      ['ETH-USD', 3, 1_700_000_000_000_002n],
    ]);
    expect(rows[0]).toMatchObject({
      side: 'buy',
      qty: 3n,
      ok: true,
      id: '123e4567-e89b-12d3-a456-426614174000',
      ip: '10.0.0.1',
    });
    expect(rows[0]?.v).toMatchObject({ shape: [2] });
    const arr = rows[0]?.v as { values: Float64Array } | undefined;
    expect(Array.from(arr?.values ?? [])).toEqual([1.5, 2.5]);
    expect(rows[1]).toMatchObject({ side: null, qty: null, ip: null });
  });

  it('commit the 10-row trades message to the rows the frames.test builder expects', async () => {
    // The 10 rows of the hand-built trades message in frames.test.ts,
    // written through the row API: the server must read the encoder's bytes
    // (Gorilla timestamps, delta dictionary) to the same rows.
    server = await startTestServer();
    client = await connect(server.url);
    const dict = new GlobalSymbolDictionary();
    const batch = new QwpBatch(dict);
    const encoder = new QwpEncoder(dict);
    const expected = tradeRows();
    const t = batch.table('trades');
    for (const r of expected) {
      t.symbol('symbol', r.symbol).varcharColumn('side', r.side).doubleColumn('price', r.price);
      if (r.amount !== null) t.doubleColumn('amount', r.amount);
      t.longColumn('id', r.id).booleanColumn('flag', r.flag);
      if (r.note !== null) t.varcharColumn('note', r.note);
      t.at(r.timestamp, 'us');
    }
    const frames = encoder.encode(batch.tables());
    expect(frames).toHaveLength(1);
    client.send(frames[0]!);
    const [ok] = await client.waitFor(1);
    expect(ok).toEqual({
      kind: 'ok',
      status: 0,
      sequence: 0n,
      tables: [{ name: 'trades', seqTxn: 1n }],
    });
    expect(server.rows('trades')).toEqual(expected);
  });
});
