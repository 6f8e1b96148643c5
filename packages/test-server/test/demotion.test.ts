import { once } from 'node:events';
import { Status } from '@qwp/qwp-wire/codec';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_DEMOTION_GRACE_MS, READ_ONLY_MESSAGE, type TestServer } from '../src/index.js';
import { ackCoverage, type TestClient } from './helpers/client.js';
import { emptyCommit, simpleRows } from './helpers/frames.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start, open } = serverPerTest();

const DURABLE = { 'X-QWP-Request-Durable-Ack': 'true' };
const row = (i: number, flags = 0) => simpleRows('t', [{ v: BigInt(i), ts: BigInt(i) }], flags);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The kinds and sequences (or tables) of what `c` received, in order. */
function seen(c: TestClient): string[] {
  return c.responses.map((r) => {
    if (r.kind === 'ok') return `ok ${r.sequence}`;
    if (r.kind === 'error') return `error ${r.status} ${r.sequence} ${r.message}`;
    return `${r.kind} ${r.tables.map((t) => `${t.name}=${t.seqTxn}`).join(',')}`;
  });
}

/** Counts the PONGs `c` receives from now on. */
function pongs(c: TestClient): { count: number } {
  const n = { count: 0 };
  c.ws.on('pong', () => n.count++);
  return n;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('demote(): a primary demoted in place', () => {
  it('an open connection learns only at its next data frame: no answer, then CLOSE 1000', async () => {
    const s = await start({ role: 'PRIMARY' });
    const c = await open(s);
    c.send(row(0));
    await c.waitForAck(0);
    s.demote();
    // PINGs are answered and nothing arrives: the connection does not know yet.
    await c.barrier();
    await c.barrier();
    expect(c.closeCode).toBeNull();
    c.send(row(1));
    expect(await c.closed()).toEqual({ code: 1000, reason: READ_ONLY_MESSAGE });
    expect(seen(c)).toEqual(['ok 0']);
    expect(s.rows('t').map((r) => r.v)).toEqual([0n]);
    expect(s.frames.map((f) => f.outcome)).toEqual(['committed', 'demoted']);
    expect(s.stats().framesRefused).toBe(1);
    await expect(open(s)).rejects.toMatchObject({
      status: 421,
      headers: { 'x-questdb-role': 'REPLICA' },
    });
  });

  it('an idle or PING-only connection never learns', async () => {
    const s = await start();
    const idle = await open(s);
    const pinging = await open(s);
    s.demote('PRIMARY_CATCHUP');
    for (let i = 0; i < 3; i++) await pinging.barrier();
    await sleep(50);
    expect([idle.closeCode, pinging.closeCode]).toEqual([null, null]);
    expect(s.stats().connectionsOpen).toBe(2);
    // A promotion back makes it writable again, and it never noticed.
    s.promote();
    pinging.send(row(0));
    await pinging.waitForAck(0);
  });

  // Demoted right before the server-wide frame `at` is handled; `frames` go
  // in one burst. The frames before `at` are acknowledged (one cumulative OK
  // goes out before the CLOSE); `at` and everything after it get nothing.
  it.each([
    { at: 0, frames: 3, acked: null },
    { at: 1, frames: 3, acked: 0 },
    { at: 3, frames: 5, acked: 2 },
    { at: 9, frames: 12, acked: 8 },
  ])(
    'demoted at frame $at of $frames: acknowledged through $acked, then CLOSE 1000',
    async ({ at, frames, acked }) => {
      let server: TestServer | null = null;
      const s = await start({
        onFrame: (index) => {
          if (index === at) server?.demote();
        },
      });
      server = s;
      const c = await open(s);
      for (let i = 0; i < frames; i++) c.send(row(i));
      expect(await c.closed()).toEqual({ code: 1000, reason: READ_ONLY_MESSAGE });
      expect(c.responses.every((r) => r.kind === 'ok')).toBe(true);
      expect(ackCoverage(c.responses).highest).toBe(acked === null ? -1n : BigInt(acked));
      expect(s.rows('t')).toHaveLength(at);
      // The frames after the refused one were never handled (the connection closed).
      expect(s.frames.filter((f) => f.outcome === 'demoted')).toHaveLength(1);
    },
  );

  it('rolls back an open deferred group, and a zero-length message still gets its OK', async () => {
    const s = await start();
    const c = await open(s);
    c.send(row(0, 0x01));
    await c.barrier();
    s.demote();
    // QuestDB's read-only gate skips a zero-length message: an empty commit, acknowledged.
    c.send(Buffer.alloc(0));
    await c.waitForAck(1);
    c.send(row(2));
    expect((await c.closed()).code).toBe(1000);
    // The zero-length message closed the group: its row committed before the demotion bit.
    expect(seen(c)).toEqual(['ok 1']);
    expect(s.rows('t').map((r) => r.v)).toEqual([0n]);
    const d = await start();
    const e = await open(d);
    e.send(row(0, 0x01));
    await e.barrier();
    d.demote();
    e.send(row(1));
    expect((await e.closed()).code).toBe(1000);
    expect(seen(e)).toEqual([]);
    expect(d.rows('t')).toEqual([]);
  });

  it('refuses to demote to a writable role, or promote to a read-only one', async () => {
    const s = await start();
    expect(() => s.demote('PRIMARY')).toThrow(/demote role must be REPLICA or PRIMARY_CATCHUP/);
    expect(() => s.promote('REPLICA')).toThrow(/promote role must be a writable role/);
  });
});

describe('demote() with durable ACKs: the close is held for the uploads', () => {
  it('holds the close: data frames dropped unanswered, PINGs answered, then durable ACK + CLOSE', async () => {
    const s = await start({ durableAck: { lagMs: 0, jitterMs: 0, tiers: ['replicated'] } });
    const c = await open(s, DURABLE);
    const p = pongs(c);
    c.send(row(0));
    await c.waitFor(2);
    s.faults.stallUploads();
    c.send(row(1));
    await c.waitForAck(1);
    s.demote();
    c.send(row(2));
    c.send(row(3));
    // Held: both frames consumed without an answer, and PINGs still get PONGs.
    await c.barrier();
    await c.barrier();
    expect(p.count).toBe(2);
    expect(c.closeCode).toBeNull();
    // t=1 again: t had caught up, so its last report was forgotten (as QuestDB prunes it).
    expect(seen(c)).toEqual(['ok 0', 'durable-ack t=1', 'ok 1', 'durable-ack t=1']);
    // The uploads complete; the next PING polls, sends the last durable ACK and the CLOSE, no PONG.
    s.faults.stallUploads(false);
    c.ws.ping();
    expect(await c.closed()).toEqual({ code: 1000, reason: READ_ONLY_MESSAGE });
    expect(p.count).toBe(2);
    expect(seen(c)).toEqual([
      'ok 0',
      'durable-ack t=1',
      'ok 1',
      'durable-ack t=1',
      'durable-ack t=2',
    ]);
    expect(s.frames.map((f) => f.outcome)).toEqual([
      'committed',
      'committed',
      'demoted',
      'demoted',
    ]);
  });

  it('a data frame that finds the uploads done closes too (the frame itself unanswered)', async () => {
    const s = await start({ durableAck: { lagMs: 0, jitterMs: 0, tiers: ['replicated'] } });
    const c = await open(s, DURABLE);
    s.faults.stallUploads();
    c.send(row(0));
    await c.waitForAck(0);
    s.demote();
    c.send(row(1));
    await c.barrier();
    s.faults.stallUploads(false);
    c.send(row(2));
    expect((await c.closed()).code).toBe(1000);
    expect(seen(c)).toEqual(['ok 0', 'durable-ack t=1']);
  });

  it('closes at once when every commit was already reported durable', async () => {
    const s = await start({ durableAck: { lagMs: 0, jitterMs: 0, tiers: ['replicated'] } });
    const c = await open(s, DURABLE);
    c.send(row(0));
    await c.waitFor(2);
    s.demote();
    c.send(row(1));
    expect((await c.closed()).code).toBe(1000);
    expect(seen(c)).toEqual(['ok 0', 'durable-ack t=1']);
  });

  it('the hold expires: closed by the next data frame or PING, never by a timer', async () => {
    const s = await start({
      durableAck: { lagMs: 0, jitterMs: 0, tiers: ['replicated'] },
      demotionGraceMs: 100,
    });
    const c = await open(s, DURABLE);
    s.faults.stallUploads();
    c.send(row(0));
    await c.waitForAck(0);
    s.demote();
    c.send(row(1));
    await c.barrier();
    // Past the hold, but nothing polls without inbound traffic.
    await sleep(150);
    expect(c.closeCode).toBeNull();
    expect(s.connections[0]?.closedAt).toBeNull();
    c.ws.ping();
    expect(await c.closed()).toEqual({ code: 1000, reason: READ_ONLY_MESSAGE });
    // Closed with the commit never reported durable: a replay may duplicate it.
    expect(seen(c)).toEqual(['ok 0']);
  });

  it(`holds for ${DEFAULT_DEMOTION_GRACE_MS} ms by default (QuestDB's ROLE_CHANGE_CLOSE_UPLOAD_GRACE)`, async () => {
    expect(DEFAULT_DEMOTION_GRACE_MS).toBe(10_000);
    const s = await start({ durableAck: { lagMs: 0, jitterMs: 0, tiers: ['replicated'] } });
    const c = await open(s, DURABLE);
    const p = pongs(c);
    s.faults.stallUploads();
    c.send(row(0));
    await c.waitForAck(0);
    // Only Date is faked: sockets and timers run as usual.
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    s.demote();
    c.send(row(1));
    await c.barrier();
    vi.setSystemTime(t0 + DEFAULT_DEMOTION_GRACE_MS - 1);
    await c.barrier();
    expect(p.count).toBe(2);
    vi.setSystemTime(t0 + DEFAULT_DEMOTION_GRACE_MS);
    c.ws.ping();
    expect((await c.closed()).code).toBe(1000);
    expect(p.count).toBe(2);
  });

  it('a connection that did not negotiate durable ACKs is not held', async () => {
    const s = await start({ durableAck: { lagMs: 0, jitterMs: 0 } });
    const c = await open(s);
    s.faults.stallUploads();
    c.send(row(0));
    await c.waitForAck(0);
    s.demote();
    c.send(row(1));
    expect((await c.closed()).code).toBe(1000);
  });

  it('a re-promotion during the hold does not make the held connection write again', async () => {
    const s = await start({ durableAck: { lagMs: 0, jitterMs: 0, tiers: ['replicated'] } });
    const c = await open(s, DURABLE);
    s.faults.stallUploads();
    c.send(row(0));
    await c.waitForAck(0);
    s.demote();
    c.send(row(1));
    await c.barrier();
    s.promote();
    c.send(row(2));
    await c.barrier();
    expect(seen(c)).toEqual(['ok 0']);
    expect(s.rows('t')).toHaveLength(1);
    // A new connection writes.
    const d = await open(s);
    d.send(row(3));
    await d.waitForAck(0);
    expect(s.rows('t')).toHaveLength(2);
  });
});

describe('a node configured read-only', () => {
  // [frames to send, what the client sees]: every data frame is refused with
  // SECURITY_ERROR (after the pending OK), and as after any error the frames
  // behind it are consumed unanswered; a zero-length message passes the gate.
  it.each([
    {
      name: 'a data frame',
      frames: [row(0), row(1)],
      expected: [`error ${Status.SECURITY_ERROR} 0 ${READ_ONLY_MESSAGE}`],
    },
    {
      name: 'a zero-length message, then data',
      frames: [Buffer.alloc(0), row(1), row(2)],
      expected: ['ok 0', `error ${Status.SECURITY_ERROR} 1 ${READ_ONLY_MESSAGE}`],
    },
    {
      name: 'an empty commit (a header-only message)',
      frames: [emptyCommit()],
      expected: [`error ${Status.SECURITY_ERROR} 0 ${READ_ONLY_MESSAGE}`],
    },
  ])('answers $name with SECURITY_ERROR and stays open', async ({ frames, expected }) => {
    const s = await start({ readOnly: true });
    const c = await open(s);
    // The upgrade is accepted: the role stays STANDALONE.
    expect(c.upgradeHeaders['x-questdb-role']).toBe('STANDALONE');
    for (const f of frames) c.send(f);
    await c.waitFor(expected.length);
    await c.barrier();
    expect(seen(c)).toEqual(expected);
    expect(c.closeCode).toBeNull();
    expect(s.tables()).toEqual([]);
  });

  it('setReadOnly() bites at the next frame of an open connection, after its pending OK', async () => {
    const s = await start();
    const c = await open(s);
    c.send(row(0));
    await c.waitForAck(0);
    s.setReadOnly();
    c.send(row(1));
    await c.waitFor(2);
    expect(seen(c)[1]).toBe(`error ${Status.SECURITY_ERROR} 1 ${READ_ONLY_MESSAGE}`);
    s.setReadOnly(false);
    const d = await open(s);
    d.send(row(2));
    await d.waitForAck(0);
    expect(s.rows('t')).toHaveLength(2);
  });

  it('wins over a demotion: a demoted read-only node still answers SECURITY_ERROR', async () => {
    const s = await start({ readOnly: true });
    const c = await open(s);
    s.demote();
    c.send(row(0));
    const [r] = await c.waitFor(1);
    expect(r).toMatchObject({ kind: 'error', status: Status.SECURITY_ERROR });
    const pong = once(c.ws, 'pong', { signal: AbortSignal.timeout(3000) });
    c.ws.ping();
    await pong;
  });
});
