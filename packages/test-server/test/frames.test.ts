import { ColumnType, Status } from '@qwp/qwp-wire/codec';
import { describe, expect, it } from 'vitest';
import { ackCoverage } from './helpers/client.js';
import {
  booleans,
  doubles,
  emptyCommit,
  hex,
  longs,
  message,
  simpleRows,
  symbols,
  T,
  TRADE_SYMBOLS,
  timestamps,
  tradeRows,
  varchars,
  withPayloadLength,
} from './helpers/frames.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start, open } = serverPerTest();

const SPEC_SENSORS = withPayloadLength(
  hex(
    `
  51 57 50 31  01  00  01 00  XX XX XX XX
  07 73 65 6E 73 6F 72 73  02  03
  02 69 64 05
  05 76 61 6C 75 65 07
  00 0A
  00 01 00 00 00 00 00 00 00  02 00 00 00 00 00 00 00
  00 CD CC CC CC CC CC F4 3F  9A 99 99 99 99 99 01 40
  00 00 E4 0B 54 02 00 00 00  80 1A 06 00 00 00 00 00
`.replace(/XX/g, '00'),
  ),
);

// The spec's Gorilla + delta-dictionary example, with the two timestamps it leaves open filled in.
const SPEC_GORILLA = withPayloadLength(
  hex(`
  51 57 50 31  01  0C  01 00  00 00 00 00
  00 02  07 73 65 72 76 65 72 31  07 73 65 72 76 65 72 32
  07 73 65 6E 73 6F 72 73  02 03
  04 68 6F 73 74 09  04 74 65 6D 70 07  00 0A
  00 00 01
  00 66 66 66 66 66 E6 56 40  9A 99 99 99 99 19 57 40
  00 01  00 E4 0B 54 02 00 00 00  40 42 0F 00 00 00 00 00
`),
);

