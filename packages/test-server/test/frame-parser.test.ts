import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/rng.js';
import { FrameParser, type FrameSink } from '../src/websocket/frame-parser.js';
import { clientFrame } from './helpers/raw-ws.js';

const SEED = Number(process.env.QWP_TEST_SEED ?? 20261207);
const STREAMS = process.env.QWP_TEST_LONG === '1' ? 5000 : 300;

type Event =
  | { kind: 'frame'; opcode: number; fin: boolean; payload: string }
  | { kind: 'oversize'; bytes: number }
  | { kind: 'malformed'; reason: string };

/** A parser whose sink records events, and the count of bytes pushed when each came. */
function recorder(maxFrameBytes: number) {
  const events: Event[] = [];
  const at: number[] = [];
  let pushed = 0;
  const sink: FrameSink = {
    frame: (opcode, fin, payload) => {
      events.push({ kind: 'frame', opcode, fin, payload: payload.toString('hex') });
      at.push(pushed);
    },
    oversize: (bytes) => {
      events.push({ kind: 'oversize', bytes });
      at.push(pushed);
    },
    malformed: (reason) => {
      events.push({ kind: 'malformed', reason });
      at.push(pushed);
    },
  };
  const parser = new FrameParser(sink, maxFrameBytes);
  return {
    events,
    at,
    parser,
    /** Pushes `bytes` in chunks of the given sizes (the rest in one), each a fresh copy. */
    feed(bytes: Buffer, sizes: number[] = []) {
      let i = 0;
      for (const n of [...sizes, bytes.length]) {
        if (i >= bytes.length) break;
        const chunk = Buffer.from(bytes.subarray(i, i + n));
        pushed += chunk.length;
        i += chunk.length;
        parser.push(chunk);
      }
    },
  };
}

const ones = (n: number) => Array.from({ length: n }, () => 1);

describe('FrameParser: each QuestDB rule, reported as soon as its bytes are in', () => {
  const negative = clientFrame(0x2, Buffer.alloc(0), { lengthForm: 64 });
  negative[2] = negative[2]! | 0x80;
  const cases: [string, Buffer, Event, number][] = [
    [
      'RSV1 set',
      clientFrame(0x2, Buffer.from('ab'), { rsv: 0x40 }),
      { kind: 'malformed', reason: 'RSV bits set (first byte 0xc2) without an extension' },
      2,
    ],
    [
      'opcode 0x3',
      clientFrame(0x3, Buffer.from('ab')),
      { kind: 'malformed', reason: 'unknown opcode 0x3' },
      2,
    ],
    ['opcode 0xc', clientFrame(0xc), { kind: 'malformed', reason: 'unknown opcode 0xc' }, 2],
    [
      'a PONG with FIN clear',
      clientFrame(0xa, Buffer.from('p'), { fin: false }),
      { kind: 'malformed', reason: 'fragmented control frame (opcode 0xa)' },
      2,
    ],
    [
      'an unmasked frame',
      clientFrame(0x2, Buffer.from('ab'), { masked: false }),
      { kind: 'malformed', reason: 'unmasked client frame' },
      2,
    ],
    [
      'a negative 64-bit length',
      negative,
      { kind: 'malformed', reason: '64-bit payload length with its top bit set' },
      10,
    ],
    [
      'a PING of 126 bytes (16-bit length)',
      clientFrame(0x9, Buffer.alloc(126)),
      { kind: 'malformed', reason: 'control frame payload of 126 bytes (at most 125)' },
      4,
    ],
    [
      'a CLOSE of 1 byte',
      clientFrame(0x8, Buffer.from([1])),
      { kind: 'malformed', reason: 'CLOSE payload of 1 byte' },
      2,
    ],
    [
      'a frame one byte over the limit (16-bit length, 8-byte header)',
      clientFrame(0x2, Buffer.alloc(93), { lengthForm: 16 }),
      { kind: 'oversize', bytes: 101 },
      8,
    ],
    [
      'a frame over the limit with a 64-bit length',
      clientFrame(0x2, Buffer.alloc(0), { announce: 2 ** 40, lengthForm: 64 }),
      { kind: 'oversize', bytes: 2 ** 40 + 14 },
      14,
    ],
  ];

  it.each(cases)('%s', (_name, bytes, event, after) => {
    const whole = recorder(100);
    whole.feed(Buffer.concat([bytes, clientFrame(0x2, Buffer.from('after'))]));
    expect(whole.events).toEqual([event]);
    expect(whole.parser.isStopped).toBe(true);
    const trickle = recorder(100);
    trickle.feed(bytes, ones(bytes.length));
    expect(trickle.events).toEqual([event]);
    expect(trickle.at).toEqual([after]);
  });

  it('takes a frame of exactly the limit, whatever its length form', () => {
    const r = recorder(100);
    // 6 + 94, 8 + 92 (non-minimal 16-bit form), 14 + 86 (64-bit form).
    r.feed(
      Buffer.concat([
        clientFrame(0x2, Buffer.alloc(94, 1)),
        clientFrame(0x2, Buffer.alloc(92, 2), { lengthForm: 16 }),
        clientFrame(0x2, Buffer.alloc(86, 3), { lengthForm: 64 }),
      ]),
    );
    expect(r.events.map((e) => (e.kind === 'frame' ? e.payload.length / 2 : e))).toEqual([
      94, 92, 86,
    ]);
  });

  it('hands over empty frames, CLOSE with a code, and TEXT/BINARY with either FIN', () => {
    const r = recorder(1000);
    r.feed(
      Buffer.concat([
        clientFrame(0x2),
        clientFrame(0x8, Buffer.from([0x03, 0xe8, 0x62])),
        clientFrame(0x1, Buffer.from('t'), { fin: false }),
        clientFrame(0x0, Buffer.from('c')),
      ]),
    );
    expect(r.events).toEqual([
      { kind: 'frame', opcode: 0x2, fin: true, payload: '' },
      { kind: 'frame', opcode: 0x8, fin: true, payload: '03e862' },
      { kind: 'frame', opcode: 0x1, fin: false, payload: '74' },
      { kind: 'frame', opcode: 0x0, fin: true, payload: '63' },
    ]);
  });

  it('discards everything after stop(), the rest of the chunk included', () => {
    const events: number[] = [];
    const parser: FrameParser = new FrameParser(
      {
        frame: (opcode) => {
          events.push(opcode);
          parser.stop();
        },
        oversize: () => {},
        malformed: () => {},
      },
      1000,
    );
    parser.push(Buffer.concat([clientFrame(0x2, Buffer.from('a')), clientFrame(0x9)]));
    parser.push(clientFrame(0x2));
    expect(events).toEqual([0x2]);
  });
});

