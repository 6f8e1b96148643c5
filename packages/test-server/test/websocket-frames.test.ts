import { encodeOkResponse } from '@qwp/qwp-wire/codec';
import { afterEach, describe, expect, it } from 'vitest';
import { simpleRows } from './helpers/frames.js';
import { clientFrame, closePayload, RawClient, serverFrame } from './helpers/raw-ws.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start } = serverPerTest();

// Each frame QuestDB's WebSocket layer refuses (WebSocketFrameParser.parse
// and QwpIngressUpgradeProcessor.handleWebSocketFrame), sent on a raw socket
// behind one good frame and ahead of another: the exact bytes the client
// receives, and whether the server ends the connection with or without a
// CLOSE frame.

const row = (i: number) => simpleRows('t', [{ v: BigInt(i), ts: BigInt(i) }]);
const BINARY = 0x2;
const TEXT = 0x1;
const CLOSE = 0x8;
const PING = 0x9;

/** The OK the good first frame gets: sequence 0, table t at seqTxn 1. */
const FIRST_OK = serverFrame(BINARY, encodeOkResponse(0n, [{ name: 't', seqTxn: 1n }]));

/** A BINARY header announcing `length` bytes, with its mask and no payload. */
function headerOnly(length: number): Buffer {
  return clientFrame(BINARY, Buffer.alloc(0), { announce: length });
}

/** A 64-bit length whose top bit is set (a negative length to QuestDB's parser). */
function negativeLength(): Buffer {
  const f = clientFrame(BINARY, Buffer.alloc(0), { lengthForm: 64 });
  f[2] = f[2]! | 0x80;
  return f;
}

const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

async function session(port: number): Promise<RawClient> {
  const c = await RawClient.open(port);
  clients.push(c);
  return c;
}

describe('malformed frames: the pending OK, then TCP ends without a CLOSE', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['opcode 0x3 (reserved data)', clientFrame(0x3, Buffer.from('x')), /unknown opcode 0x3/],
    ['opcode 0x7 (reserved data)', clientFrame(0x7), /unknown opcode 0x7/],
    ['opcode 0xB (reserved control)', clientFrame(0xb), /unknown opcode 0xb/],
    ['opcode 0xF (reserved control)', clientFrame(0xf, Buffer.from('x')), /unknown opcode 0xf/],
    ['RSV1 on a BINARY frame', clientFrame(BINARY, row(2), { rsv: 0x40 }), /RSV bits/],
    ['RSV2 on a BINARY frame', clientFrame(BINARY, row(2), { rsv: 0x20 }), /RSV bits/],
    ['RSV3 on a PING', clientFrame(PING, Buffer.from('p'), { rsv: 0x10 }), /RSV bits/],
    ['an unmasked BINARY frame', clientFrame(BINARY, row(2), { masked: false }), /unmasked/],
    ['an unmasked PING', clientFrame(PING, Buffer.from('p'), { masked: false }), /unmasked/],
    ['an unmasked CLOSE', clientFrame(CLOSE, closePayload(1000), { masked: false }), /unmasked/],
    [
      'a PING with FIN clear',
      clientFrame(PING, Buffer.from('p'), { fin: false }),
      /fragmented control/,
    ],
    [
      'a CLOSE with FIN clear',
      clientFrame(CLOSE, closePayload(1000), { fin: false }),
      /fragmented control/,
    ],
    ['a PING of 126 bytes', clientFrame(PING, Buffer.alloc(126)), /control frame payload of 126/],
    [
      'a PONG announcing 200 bytes in a 64-bit length',
      clientFrame(0xa, Buffer.alloc(200), { lengthForm: 64 }),
      /control frame payload of 200/,
    ],
    ['a CLOSE whose payload is 1 byte', clientFrame(CLOSE, Buffer.from([3])), /CLOSE payload of 1/],
    ['a 64-bit length with its top bit set', negativeLength(), /top bit/],
  ];

  it.each(cases)('%s', async (_name, bad, reason) => {
    const lines: string[] = [];
    const s = await start({ log: (l) => lines.push(l) });
    const c = await session(s.port);
    c.send(Buffer.concat([clientFrame(BINARY, row(1)), bad, clientFrame(BINARY, row(3))]));
    expect(await c.waitEnd(), 'the server ends the connection').toBe(true);
    expect(c.bytes).toEqual(FIRST_OK);
    expect(s.rows('t').map((r) => r.v)).toEqual([1n]);
    expect(s.stats().frames).toBe(1);
    await expect.poll(() => s.connections[0]?.closeCode).toBe(1006);
    expect(lines).toContainEqual(expect.stringMatching(reason));
  });
});