describe('decoding and committing', () => {
  it('decodes the spec example "single table with three columns" into rows', async () => {
    const s = await start();
    const c = await open(s);
    c.send(SPEC_SENSORS);
    const [r] = await c.waitFor(1);
    expect(r).toEqual({
      kind: 'ok',
      status: 0,
      sequence: 0n,
      tables: [{ name: 'sensors', seqTxn: 1n }],
    });
    expect(s.rows('sensors')).toEqual([
      { id: 1n, value: 1.3, timestamp: 10000000000n },
      { id: 2n, value: 2.2, timestamp: 400000n },
    ]);
    expect(s.schema('sensors').map((col) => [col.name, col.typeName])).toEqual([
      ['id', 'LONG'],
      ['value', 'DOUBLE'],
      ['timestamp', 'TIMESTAMP'],
    ]);
  });

  it('decodes the spec example with Gorilla timestamps and a delta symbol dictionary', async () => {
    const s = await start();
    const c = await open(s);
    c.send(SPEC_GORILLA);
    await c.waitFor(1);
    expect(c.responses[0]).toMatchObject({ kind: 'ok', sequence: 0n });
    expect(s.rows('sensors')).toEqual([
      { host: 'server1', temp: 91.6, timestamp: 10000000000n },
      { host: 'server2', temp: 92.4, timestamp: 1000000n },
    ]);
  });

  it('decodes the spec example "nullable VARCHAR column" inside a table block', async () => {
    const s = await start();
    const c = await open(s);
    const column = hex(`
      01 02
      00 00 00 00  03 00 00 00  06 00 00 00  09 00 00 00
      66 6F 6F  62 61 72  62 61 7A
    `);
    c.send(
      message({
        tables: [
          { name: 'v', rowCount: 4, columns: [{ name: 's', type: T.VARCHAR, data: column }] },
        ],
      }),
    );
    expect((await c.waitFor(1))[0]).toMatchObject({ kind: 'ok' });
    expect(s.rows('v').map((r) => r.s)).toEqual(['foo', null, 'bar', 'baz']);
  });

  it('decodes a 10-row trades message of every common type to the expected rows', async () => {
    const s = await start();
    const c = await open(s);
    const rows = tradeRows();
    c.send(
      message({
        delta: { start: 0, entries: [...TRADE_SYMBOLS] },
        tables: [
          {
            name: 'trades',
            rowCount: 10,
            columns: [
              { name: 'symbol', type: T.SYMBOL, data: symbols(rows.map((_, i) => i % 2)) },
              { name: 'side', type: T.VARCHAR, data: varchars(rows.map((r) => r.side)) },
              { name: 'price', type: T.DOUBLE, data: doubles(rows.map((r) => r.price)) },
              { name: 'amount', type: T.DOUBLE, data: doubles(rows.map((r) => r.amount)) },
              { name: 'id', type: T.LONG, data: longs(rows.map((r) => r.id)) },
              { name: 'flag', type: T.BOOLEAN, data: booleans(rows.map((r) => r.flag)) },
              { name: 'note', type: T.VARCHAR, data: varchars(rows.map((r) => r.note)) },
              { name: '', type: T.TIMESTAMP, data: timestamps(rows.map((r) => r.timestamp)) },
            ],
          },
        ],
      }),
    );
    const [ok] = await c.waitFor(1);
    expect(ok).toMatchObject({
      kind: 'ok',
      sequence: 0n,
      tables: [{ name: 'trades', seqTxn: 1n }],
    });
    expect(s.rows('trades')).toEqual(rows);
    expect(s.schema('trades').find((col) => col.name === 'symbol')?.type).toBe(ColumnType.SYMBOL);
  });

  it('numbers frames from 0 per connection and keeps per-table seqTxn across connections', async () => {
    const s = await start();
    const a = await open(s);
    a.send(simpleRows('t1', [{ v: 1n, ts: 1n }]));
    a.send(simpleRows('t2', [{ v: 2n, ts: 2n }]));
    a.send(simpleRows('t1', [{ v: 3n, ts: 3n }]));
    const ra = await a.waitForAck(2);
    // However the three are batched, the OKs cover 0..2 and end at t1=2, t2=1.
    expect(ra.every((r) => r.kind === 'ok')).toBe(true);
    expect(ackCoverage(ra)).toMatchObject({ highest: 2n, tables: { t1: 2n, t2: 1n } });
    await a.close();
    const b = await open(s);
    b.send(simpleRows('t1', [{ v: 4n, ts: 4n }]));
    const [rb] = await b.waitFor(1);
    expect(rb).toEqual({
      kind: 'ok',
      status: 0,
      sequence: 0n,
      tables: [{ name: 't1', seqTxn: 3n }],
    });
    expect(s.seqTxn('t1')).toBe(3n);
    expect(s.rows('t1').map((r) => r.v)).toEqual([1n, 3n, 4n]);
  });

  it('evolves the schema: a new column is added and earlier rows read null', async () => {
    const s = await start();
    const c = await open(s);
    c.send(simpleRows('t', [{ v: 1n, ts: 1n }]));
    c.send(
      message({
        tables: [
          {
            name: 't',
            rowCount: 1,
            columns: [
              { name: 'w', type: T.DOUBLE, data: doubles([0.5]) },
              { name: '', type: T.TIMESTAMP, data: timestamps([2n]) },
            ],
          },
        ],
      }),
    );
    await c.waitForAck(1);
    expect(s.rows('t')).toEqual([
      { v: 1n, timestamp: 1n, w: null },
      { v: null, timestamp: 2n, w: 0.5 },
    ]);
  });
});

/** An empty commit followed by zero bytes, `length` bytes in all (a WebSocket payload of that size). */
function padded(length: number): Buffer {
  return Buffer.concat([emptyCommit(), Buffer.alloc(length - emptyCommit().length)]);
}