/** A random valid client frame: its bytes and the event the parser must report. */
function randomFrame(rng: SeededRandom): { bytes: Buffer; event: Event } {
  const pick = rng.next();
  const opcode =
    pick < 0.55
      ? 0x2
      : pick < 0.65
        ? 0x0
        : pick < 0.72
          ? 0x1
          : pick < 0.82
            ? 0x9
            : pick < 0.92
              ? 0xa
              : 0x8;
  const control = opcode >= 0x8;
  const size = rng.next();
  let length = control
    ? Math.floor(rng.next() * 126)
    : size < 0.5
      ? Math.floor(rng.next() * 126)
      : size < 0.9
        ? Math.floor(rng.next() * 4000)
        : 60_000 + Math.floor(rng.next() * 20_000);
  if (opcode === 0x8 && length === 1) length = 2;
  const payload = Buffer.alloc(length);
  for (let i = 0; i < length; i++) payload[i] = Math.floor(rng.next() * 256);
  const fin = control || rng.next() < 0.8;
  const zeroMask = rng.next() < 0.1;
  const mask = zeroMask ? [0, 0, 0, 0] : [0, 1, 2, 3].map(() => Math.floor(rng.next() * 256));
  // Non-minimal length forms are legal to QuestDB's (non-strict) parser.
  const wider = rng.next();
  const minimal = length < 126 ? 7 : length <= 0xffff ? 16 : 64;
  const lengthForm = (
    control ? 7 : wider < 0.1 ? 64 : wider < 0.2 && length <= 0xffff ? 16 : minimal
  ) as 7 | 16 | 64;
  return {
    bytes: clientFrame(opcode, payload, { fin, mask, lengthForm }),
    event: { kind: 'frame', opcode, fin, payload: payload.toString('hex') },
  };
}

/** A refusal to end a stream with, and what the parser must report for it. */
function randomRefusal(rng: SeededRandom, limit: number): { bytes: Buffer; event: Event } {
  const r = rng.next();
  if (r < 0.25) {
    return {
      bytes: clientFrame(0x2, Buffer.from('xy'), { masked: false }),
      event: { kind: 'malformed', reason: 'unmasked client frame' },
    };
  }
  if (r < 0.5) {
    return {
      bytes: clientFrame(0x5, Buffer.from('xy')),
      event: { kind: 'malformed', reason: 'unknown opcode 0x5' },
    };
  }
  if (r < 0.75) {
    return {
      bytes: clientFrame(0x9, Buffer.from('p'), { fin: false }),
      event: { kind: 'malformed', reason: 'fragmented control frame (opcode 0x9)' },
    };
  }
  const announce = limit + 1 + Math.floor(rng.next() * 100_000);
  const header = clientFrame(0x2, Buffer.alloc(0), { announce, lengthForm: 64 });
  return { bytes: header, event: { kind: 'oversize', bytes: announce + 14 } };
}

/** Random chunk sizes covering `total` bytes, biased to splits inside headers. */
function randomSplits(rng: SeededRandom, total: number): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const r = rng.next();
    const n =
      r < 0.4
        ? 1 + Math.floor(rng.next() * 15)
        : r < 0.8
          ? 1 + Math.floor(rng.next() * 3000)
          : 1 + Math.floor(rng.next() * 70_000);
    sizes.push(Math.min(n, left));
    left -= n;
  }
  return sizes;
}

describe('FrameParser fuzz', () => {
  it(`parses ${STREAMS} random frame streams split at random points (seed ${SEED})`, () => {
    const rng = new SeededRandom(SEED);
    const limit = 90_000;
    for (let s = 0; s < STREAMS; s++) {
      const frames = Array.from({ length: 1 + Math.floor(rng.next() * 12) }, () =>
        randomFrame(rng),
      );
      const expected = frames.map((f) => f.event);
      const parts = frames.map((f) => f.bytes);
      if (rng.next() < 0.3) {
        const refusal = randomRefusal(rng, limit);
        parts.push(refusal.bytes, clientFrame(0x2, Buffer.from('never')));
        expected.push(refusal.event);
      }
      const stream = Buffer.concat(parts);
      const r = recorder(limit);
      r.feed(stream, randomSplits(rng, stream.length));
      expect(r.events, `stream ${s}`).toEqual(expected);
    }
  });
});
