import { describe, expect, it } from 'vitest';
import { FrameWatcher } from '../src/frame-watcher.js';

/** A client frame: FIN bit, opcode, masked, with a payload of `length` bytes (7-, 16- or 64-bit length). */
function frame(fin: boolean, opcode: number, length: number): Buffer {
  let head: Buffer;
  if (length < 126) {
    head = Buffer.from([0, 0x80 | length]);
  } else if (length <= 0xffff) {
    head = Buffer.from([0, 0x80 | 126, 0, 0]);
    head.writeUInt16BE(length, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  return Buffer.concat([head, Buffer.from([9, 8, 7, 6]), Buffer.alloc(length, 0x82)]);
}

function feedAll(
  stream: Buffer,
  chunk: number,
  maxFrameBytes = 0,
): { watcher: FrameWatcher; hits: number } {
  const watcher = new FrameWatcher(maxFrameBytes);
  let hits = 0;
  for (let at = 0; at < stream.length; at += chunk) {
    if (watcher.feed(stream.subarray(at, at + chunk))) hits++;
  }
  return { watcher, hits };
}

describe('FrameWatcher', () => {
  // Payload bytes 0x82 look like a FIN-less BINARY header: a watcher that
  // loses the frame boundaries reports a fragment where there is none.
  const whole = Buffer.concat([
    frame(true, 2, 5),
    frame(true, 9, 3), // PING
    frame(true, 2, 300),
    frame(true, 1, 0),
    frame(true, 2, 70_000),
  ]);

  it.each([1, 3, 13, 4096, whole.length])(
    'finds no fragment in whole messages of every length form, fed %i bytes at a time',
    (chunk) => {
      const { watcher, hits } = feedAll(whole, chunk);
      expect(hits).toBe(0);
      expect(watcher.refusal).toBeNull();
    },
  );

  it.each([1, 7, whole.length])(
    'reports a FIN-less BINARY frame once, after the messages before it (%i bytes at a time)',
    (chunk) => {
      const stream = Buffer.concat([
        whole,
        frame(false, 2, 10),
        frame(true, 0, 10),
        frame(true, 2, 1),
      ]);
      const { watcher, hits } = feedAll(stream, chunk);
      expect(hits).toBe(1);
      expect(watcher.refusal).toEqual({ kind: 'fragmented', at: 4 });
    },
  );

  it('reports a CONTINUATION frame', () => {
    const { watcher } = feedAll(Buffer.concat([frame(true, 2, 1), frame(true, 0, 2)]), 64);
    expect(watcher.refusal).toEqual({ kind: 'fragmented', at: 1 });
  });

  it('takes every frame whose header and payload fit maxFrameBytes, whatever its length form', () => {
    // Headers (masked): 6 bytes up to 125, 8 up to 65535, 14 beyond.
    const fits = Buffer.concat([frame(true, 2, 94), frame(true, 2, 300), frame(true, 2, 70_000)]);
    expect(feedAll(fits, 4096, 100).watcher.refusal).toEqual({ kind: 'too-big', at: 1 });
    expect(feedAll(fits, 4096, 70_014).watcher.refusal).toBeNull();
    expect(feedAll(frame(true, 2, 94), 7, 100).watcher.refusal).toBeNull();
  });

  it.each([1, 5, 4096])(
    'reports the first frame over maxFrameBytes at its header, after the messages before it (%i bytes at a time)',
    (chunk) => {
      const stream = Buffer.concat([frame(true, 2, 10), frame(true, 9, 1), frame(true, 2, 95)]);
      // 95 + 6 = 101 > 100: refused as soon as the header is read, payload unseen.
      const { watcher, hits } = feedAll(stream.subarray(0, stream.length - 95), chunk, 100);
      expect(hits).toBe(1);
      expect(watcher.refusal).toEqual({ kind: 'too-big', at: 1 });
    },
  );

  it('checks the size before the fragmentation, as QuestDB parses the frame first', () => {
    const { watcher } = feedAll(frame(false, 2, 200), 4096, 100);
    expect(watcher.refusal).toEqual({ kind: 'too-big', at: 0 });
  });

  it.each([1, 2, 3, 4096])(
    "reads the status code of the client's CLOSE, unmasked (%i bytes at a time)",
    (chunk) => {
      const close = frame(true, 8, 5);
      // frame() fills the payload with 0x82 under the mask 09 08 07 06.
      const { watcher } = feedAll(Buffer.concat([frame(true, 2, 3), close]), chunk);
      expect(watcher.clientCloseCode).toBe(((0x82 ^ 9) << 8) | (0x82 ^ 8));
      expect(watcher.refusal).toBeNull();
    },
  );

  it('reads a CLOSE without a status code as -1', () => {
    expect(feedAll(frame(true, 8, 0), 64).watcher.clientCloseCode).toBe(-1);
    expect(feedAll(frame(true, 8, 1), 64).watcher.clientCloseCode).toBe(-1);
    expect(feedAll(frame(true, 2, 2), 64).watcher.clientCloseCode).toBeNull();
  });
});