describe('error statuses', () => {
  it('answers a column type QuestDB cannot coerce with SCHEMA_MISMATCH and commits nothing of the frame', async () => {
    // The table of the first block is created before the second is refused, as on QuestDB.
    const s = await start();
    const c = await open(s);
    c.send(simpleRows('t', [{ v: 1n, ts: 1n }]));
    c.send(
      message({
        tables: [
          {
            name: 'ok_table',
            rowCount: 1,
            columns: [{ name: 'x', type: T.LONG, data: longs([9n]) }],
          },
          {
            name: 't',
            rowCount: 1,
            columns: [{ name: 'v', type: T.TIMESTAMP, data: timestamps([5n]) }],
          },
        ],
      }),
    );
    const rs = await c.waitFor(2);
    expect(rs[1]).toMatchObject({ kind: 'error', status: Status.SCHEMA_MISMATCH, sequence: 1n });
    expect(rs[1]?.kind === 'error' && rs[1].message).toBe(
      'cannot write TIMESTAMP to column [column=v, type=LONG]',
    );
    expect(s.tables()).toEqual(['t', 'ok_table']);
    expect(s.rows('ok_table')).toHaveLength(0);
    expect(s.rows('t')).toHaveLength(1);
  });

  it.each([
    ['garbage bytes', Buffer.from('definitely not qwp')],
    ['a truncated frame', SPEC_SENSORS.subarray(0, 30)],
    ['a wrong magic', Buffer.concat([Buffer.from('QWP2'), SPEC_SENSORS.subarray(4)])],
    [
      'a wrong version',
      Buffer.concat([SPEC_SENSORS.subarray(0, 4), Buffer.from([2]), SPEC_SENSORS.subarray(5)]),
    ],
    ['a header of 11 bytes', SPEC_SENSORS.subarray(0, 11)],
  ])('answers %s with PARSE_ERROR and keeps serving other connections', async (_name, frame) => {
    const s = await start();
    const bad = await open(s);
    bad.send(frame);
    const [r] = await bad.waitFor(1);
    expect(r).toMatchObject({ kind: 'error', status: Status.PARSE_ERROR, sequence: 0n });
    expect(r?.kind === 'error' && r.message.length).toBeGreaterThan(0);
    const good = await open(s);
    good.send(SPEC_SENSORS);
    expect((await good.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
    expect(s.stats().errors).toEqual({ PARSE_ERROR: 1 });
  });

  it('answers an unexpected exception with INTERNAL_ERROR naming it, and keeps serving', async () => {
    const s = await start({
      onCommit: () => {
        throw new Error('boom');
      },
    });
    const c = await open(s);
    c.send(SPEC_SENSORS);
    const [r] = await c.waitFor(1);
    expect(r).toEqual({
      kind: 'error',
      status: Status.INTERNAL_ERROR,
      sequence: 0n,
      message: 'internal error: boom',
    });
    const d = await open(s);
    d.send(emptyCommit());
    expect((await d.waitFor(1))[0]).toMatchObject({ kind: 'ok' });
  });

  it('consumes frames after an error without answering them, like QuestDB (client must reconnect)', async () => {
    const s = await start();
    const c = await open(s);
    c.send(simpleRows('t', [{ v: 1n, ts: 1n }]));
    c.send(Buffer.from('junk'));
    c.send(simpleRows('t', [{ v: 2n, ts: 2n }]));
    c.send(simpleRows('t', [{ v: 3n, ts: 3n }]));
    await c.waitFor(2);
    // Once the PONG is back, every answer the frames before it could get has arrived.
    await c.barrier();
    expect(c.responses.map((r) => r.kind)).toEqual(['ok', 'error']);
    expect(s.frames.map((f) => f.outcome)).toEqual(['committed', 'rejected', 'refused', 'refused']);
    expect(s.rows('t')).toHaveLength(1);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('rejects a delta that starts past the dictionary with DICTIONARY_GAP, accepts an overlap', async () => {
    const s = await start();
    const sym = (start: number, entries: string[], ids: number[]) =>
      message({
        delta: { start, entries },
        tables: [
          {
            name: 's',
            rowCount: ids.length,
            columns: [{ name: 'k', type: T.SYMBOL, data: symbols(ids) }],
          },
        ],
      });
    const a = await open(s);
    a.send(sym(0, ['a', 'b'], [0, 1]));
    a.send(sym(1, ['b', 'c'], [2]));
    a.send(sym(5, ['x'], [5]));
    const rs = await a.waitForAck(2);
    // The OKs of 0 and 1 (however batched) come first, then the error of 2.
    expect(rs.at(-1)).toMatchObject({ status: Status.DICTIONARY_GAP, sequence: 2n });
    expect(ackCoverage(rs).highest).toBe(1n);
    expect(rs.slice(0, -1).every((r) => r.kind === 'ok')).toBe(true);
    expect(s.rows('s').map((r) => r.k)).toEqual(['a', 'b', 'c']);
    // A fresh connection starts with an empty dictionary: id 0 without a delta is unknown.
    const b = await open(s);
    b.send(sym(1, ['z'], [1]));
    expect((await b.waitFor(1))[0]).toMatchObject({ status: Status.DICTIONARY_GAP });
  });

  it('acknowledges what committed, then closes a text message with 1003 like QuestDB', async () => {
    const s = await start({ ackMode: 'cumulative' });
    const c = await open(s);
    c.ws.send(SPEC_SENSORS);
    c.ws.send('hello');
    const closed = await c.closed();
    expect(closed).toEqual({
      code: 1003,
      reason: 'text frames are not supported, QWP requires binary frames',
    });
    expect(c.responses).toMatchObject([{ kind: 'ok', sequence: 0n }]);
    expect(s.stats().textFrames).toBe(1);
    const other = await open(s);
    other.send(SPEC_SENSORS);
    expect((await other.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
  });

  it('cuts error messages to 1024 UTF-8 bytes on a character boundary', async () => {
    const s = await start();
    s.rejectFrame(0, Status.WRITE_ERROR, 'é'.repeat(1000));
    const c = await open(s);
    c.send(SPEC_SENSORS);
    const [r] = await c.waitFor(1);
    expect(r?.kind === 'error' && r.message).toBe('é'.repeat(512));
  });

  it('takes a frame that fits X-QWP-Max-Batch-Size + 14 bytes with its header, closes a larger one with 1009', async () => {
    // QuestDB advertises its receive buffer less the largest (14-byte) frame
    // header and refuses a frame only when header + payload overflow the
    // buffer: a small frame (6-byte header) may carry cap + 8 bytes.
    const s = await start({ maxBatchSize: 64 });
    const fits = await open(s);
    fits.send(padded(72));
    expect((await fits.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
    for (const length of [73, 200]) {
      const c = await open(s);
      c.send(padded(length));
      expect(await c.closed(), `${length} bytes`).toEqual({
        code: 1009,
        reason: 'frame payload exceeds maximum size',
      });
    }
    const again = await open(s);
    again.send(emptyCommit());
    expect((await again.waitFor(1))[0]).toMatchObject({ kind: 'ok' });
  });

  it('takes exactly X-QWP-Max-Batch-Size bytes in a frame with a 64-bit length, and answers the frames before a too-big one', async () => {
    const s = await start({ maxBatchSize: 70_000 });
    const c = await open(s);
    c.send(padded(70_000));
    c.send(padded(70_001));
    expect(await c.closed()).toEqual({ code: 1009, reason: 'frame payload exceeds maximum size' });
    expect(c.responses).toMatchObject([{ kind: 'ok', sequence: 0n }]);
    expect(s.stats().frames).toBe(1);
  });
});

describe('FLAG_DEFER_COMMIT', () => {
  it('keeps deferred rows uncommitted and unacknowledged until a frame without the flag', async () => {
    const s = await start();
    const c = await open(s);
    c.send(simpleRows('t', [{ v: 1n, ts: 1n }], 0x01));
    c.send(simpleRows('t', [{ v: 2n, ts: 2n }], 0x01));
    await c.barrier();
    expect(c.responses).toHaveLength(0);
    expect(s.rows('t')).toHaveLength(0);
    c.send(simpleRows('t', [{ v: 3n, ts: 3n }]));
    const [r] = await c.waitFor(1);
    expect(r).toEqual({ kind: 'ok', status: 0, sequence: 2n, tables: [{ name: 't', seqTxn: 1n }] });
    expect(s.rows('t').map((row) => row.v)).toEqual([1n, 2n, 3n]);
  });

  it('commits a group early at maxUncommittedRows, and that OK covers the group', async () => {
    const s = await start({ maxUncommittedRows: 3 });
    const c = await open(s);
    for (let i = 0; i < 4; i++) c.send(simpleRows('t', [{ v: BigInt(i), ts: BigInt(i) }], 0x01));
    const [r] = await c.waitFor(1);
    expect(r).toMatchObject({ kind: 'ok', sequence: 2n, tables: [{ name: 't', seqTxn: 1n }] });
    await c.barrier();
    expect(c.responses).toHaveLength(1);
    expect(s.rows('t')).toHaveLength(3);
  });

  it('commits an open group on the empty commit frame', async () => {
    const s = await start();
    const c = await open(s);
    c.send(simpleRows('t', [{ v: 1n, ts: 1n }], 0x01));
    c.send(emptyCommit());
    const [r] = await c.waitFor(1);
    expect(r).toMatchObject({ kind: 'ok', sequence: 1n, tables: [{ name: 't', seqTxn: 1n }] });
    expect(s.rows('t')).toHaveLength(1);
  });

  it('rolls back deferred rows when the connection drops', async () => {
    const s = await start();
    const c = await open(s);
    c.send(simpleRows('t', [{ v: 1n, ts: 1n }], 0x01));
    await c.barrier();
    await c.close();
    await expect.poll(() => s.connections[0]?.closedAt ?? null).not.toBeNull();
    const d = await open(s);
    d.send(emptyCommit());
    const [r] = await d.waitFor(1);
    expect(r).toEqual({ kind: 'ok', status: 0, sequence: 0n, tables: [] });
    expect(s.rows('t')).toHaveLength(0);
  });

  it('rolls back an open group when a frame is rejected', async () => {
    const s = await start();
    const c = await open(s);
    c.send(simpleRows('t', [{ v: 1n, ts: 1n }], 0x01));
    c.send(Buffer.from('bad'));
    await c.waitFor(1);
    expect(c.responses[0]).toMatchObject({ kind: 'error', sequence: 1n });
    await c.close();
    expect(s.rows('t')).toHaveLength(0);
  });
});

describe('dedup and restart', () => {
  it('upserts on the DEDUP key so a replayed frame leaves exactly one row per key', async () => {
    const s = await start({ dedup: { t: ['v'] } });
    const c = await open(s);
    const frame = simpleRows('t', [
      { v: 1n, ts: 10n },
      { v: 2n, ts: 10n },
    ]);
    c.send(frame);
    c.send(frame);
    c.send(simpleRows('t', [{ v: 1n, ts: 11n }]));
    await c.waitForAck(2);
    expect(s.rows('t').map((r) => [r.v, r.timestamp])).toEqual([
      [1n, 10n],
      [2n, 10n],
      [1n, 11n],
    ]);
    expect(s.seqTxn('t')).toBe(3n);
  });

  it('keeps committed rows and seqTxn across a restart on the same port, or loses them', async () => {
    const s = await start();
    const port = s.port;
    const c = await open(s);
    c.send(simpleRows('t', [{ v: 1n, ts: 1n }]));
    await c.waitFor(1);
    await s.restart({ downMs: 20 });
    expect((await c.closed()).code).not.toBeNull();
    expect(s.port).toBe(port);
    const d = await open(s);
    d.send(simpleRows('t', [{ v: 2n, ts: 2n }]));
    expect((await d.waitFor(1))[0]).toMatchObject({
      sequence: 0n,
      tables: [{ name: 't', seqTxn: 2n }],
    });
    expect(s.rows('t')).toHaveLength(2);
    await s.restart({ keepRows: false });
    expect(s.tables()).toEqual([]);
    const e = await open(s);
    e.send(simpleRows('t', [{ v: 3n, ts: 3n }]));
    expect((await e.waitFor(1))[0]).toMatchObject({ tables: [{ name: 't', seqTxn: 1n }] });
    expect(s.stats().restarts).toBe(2);
  });
});
