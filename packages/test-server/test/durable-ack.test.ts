import { Status } from '@qwp/qwp-wire/codec';
import { describe, expect, it } from 'vitest';
import { POLL_NOT_NEGOTIATED, startTestServer } from '../src/index.js';
import type { TestClient } from './helpers/client.js';
import { emptyCommit, message, simpleRows } from './helpers/frames.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start, open } = serverPerTest();

const SEED = Number(process.env.QWP_TEST_SEED ?? 42);
const row = (i: number, table = 't', flags = 0) =>
  simpleRows(table, [{ v: BigInt(i), ts: BigInt(i) }], flags);
/** A durable-ACK poll: a header-only message with flag 0x02. */
const poll = () => message({ tables: [], flags: 0x02 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NOW = { lagMs: 0, jitterMs: 0, localLagMs: 0, localJitterMs: 0 };

function seen(c: TestClient): string[] {
  return c.responses.map((r) => {
    if (r.kind === 'ok') {
      return `ok ${r.sequence}${r.tables.map((t) => ` ${t.name}=${t.seqTxn}`).join('')}`;
    }
    if (r.kind === 'error') return `error ${r.status} ${r.sequence} ${r.message}`;
    return `${r.kind} ${r.tables.map((t) => `${t.name}=${t.seqTxn}`).join(',')}`;
  });
}

describe('durable-ack tiers', () => {
  // [tiers the server offers, X-QWP-Request-Durable-Ack, confirmation, frames after one commit]
  it.each([
    [['local', 'replicated'], 'true', 'enabled', ['durable-ack']],
    [['local', 'replicated'], 'replicated', 'replicated', ['durable-ack']],
    [['local', 'replicated'], 'local', 'local', ['local-durable-ack']],
    [
      ['local', 'replicated'],
      'local,replicated',
      'local,replicated',
      ['local-durable-ack', 'durable-ack'],
    ],
    [['local'], 'local', 'local', ['local-durable-ack']],
    [['local'], 'true', undefined, []],
    [['local'], 'local,replicated', undefined, []],
    [['replicated'], 'local', undefined, []],
    [['local', 'replicated'], 'yes', undefined, []],
  ] as const)(
    'offering %j, a request for %s is confirmed with %s',
    async (tiers, request, token, kinds) => {
      const s = await start({ durableAck: { ...NOW, tiers } });
      const c = await open(s, { 'X-QWP-Request-Durable-Ack': request });
      expect(c.upgradeHeaders['x-qwp-durable-ack']).toBe(token);
      expect(s.connections[0]?.durableTiers).toEqual(
        token === undefined ? [] : request === 'true' ? ['replicated'] : request.split(','),
      );
      c.send(row(0));
      await c.waitForAck(0);
      await c.barrier();
      expect(c.responses.slice(1).map((r) => r.kind)).toEqual(kinds);
      for (const r of c.responses.slice(1)) {
        expect(r).toMatchObject({ tables: [{ name: 't', seqTxn: 1n }] });
      }
      expect(s.stats()).toMatchObject({
        localDurableAcks: kinds.filter((k) => k === 'local-durable-ack').length,
        durableAcks: kinds.filter((k) => k === 'durable-ack').length,
      });
    },
  );

  it('each tier keeps its own frontier: local ahead of replicated', async () => {
    const s = await start({
      durableAck: { lagMs: 60_000, jitterMs: 0, localLagMs: 0, localJitterMs: 0 },
    });
    const c = await open(s, { 'X-QWP-Request-Durable-Ack': 'local,replicated' });
    c.send(row(0));
    await c.waitForAck(0);
    await c.barrier();
    expect(seen(c)).toEqual(['ok 0 t=1', 'local-durable-ack t=1']);
    expect(s.durableWatermark('t', 'local')).toBe(1n);
    expect(s.durableWatermark('t')).toBe(-1n);
  });
});

describe('durable watermarks: a per-table clock, not an echo of the OKs', () => {
  it('reports past the latest OK when another writer committed', async () => {
    const s = await start({ durableAck: NOW });
    const c = await open(s, { 'X-QWP-Request-Durable-Ack': 'true' });
    c.send(row(0));
    await c.waitFor(2);
    expect(s.advanceSeqTxn('t', 3)).toBe(4n);
    // The next OK jumps too: its commit is seqTxn 5, not 2.
    c.send(row(1));
    await c.waitFor(4);
    expect(seen(c)).toEqual(['ok 0 t=1', 'durable-ack t=1', 'ok 1 t=5', 'durable-ack t=5']);
    // Another writer alone: the connection caught up on t, so it hears nothing more of it.
    s.advanceSeqTxn('t', 2n);
    await c.barrier();
    expect(c.responses).toHaveLength(4);
    expect(s.durableWatermark('t')).toBe(7n);
  });

  it('reports below the latest OK while uploads lag', async () => {
    const s = await start({ durableAck: NOW });
    const c = await open(s, { 'X-QWP-Request-Durable-Ack': 'true' });
    c.send(row(0));
    await c.waitFor(2);
    s.setDurableLag(60_000);
    c.send(row(1));
    c.send(row(2));
    await c.waitForAck(2);
    await c.barrier();
    // OK names seqTxn 3; the frontier is still at 1, reported again (t had caught up).
    expect(seen(c)).toEqual(['ok 0 t=1', 'durable-ack t=1', 'ok 2 t=3', 'durable-ack t=1']);
    await c.barrier();
    expect(c.responses).toHaveLength(4);
  });

  it('names only the tables this connection wrote, from its first commit to them', async () => {
    const s = await start({ durableAck: NOW });
    const other = await open(s);
    other.send(row(0, 'u'));
    await other.waitForAck(0);
    const c = await open(s, { 'X-QWP-Request-Durable-Ack': 'true' });
    await c.barrier();
    expect(c.responses).toEqual([]);
    c.send(row(1, 't'));
    await c.waitFor(2);
    await c.barrier();
    expect(seen(c)).toEqual(['ok 0 t=1', 'durable-ack t=1']);
    // Its first commit to u: the frontier there already includes the other connection's.
    c.send(row(2, 'u'));
    await c.waitFor(4);
    expect(seen(c).slice(2)).toEqual(['ok 1 u=2', 'durable-ack u=2']);
  });

  it('lags and jumps: a run of commits is covered by fewer durable ACKs, some skipping values', async () => {
    const s = await start({
      durableAck: { lagMs: 5, jitterMs: 60, seed: SEED, tiers: ['replicated'] },
    });
    const c = await open(s, { 'X-QWP-Request-Durable-Ack': 'true' });
    for (let i = 0; i < 40; i++) {
      c.send(row(i));
      await c.waitForAck(i);
    }
    const deadline = Date.now() + 3000;
    while (s.durableWatermark('t') < 40n && Date.now() < deadline) await sleep(10);
    await c.barrier();
    const values = c.responses.flatMap((r) =>
      r.kind === 'durable-ack' ? r.tables.map((t) => t.seqTxn) : [],
    );
    expect(values.at(-1)).toBe(40n);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
    expect(values.length).toBeLessThan(40);
  });

  it('stallUploads() freezes the frontiers until turned off, and resetFaults() turns it off', async () => {
    const s = await start({ durableAck: NOW, faults: { stallUploads: true } });
    const c = await open(s, { 'X-QWP-Request-Durable-Ack': 'true' });
    c.send(row(0));
    await c.waitForAck(0);
    await c.barrier();
    expect(seen(c)).toEqual(['ok 0 t=1']);
    s.resetFaults();
    await c.barrier();
    expect(seen(c)).toEqual(['ok 0 t=1', 'durable-ack t=1']);
  });

  it('other writers (option) make the seqTxns of OKs jump', async () => {
    const s = await start({ otherWriters: [{ table: 't', everyMs: 5, steps: 2 }] });
    const c = await open(s);
    c.send(row(0));
    await c.waitForAck(0);
    const first = s.seqTxn('t');
    const deadline = Date.now() + 3000;
    while (s.seqTxn('t') < first + 4n && Date.now() < deadline) await sleep(5);
    c.send(row(1));
    await c.waitForAck(1);
    const oks = c.responses.flatMap((r) => (r.kind === 'ok' ? r.tables.map((t) => t.seqTxn) : []));
    expect(oks[0]).toBe(1n);
    expect(oks[1]! - oks[0]!).toBeGreaterThanOrEqual(5n);
    expect((oks[1]! - oks[0]! - 1n) % 2n).toBe(0n);
  });

  it('advanceSeqTxn refuses a table that does not exist and a bad step', async () => {
    const s = await start();
    expect(() => s.advanceSeqTxn('nope')).toThrow(/table 'nope' does not exist/);
    const c = await open(s);
    c.send(row(0));
    await c.waitForAck(0);
    expect(() => s.advanceSeqTxn('t', 0)).toThrow(/steps must be >= 1/);
    expect(() => s.advanceSeqTxn('t', 1.5)).toThrow(/steps must be an integer/);
    await expect(startTestServer({ otherWriters: [{ table: 't', everyMs: 0 }] })).rejects.toThrow(
      /otherWriters\[0\].everyMs must be an integer in \[1,/,
    );
    await expect(startTestServer({ demotionGraceMs: -1 })).rejects.toThrow(/demotionGraceMs/);
  });

  it('forgets the frontiers with the rows on a restart that loses data', async () => {
    const s = await start({ durableAck: NOW });
    const c = await open(s);
    c.send(row(0));
    await c.waitForAck(0);
    expect(s.durableWatermark('t')).toBe(1n);
    await s.restart({ keepRows: true });
    expect(s.durableWatermark('t')).toBe(1n);
    await s.restart({ keepRows: false });
    expect(s.durableWatermark('t')).toBe(-1n);
  });
});

describe('the durable-ACK poll frame (flag 0x02, no table)', () => {
  it.each([
    {
      name: 'on a clean connection: an OK naming its own sequence, and the durable progress',
      durable: true,
      frames: [row(0), poll()],
      expected: ['ok 1 t=1', 'durable-ack t=1'],
      rows: 1,
    },
    {
      name: 'inside a deferred group: no OK until the group commits, which covers it',
      durable: true,
      frames: [row(0, 't', 0x01), poll(), row(1)],
      expected: ['ok 2 t=1', 'durable-ack t=1'],
      rows: 2,
    },
    {
      name: 'a poll alone, nothing committed: an OK with no table',
      durable: true,
      frames: [poll(), poll()],
      expected: ['ok 1'],
      rows: 0,
    },
    {
      name: 'without durable ACKs: the pending OK, then PARSE_ERROR; later frames unanswered',
      durable: false,
      frames: [row(0), poll(), row(1)],
      expected: ['ok 0 t=1', `error ${Status.PARSE_ERROR} 1 ${POLL_NOT_NEGOTIATED}`],
      rows: 1,
    },
    {
      name: 'without durable ACKs inside a deferred group: the group is rolled back',
      durable: false,
      frames: [row(0, 't', 0x01), poll(), emptyCommit()],
      expected: [`error ${Status.PARSE_ERROR} 1 ${POLL_NOT_NEGOTIATED}`],
      rows: 0,
    },
  ])('$name', async ({ durable, frames, expected, rows }) => {
    const s = await start({ durableAck: { ...NOW, tiers: ['replicated'] } });
    const c = await open(s, durable ? { 'X-QWP-Request-Durable-Ack': 'true' } : undefined);
    for (const f of frames) c.send(f);
    await c.waitFor(expected.length);
    await c.barrier();
    expect(seen(c)).toEqual(expected);
    expect(s.rows('t')).toHaveLength(rows);
  });

  it('is answered normally on a demoted node (it is not a data frame)', async () => {
    const s = await start({ durableAck: { ...NOW, tiers: ['replicated'] } });
    const c = await open(s, { 'X-QWP-Request-Durable-Ack': 'true' });
    s.demote();
    c.send(poll());
    await c.waitForAck(0);
    await c.barrier();
    expect(c.closeCode).toBeNull();
    expect(s.frames.map((f) => f.outcome)).toEqual(['poll']);
  });
});
