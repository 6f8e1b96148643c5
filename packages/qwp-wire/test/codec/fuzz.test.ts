import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  decodeResponse,
  encodeDurableAckResponse,
  encodeErrorResponse,
  encodeOkResponse,
  QwpDecodeError,
  Status,
  SymbolDictionary,
} from '../../src/index.js';
import { LONG, mulberry32 as rng, SEED } from '../seed.js';
import { corpus } from './corpus.js';

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x3f, 0x40];

/** One random mutation; most keep the header's payload length consistent so decoding goes deep. */
function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rand() * n);
  let out = src.slice();
  const ops = 1 + pick(3);
  for (let k = 0; k < ops; k++) {
    const op = pick(6);
    if (op === 0 && out.length > 0) {
      out[pick(out.length)]! ^= 1 << pick(8);
    } else if (op === 1 && out.length > 0) {
      out[pick(out.length)] = INTERESTING[pick(INTERESTING.length)]!;
    } else if (op === 2) {
      out = out.slice(0, pick(out.length + 1));
    } else if (op === 3 && out.length > 0) {
      const at = pick(out.length);
      const grown = new Uint8Array(out.length + 1);
      grown.set(out.subarray(0, at));
      grown[at] = pick(256);
      grown.set(out.subarray(at), at + 1);
      out = grown;
    } else if (op === 4 && out.length > 13) {
      const at = 12 + pick(out.length - 12);
      const shrunk = new Uint8Array(out.length - 1);
      shrunk.set(out.subarray(0, at));
      shrunk.set(out.subarray(at + 1), at);
      out = shrunk;
    } else if (out.length > 0) {
      out[pick(out.length)] = pick(256);
    }
  }
  if (out.length >= 12 && rand() < 0.85) {
    new DataView(out.buffer, out.byteOffset).setUint32(8, out.length - 12, true);
  }
  return out;
}

// Generous: the 2-core machine is shared with other test runs.
const LONG_TIMEOUT = LONG ? 900_000 : 60_000;

describe('decoder fuzzing', () => {
  const iterations = LONG ? 2_000_000 : 100_000;

  it(
    `${iterations} seeded mutations and truncations raise only QwpDecodeError (seed ${SEED})`,
    () => {
      const frames = corpus();
      // The corpus itself decodes, in order, on one connection dictionary.
      const base = new SymbolDictionary();
      for (const f of frames.slice(0, 2)) decodeMessage(f, base);
      const rand = rng(SEED);
      let rejected = 0;
      let accepted = 0;
      for (let i = 0; i < iterations; i++) {
        const src = frames[Math.floor(rand() * frames.length)]!;
        const bytes = mutate(src, rand);
        // Half the time the connection already has the symbols (deep symbol paths).
        const dict = new SymbolDictionary();
        if (rand() < 0.5) dict.apply(0, base.entries);
        try {
          decodeMessage(bytes, dict);
          accepted++;
        } catch (err) {
          if (!(err instanceof QwpDecodeError)) {
            throw new Error(`iteration ${i} (seed ${SEED}) escaped with ${String(err)}`, {
              cause: err,
            });
          }
          if (!(err.offset >= 0 && err.offset <= bytes.length)) {
            throw new Error(
              `iteration ${i} (seed ${SEED}): offset ${err.offset} outside the frame`,
            );
          }
          rejected++;
        }
      }
      // Both outcomes occur: the mutations are neither all fatal nor all harmless.
      expect(rejected).toBeGreaterThan(iterations / 4);
      expect(accepted).toBeGreaterThan(100);
    },
    LONG_TIMEOUT,
  );

  it('response frames: 20000 seeded mutations raise only QwpDecodeError', () => {
    const frames = [
      encodeOkResponse(5n, [
        { name: 'trades', seqTxn: 42n },
        { name: 'ticks', seqTxn: 7n },
      ]),
      encodeErrorResponse(Status.PARSE_ERROR, 9n, 'bad frame at byte 12'),
      encodeDurableAckResponse([{ name: 'trades', seqTxn: 40n }]),
    ];
    const rand = rng(SEED + 1);
    for (let i = 0; i < 20_000; i++) {
      const bytes = mutate(frames[Math.floor(rand() * frames.length)]!, rand);
      try {
        decodeResponse(bytes);
      } catch (err) {
        if (!(err instanceof QwpDecodeError)) {
          throw new Error(`response iteration ${i} (seed ${SEED}) escaped with ${String(err)}`, {
            cause: err,
          });
        }
      }
    }
  });
});
