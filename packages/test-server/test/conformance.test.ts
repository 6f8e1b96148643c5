import { ColumnType, Status } from '@qwp/qwp-wire/codec';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../src/index.js';
import { ackCoverage, rawExchange, requestText, upgradeHeaders } from './helpers/client.js';
import {
  Bytes,
  emptyCommit,
  longs,
  message,
  simpleRows,
  T,
  timestamps,
  varchars,
} from './helpers/frames.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start, open } = serverPerTest();

// What QuestDB's server accepts and answers, per the conformance review
// (/tmp/review/conformance.md, items D1-D11 and E1-E9).

const row = (i: number, flags = 0) => simpleRows('t', [{ v: BigInt(i), ts: BigInt(i) }], flags);

function withFlags(frame: Buffer, flags: number): Buffer {
  const out = Buffer.from(frame);
  out[5] = flags;
  return out;
}

/** `frame` with `extra` bytes appended; `inPayload` also counts them in payload_length. */
function withExtra(frame: Buffer, extra: number, inPayload: boolean): Buffer {
  const out = Buffer.concat([frame, Buffer.alloc(extra, 0xee)]);
  if (inPayload) out.writeUInt32LE(out.length - 12, 8);
  return out;
}

describe('frames QuestDB accepts', () => {
  it.each(['strict', 'throughput'] as const)(
    'D5: reserved flag bits are ignored (%s mode)',
    async (mode) => {
      const s = await start({ mode, sampleRate: 1 });
      const c = await open(s);
      c.send(withFlags(row(1), 0x02 | 0x10 | 0x80));
      expect((await c.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
      if (mode === 'strict') expect(s.rows('t').map((r) => r.v)).toEqual([1n]);
    },
  );

  it.each(['strict', 'throughput'] as const)(
    'D4: bytes after the last table block and after payload_length are ignored (%s mode)',
    async (mode) => {
      const s = await start({ mode, sampleRate: 1 });
      const c = await open(s);
      c.send(withExtra(row(1), 3, true));
      c.send(withExtra(row(2), 5, false));
      const rs = await c.waitForAck(1);
      expect(rs.every((r) => r.kind === 'ok')).toBe(true);
      expect(s.stats().errors).toEqual({});
      if (mode === 'strict') expect(s.rows('t').map((r) => r.v)).toEqual([1n, 2n]);
    },
  );

  it('D6: a zero-length binary message is an acknowledged empty commit that closes a deferred group', async () => {
    const s = await start();
    const c = await open(s);
    c.send(Buffer.alloc(0));
    expect((await c.waitFor(1))[0]).toEqual({ kind: 'ok', status: 0, sequence: 0n, tables: [] });
    c.send(row(1, 0x01));
    c.send(Buffer.alloc(0));
    const rs = await c.waitForAck(2);
    expect(ackCoverage(rs)).toMatchObject({ highest: 2n, tables: { t: 1n } });
    expect(s.rows('t')).toHaveLength(1);
  });

  it('E2 / D8: VARCHAR bytes that are not UTF-8 and a duplicated column are accepted', async () => {
    const s = await start();
    const c = await open(s);
    const bad = Buffer.from(varchars(['ab']));
    bad[bad.length - 1] = 0xff;
    c.send(
      message({
        tables: [
          {
            name: 'u',
            rowCount: 1,
            columns: [
              { name: 's', type: T.VARCHAR, data: bad },
              { name: 'n', type: T.LONG, data: longs([1n]) },
              { name: 'n', type: T.LONG, data: longs([2n]) },
            ],
          },
        ],
      }),
    );
    expect((await c.waitFor(1))[0]).toMatchObject({ kind: 'ok' });
    expect(s.rows('u')[0]).toMatchObject({ s: 'a\ufffd', n: 2n });
  });

  it('E1: the throughput fast path checks the dictionary size before the gap', async () => {
    const s = await start({ mode: 'throughput', sampleRate: 0 });
    const c = await open(s);
    const payload = new Bytes().varint(5).varint(2_000_000).bytes();
    const head = new Bytes().u32(0x31505751).u8(1).u8(0x08).u16(0).u32(payload.length).bytes();
    c.send(Buffer.concat([head, payload]));
    const [r] = await c.waitFor(1);
    expect(r).toMatchObject({ kind: 'error', status: Status.PARSE_ERROR });
    expect(r?.kind === 'error' && r.message).toMatch(/would grow to 2000005 > 2000000/);
  });
});

describe('write-time answers over the wire', () => {
  it('D1: LONG into an INT column is narrowed, out of range is SCHEMA_MISMATCH', async () => {
    const s = await start();
    s.createTable(
      't',
      [
        { name: 'v', type: ColumnType.INT },
        { name: 'timestamp', type: ColumnType.TIMESTAMP },
      ],
      'timestamp',
    );
    const c = await open(s);
    c.send(row(7));
    c.send(row(2 ** 31));
    const rs = await c.waitForAck(1);
    expect(ackCoverage(rs).highest).toBe(0n);
    expect(rs.at(-1)).toEqual({
      kind: 'error',
      status: Status.SCHEMA_MISMATCH,
      sequence: 1n,
      message: 'value 2147483648 is out of range for column [column=v, type=INT]',
    });
    expect(s.rows('t')).toEqual([{ v: 7, timestamp: 7n }]);
  });

  it('D10: a designated timestamp for a table created without one is WRITE_ERROR', async () => {
    const s = await start();
    s.createTable('t', [{ name: 'v', type: ColumnType.LONG }], null);
    const c = await open(s);
    c.send(row(1));
    const [r] = await c.waitFor(1);
    expect(r).toMatchObject({
      kind: 'error',
      status: Status.WRITE_ERROR,
      message: 'designated timestamp provided but table has no designated timestamp [table=t]',
    });
  });

  it('D2: a LONG_ARRAY column is WRITE_ERROR unless longArrays is accept', async () => {
    const longArray = new Bytes().u8(0).u8(1).u32(2).i64(1n).i64(2n).bytes();
    const frame = message({
      tables: [{ name: 'a', rowCount: 1, columns: [{ name: 'l', type: 0x12, data: longArray }] }],
    });
    const s = await start();
    const c = await open(s);
    c.send(frame);
    expect((await c.waitFor(1))[0]).toMatchObject({
      kind: 'error',
      status: Status.WRITE_ERROR,
      message: 'long arrays are not supported, only double arrays',
    });
    await s.close();
    const accepting = await start({ longArrays: 'accept' });
    const d = await open(accepting);
    d.send(frame);
    expect((await d.waitFor(1))[0]).toMatchObject({ kind: 'ok' });
    expect(accepting.rows('a')[0]?.l).toMatchObject({ shape: [2] });
    await expect(startTestServer({ longArrays: 'maybe' as never })).rejects.toThrow(/longArrays/);
  });

  it('D3 / D11: an invalid column name is WRITE_ERROR in an existing table, but not in a block without rows', async () => {
    const s = await start();
    s.createTable('t', [{ name: 'timestamp', type: ColumnType.TIMESTAMP }], 'timestamp');
    const c = await open(s);
    const bad = (rows: number) =>
      message({
        tables: [
          {
            name: 't',
            rowCount: rows,
            columns: [
              { name: 'a.b', type: T.LONG, data: longs(Array(rows).fill(1n)) },
              { name: '', type: T.LONG, data: longs(Array(rows).fill(2n)) },
            ],
          },
        ],
      });
    c.send(bad(0));
    c.send(bad(1));
    const rs = await c.waitForAck(1);
    expect(ackCoverage(rs).highest).toBe(0n);
    expect(rs.at(-1)).toMatchObject({
      status: Status.WRITE_ERROR,
      sequence: 1n,
      message: 'invalid column name [table=t, column=a.b]',
    });
    expect(s.schema('t').map((col) => col.name)).toEqual(['timestamp']);
  });
});

describe('D12: fragmented WebSocket messages', () => {
  it('handles the messages before it, then sends the pending OK and CLOSE 1002', async () => {
    const s = await start();
    const c = await open(s);
    const second = row(2);
    c.ws.send(row(1));
    c.ws.send(second.subarray(0, 10), { fin: false });
    c.ws.send(second.subarray(10), { fin: true });
    expect(await c.closed()).toEqual({
      code: 1002,
      reason: 'fragmented WebSocket frames are not supported',
    });
    expect(c.responses).toEqual([
      { kind: 'ok', status: 0, sequence: 0n, tables: [{ name: 't', seqTxn: 1n }] },
    ]);
    expect(s.rows('t').map((r) => r.v)).toEqual([1n]);
    expect(s.frames).toHaveLength(1);
    const d = await open(s);
    d.send(row(3));
    expect((await d.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
  });

  it('closes on a first fragment even when the rest never comes', async () => {
    const s = await start();
    const c = await open(s);
    c.ws.send(row(1).subarray(0, 10), { fin: false });
    expect((await c.closed()).code).toBe(1002);
    expect(s.rows('t')).toEqual([]);
  });
});

describe('acknowledgements like QuestDB', () => {
  it('D7: acknowledges cumulatively by default; per-frame stays available', async () => {
    const burst = 20;
    const s = await start();
    const c = await open(s);
    for (let i = 0; i < burst; i++) c.send(row(i));
    const rs = await c.waitForAck(burst - 1);
    await c.barrier();
    const cov = ackCoverage(c.responses);
    expect(rs.every((r) => r.kind === 'ok')).toBe(true);
    expect(cov.highest).toBe(BigInt(burst - 1));
    expect(cov.sequences.length).toBeLessThan(burst);
    expect(cov.tables).toEqual({ t: BigInt(burst) });
    await s.close();

    const p = await start({ ackMode: 'per-frame' });
    const d = await open(p);
    for (let i = 0; i < burst; i++) d.send(row(i));
    await d.waitForAck(burst - 1);
    expect(ackCoverage(d.responses).sequences).toEqual(
      Array.from({ length: burst }, (_, i) => BigInt(i)),
    );
  });

  it('E8: a PING flushes the pending OK before its PONG, which echoes the payload', async () => {
    const s = await start({ ackMode: 'cumulative' });
    const c = await open(s);
    const order: string[] = [];
    c.ws.on('message', () => order.push('ok'));
    c.ws.on('pong', (data: Buffer) => order.push(`pong:${data.toString()}`));
    c.ws.send(row(1));
    c.ws.ping('hi');
    await c.waitFor(1);
    await c.barrier();
    expect(order).toEqual(['ok', 'pong:hi', 'pong:barrier-1']);
  });

  it('E9: the 101 names the role, STANDALONE by default', async () => {
    const s = await start();
    const c = await open(s);
    expect(c.upgradeHeaders['x-questdb-role']).toBe('STANDALONE');
    await s.close();
    const p = await start({ role: 'PRIMARY' });
    const d = await open(p);
    expect(d.upgradeHeaders['x-questdb-role']).toBe('PRIMARY');
    d.send(emptyCommit());
    expect((await d.waitFor(1))[0]).toMatchObject({ kind: 'ok' });
  });

  it('keeps the designated timestamp of a TIMESTAMP table when nanoseconds are sent', async () => {
    const s = await start();
    const c = await open(s);
    c.send(row(1));
    c.send(
      message({
        tables: [
          {
            name: 't',
            rowCount: 1,
            columns: [{ name: '', type: 0x10, data: timestamps([5_000n]) }],
          },
        ],
      }),
    );
    await c.waitForAck(1);
    expect(s.rows('t').map((r) => r.timestamp)).toEqual([1n, 5n]);
  });
});

/** Upgrades over a raw socket, sends a masked CLOSE with `payload`, and returns the server's CLOSE code (or null). */
async function closeAnswer(
  port: number,
  payload: Buffer,
): Promise<{ code: number | null; reason: string }> {
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  const reply = Buffer.from(
    await rawExchange(
      port,
      Buffer.concat([
        Buffer.from(requestText('/write/v4', upgradeHeaders())),
        Buffer.from([0x88, 0x80 | payload.length]),
        mask,
        masked,
      ]),
      1000,
    ),
    'latin1',
  );
  const frame = reply.subarray(reply.indexOf('\r\n\r\n') + 4);
  if (frame.length < 2 || frame[0] !== 0x88) return { code: null, reason: '' };
  const len = frame[1]! & 0x7f;
  if (len < 2) return { code: null, reason: '' };
  return { code: frame.readUInt16BE(2), reason: frame.subarray(4, 2 + len).toString('utf8') };
}

describe('a client CLOSE is answered as QuestDB answers it', () => {
  it('with the code normalized as RFC 6455 section 7.4 says and no reason', async () => {
    const s = await start();
    const code = (c: number, reason = '') => {
      const b = Buffer.alloc(2 + Buffer.byteLength(reason));
      b.writeUInt16BE(c, 0);
      b.write(reason, 2);
      return b;
    };
    const cases: [string, Buffer, number][] = [
      ['1000 with a reason', code(1000, 'bye'), 1000],
      ['an application code', code(4000, 'done'), 4000],
      ['no status code', Buffer.alloc(0), 1000],
      ['1015, never valid on the wire', code(1015), 1000],
      ['999, below the range', code(999), 1000],
      ['5000, above the range', code(5000), 1000],
      ['1004, reserved', code(1004), 1002],
      ['2500, an extension code', code(2500), 1002],
    ];
    for (const [name, payload, expected] of cases) {
      expect(await closeAnswer(s.port, payload), name).toEqual({ code: expected, reason: '' });
    }
    // The server still serves after all of them.
    const c = await open(s);
    c.send(row(1));
    expect((await c.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
  });

  it('sends the pending OK before the answer', async () => {
    const s = await start();
    const c = await open(s);
    c.ws.send(row(1));
    c.ws.close(4001, 'leaving');
    expect(await c.closed()).toEqual({ code: 4001, reason: '' });
    expect(c.responses).toMatchObject([{ kind: 'ok', sequence: 0n }]);
  });
});