describe('refused frames QuestDB closes with a code: the pending OK, then its CLOSE', () => {
  const TEXT_REASON = 'text frames are not supported, QWP requires binary frames';
  const FRAGMENT_REASON = 'fragmented WebSocket frames are not supported';
  const cases: [string, Buffer, number, string][] = [
    ['a TEXT frame', clientFrame(TEXT, Buffer.from('{"a":1}')), 1003, TEXT_REASON],
    [
      'a TEXT frame with FIN clear',
      clientFrame(TEXT, Buffer.from('{'), { fin: false }),
      1003,
      TEXT_REASON,
    ],
    [
      'a BINARY frame with FIN clear',
      clientFrame(BINARY, row(2), { fin: false }),
      1002,
      FRAGMENT_REASON,
    ],
    ['a CONTINUATION frame', clientFrame(0x0, row(2)), 1002, FRAGMENT_REASON],
    [
      'a CONTINUATION frame with FIN clear',
      clientFrame(0x0, row(2), { fin: false }),
      1002,
      FRAGMENT_REASON,
    ],
    // maxBatchSize 1000: QuestDB's buffer holds 1014 bytes, a 16-bit header is 8.
    [
      'the header of a 1007-byte BINARY frame',
      headerOnly(1007),
      1009,
      'frame payload exceeds maximum size',
    ],
  ];

  it.each(cases)('%s', async (_name, bad, code, reason) => {
    const s = await start({ maxBatchSize: 1000 });
    const c = await session(s.port);
    c.send(Buffer.concat([clientFrame(BINARY, row(1)), bad, clientFrame(BINARY, row(3))]));
    expect(await c.waitEnd(), 'the server half-closes after its CLOSE').toBe(true);
    expect(c.bytes).toEqual(
      Buffer.concat([FIRST_OK, serverFrame(CLOSE, closePayload(code, reason))]),
    );
    expect(s.rows('t').map((r) => r.v)).toEqual([1n]);
    expect(s.stats().frames).toBe(1);
    // The client's FIN ends the server's drain.
    c.sock.end();
    await expect.poll(() => s.connections[0]?.closeCode).toBe(code);
  });

  it('takes a frame of exactly X-QWP-Max-Batch-Size + 14 bytes with its header', async () => {
    const s = await start({ maxBatchSize: 1000 });
    const c = await session(s.port);
    // 1006 payload bytes behind an 8-byte header: 1014, the buffer's size.
    const padded = Buffer.concat([row(1), Buffer.alloc(1006 - row(1).length)]);
    c.send(clientFrame(BINARY, padded));
    expect(await c.waitBytes(FIRST_OK.length)).toBe(true);
    expect(c.bytes).toEqual(FIRST_OK);
  });
});

describe('a client CLOSE', () => {
  it('gets the pending OK, then the answer, and the connection ends at once', async () => {
    const s = await start();
    const c = await session(s.port);
    const t0 = Date.now();
    c.send(
      Buffer.concat([
        clientFrame(BINARY, row(1)),
        clientFrame(CLOSE, closePayload(4001, 'leaving')),
        clientFrame(BINARY, row(3)),
      ]),
    );
    // The client never ends its side: the server closes anyway.
    expect(await c.waitEnd()).toBe(true);
    await expect.poll(() => s.connections[0]?.closedAt ?? null).not.toBeNull();
    expect(s.connections[0]!.closedAt! - t0).toBeLessThan(1000);
    expect(c.bytes).toEqual(Buffer.concat([FIRST_OK, serverFrame(CLOSE, closePayload(4001))]));
    expect(s.stats().frames).toBe(1);
    await expect.poll(() => s.connections[0]?.closeCode).toBe(4001);
  });

  it.each([1016, 1999, 3000, 4999])(
    'carrying %i (a code ws could not send) is echoed',
    async (code) => {
      const s = await start();
      const c = await session(s.port);
      c.send(clientFrame(CLOSE, closePayload(code)));
      expect(await c.waitEnd()).toBe(true);
      expect(c.bytes).toEqual(serverFrame(CLOSE, closePayload(code)));
    },
  );
});

describe('frames split anywhere', () => {
  it('answers frames sent one byte at a time, PING included', async () => {
    const s = await start();
    const c = await session(s.port);
    const stream = Buffer.concat([
      clientFrame(BINARY, row(1)),
      clientFrame(PING, Buffer.from('hi')),
    ]);
    for (const b of stream) {
      c.send(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    expect(await c.waitBytes(FIRST_OK.length + 4)).toBe(true);
    expect(c.bytes).toEqual(Buffer.concat([FIRST_OK, serverFrame(0xa, Buffer.from('hi'))]));
  });
});
