import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/index.js';
import { SeededRandom } from '../src/rng.js';
import { ackCoverage, connect } from './helpers/client.js';
import {
  doubles,
  emptyCommit,
  longs,
  message,
  symbols,
  T,
  timestamps,
  varchars,
} from './helpers/frames.js';

const SEED = Number(process.env.QWP_TEST_SEED ?? 20261123);
const CASES = process.env.QWP_TEST_LONG === '1' ? 2000 : 60;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.close();
});

function baseFrame(): Buffer {
  return message({
    delta: { start: 0, entries: ['a', 'bb'] },
    tables: [
      {
        name: 'fz',
        rowCount: 3,
        columns: [
          { name: 'k', type: T.SYMBOL, data: symbols([0, 1, null]) },
          { name: 's', type: T.VARCHAR, data: varchars(['x', null, 'zz']) },
          { name: 'd', type: T.DOUBLE, data: doubles([1, 2, 3]) },
          { name: 'l', type: T.LONG, data: longs([1n, null, 3n]) },
          { name: '', type: T.TIMESTAMP, data: timestamps([1n, 2n, 3n]) },
        ],
      },
    ],
  });
}

function mutate(rng: SeededRandom, frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  const kind = Math.floor(rng.next() * 4);
  if (kind === 0) {
    // flip a few bits anywhere, header included
    for (let i = 0, n = 1 + Math.floor(rng.next() * 3); i < n; i++) {
      const at = Math.floor(rng.next() * out.length);
      out[at] = (out[at] ?? 0) ^ (1 << Math.floor(rng.next() * 8));
    }
    return out;
  }
  if (kind === 1) return out.subarray(0, Math.floor(rng.next() * out.length));
  if (kind === 2) {
    // corrupt a payload byte but keep the header's payload_length honest
    const at = 12 + Math.floor(rng.next() * (out.length - 12));
    out[at] = Math.floor(rng.next() * 256);
    return out;
  }
  const junk = Buffer.alloc(Math.floor(rng.next() * 64));
  for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rng.next() * 256);
  return junk;
}

describe('fuzz', () => {
  it(`answers ${CASES} mutated frames with exactly one OK or error each and never stops serving (seed ${SEED})`, async () => {
    const rng = new SeededRandom(SEED);
    const base = baseFrame();
    for (let i = 0; i < CASES; i++) {
      const c = await connect(server.url);
      try {
        const frame = mutate(rng, base);
        c.send(frame);
        // A flip may set FLAG_DEFER_COMMIT on a still-valid frame: its OK then
        // comes with this commit frame's (sequence 1).
        c.send(emptyCommit());
        const rs = await c.waitForAck(1, 2000);
        const r = rs[0];
        expect(r?.kind === 'ok' || r?.kind === 'error', `case ${i}`).toBe(true);
        if (r?.kind === 'error') {
          // The error is the only answer: the commit frame after it is refused.
          await c.barrier();
          expect(c.responses, `case ${i}`).toHaveLength(1);
          expect(r.message.length, `case ${i}`).toBeGreaterThan(0);
          expect(r.sequence, `case ${i}`).toBe(0n);
        } else if (r?.kind === 'ok') {
          // Cumulative OKs: a deferred frame is covered only by the commit's
          // OK (sequence 1); otherwise the OKs end at 1 however they are batched.
          const deferred = frame.length > 5 && ((frame[5] ?? 0) & 1) === 1;
          const cov = ackCoverage(rs);
          expect(cov.highest, `case ${i}`).toBe(1n);
          if (deferred) expect(cov.sequences, `case ${i}`).toEqual([1n]);
        }
      } finally {
        await c.close();
      }
    }
    const c = await connect(server.url);
    c.send(base);
    expect((await c.waitFor(1))[0]).toMatchObject({ kind: 'ok' });
    await c.close();
    expect(server.stats().frames).toBe(2 * CASES + 1);
  });
});
