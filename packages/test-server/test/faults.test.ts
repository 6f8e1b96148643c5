import { once } from 'node:events';
import { decodeResponse, Status } from '@qwp/qwp-wire/codec';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../src/index.js';
import { ackCoverage, connect, rawRequest, upgradeHeaders } from './helpers/client.js';
import { emptyCommit, simpleRows } from './helpers/frames.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start, open } = serverPerTest();

const SEED = Number(process.env.QWP_TEST_SEED ?? 42);

const row = (i: number) => simpleRows('t', [{ v: BigInt(i), ts: BigInt(i) }]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults', () => {
  it('drops each connection at its Nth frame, after commit but before the ACK', async () => {
    const s = await start({ faults: { dropAfterFrames: 3 } });
    const c = await open(s);
    for (let i = 0; i < 5; i++) c.send(row(i));
    const closed = await c.closed();
    expect(closed.code).toBe(1006);
    // Frames before the Nth are acknowledged (cumulatively) before the cut; the Nth never is.
    expect(c.responses.every((r) => r.kind === 'ok')).toBe(true);
    expect(ackCoverage(c.responses).highest).toBe(1n);
    // Frame 3 committed without an ACK: a replay duplicates it unless DEDUP is on.
    expect(s.rows('t').map((r) => r.v)).toEqual([0n, 1n, 2n]);
    expect(s.frames.map((f) => f.outcome)).toEqual(['committed', 'committed', 'dropped']);
  });

  it('can drop before processing, so the frame is not committed', async () => {
    const s = await start();
    s.faults.dropAfterFrames(2, 'before-process');
    const c = await open(s);
    c.send(row(0));
    c.send(row(1));
    await c.closed();
    expect(s.rows('t').map((r) => r.v)).toEqual([0n]);
    s.faults.dropAfterFrames(null);
    const d = await open(s);
    d.send(row(1));
    await d.waitFor(1);
    expect(s.stats().connectionsDropped).toBe(1);
  });

  it('drops at random with a seeded rate, reproducibly', async () => {
    const run = async () => {
      const s = await start({ faults: { dropRate: 0.2, seed: SEED } });
      const outcomes: number[] = [];
      for (let conn = 0; conn < 4; conn++) {
        const c = await open(s);
        for (let i = 0; i < 10; i++) c.send(row(i));
        await c.closed(300);
        outcomes.push(c.responses.length);
        await c.close();
      }
      await s.close();
      return outcomes;
    };
    const first = await run();
    const second = await run();
    expect(first).toEqual(second);
    expect(first.some((n) => n < 10)).toBe(true);
  });

  it('delays ACKs and keeps their order', async () => {
    const s = await start({ faults: { ackDelayMs: 150 } });
    const c = await open(s);
    const t0 = Date.now();
    c.send(row(0));
    // A separate burst, so the cumulative server owes two OKs, both delayed.
    await sleep(30);
    c.send(row(1));
    const rs = await c.waitFor(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(rs.map((r) => r.kind === 'ok' && r.sequence)).toEqual([0n, 1n]);
  });

  it('never ACKs while told so, yet commits', async () => {
    const s = await start();
    s.faults.neverAck();
    const c = await open(s);
    c.send(row(0));
    await s.waitForRows('t', 1);
    await c.barrier();
    expect(c.responses).toHaveLength(0);
    s.faults.neverAck(false);
    c.send(row(1));
    const [r] = await c.waitFor(1);
    expect(r).toMatchObject({ kind: 'ok', sequence: 1n });
  });

  it.each([
    Status.WRITE_ERROR,
    Status.SECURITY_ERROR,
    Status.INTERNAL_ERROR,
    Status.NOT_WRITABLE,
    Status.SCHEMA_MISMATCH,
    Status.PARSE_ERROR,
  ])('answers a chosen frame with status %i, once', async (status) => {
    const s = await start();
    s.faults.rejectFrame(1, status, 'table is busy');
    const c = await open(s);
    c.send(row(0));
    c.send(row(1));
    const rs = await c.waitFor(2);
    expect(rs[1]).toEqual({ kind: 'error', status, sequence: 1n, message: 'table is busy' });
    expect(s.rows('t')).toHaveLength(1);
    await c.close();
    const d = await open(s);
    d.send(row(1));
    expect((await d.waitFor(1))[0]).toMatchObject({ kind: 'ok' });
  });

  it('refuses connections for a while: reset, or an HTTP status', async () => {
    const s = await start();
    s.faults.refuseConnections(150);
    await expect(open(s)).rejects.toThrow();
    s.faults.refuseConnections(150, 503);
    await expect(open(s)).rejects.toMatchObject({ status: 503 });
    await sleep(170);
    const c = await open(s);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it.each([401, 403, 404, 421, 426, 503])(
    'answers the upgrade with %i when told so',
    async (status) => {
      const s = await start({ role: 'REPLICA' });
      s.setRole(null);
      s.faults.rejectUpgrades(status, 1);
      const r = await rawRequest(s.port, '/write/v4', upgradeHeaders());
      expect(r.status).toBe(status);
      if (status === 421) expect(r.headers['x-questdb-role']).toBe('REPLICA');
      const c = await open(s);
      expect(c.ws.readyState).toBe(c.ws.OPEN);
    },
  );

  it('advertises a small X-QWP-Max-Batch-Size and enforces it', async () => {
    const s = await start({ maxBatchSize: 100 });
    const c = await open(s);
    expect(c.upgradeHeaders['x-qwp-max-batch-size']).toBe('100');
    c.send(Buffer.concat([emptyCommit(), Buffer.alloc(100)]));
    expect((await c.closed()).code).toBe(1009);
  });

  it('sends malformed and future ACKs when told so', async () => {
    const s = await start();
    s.faults.corruptAcks('malformed');
    const c = await open(s);
    c.send(row(0));
    const [raw] = await c.waitForRaw(1);
    expect(raw).toHaveLength(5);
    expect(() => decodeResponse(raw!)).toThrow();
    s.faults.corruptAcks('future', 1);
    // One frame per OK: wait for each before sending the next.
    c.send(row(1));
    await c.waitFor(1);
    c.send(row(2));
    const [future, normal] = await c.waitFor(2);
    expect(future).toMatchObject({ kind: 'ok', sequence: 1001n });
    expect(normal).toMatchObject({ kind: 'ok', sequence: 2n });
  });

  it('sends cumulative DURABLE_ACK frames that trail the OKs, on the receive after the upload', async () => {
    const s = await start({ durableAck: { lagMs: 30, jitterMs: 0, tiers: ['replicated'] } });
    const c = await open(s, { 'X-QWP-Request-Durable-Ack': 'true' });
    // One frame per OK (each waits for the last), so three OKs are owed.
    c.send(row(0));
    await c.waitForAck(0);
    c.send(simpleRows('u', [{ v: 1n, ts: 1n }]));
    await c.waitForAck(1);
    c.send(row(2));
    await c.waitForAck(2);
    expect(ackCoverage(c.responses).sequences).toEqual([0n, 1n, 2n]);
    // Uploaded 30 ms after each OK, but QuestDB only flushes durable ACKs on
    // inbound traffic: none arrives while the client is silent.
    await sleep(80);
    expect(c.responses.filter((r) => r.kind === 'durable-ack')).toEqual([]);
    c.ws.ping();
    const rs = await c.waitFor(4, 2000);
    // One DURABLE_ACK, after every OK, with the latest watermark per table.
    expect(rs[3]).toEqual({
      kind: 'durable-ack',
      status: 0x02,
      tables: [
        { name: 't', seqTxn: 2n },
        { name: 'u', seqTxn: 1n },
      ],
    });
    // Each watermark is reported once: another PING brings nothing new. The
    // server flushes before it answers a PING, so by the PONG anything it
    // would send for this PING has arrived (no sleep to guess at).
    const pong = once(c.ws, 'pong', { signal: AbortSignal.timeout(3000) });
    c.ws.ping();
    await pong;
    expect(c.responses).toHaveLength(4);
  });

  it('with no upload delay sends the DURABLE_ACK right after its OK, in the same flush', async () => {
    const s = await start({ durableAck: { lagMs: 0, jitterMs: 0 } });
    const c = await open(s, { 'X-QWP-Request-Durable-Ack': 'true' });
    c.send(row(0));
    const rs = await c.waitFor(2);
    expect(rs.map((r) => r.kind)).toEqual(['ok', 'durable-ack']);
    expect(rs[1]).toMatchObject({ tables: [{ name: 't', seqTxn: 1n }] });
    expect(s.stats().durableAcks).toBe(1);
  });

  it('stops and starts on the same port on demand, and exposes the fault switches on the server', async () => {
    const s = await start();
    const port = s.port;
    const c = await open(s);
    c.send(row(0));
    await c.waitFor(1);
    await s.stop();
    // stop() returns once the cut connection is closed, counted and logged.
    expect(s.stats().connectionsOpen).toBe(0);
    expect(s.connections[0]?.closedAt).not.toBeNull();
    await expect(connect(s.url)).rejects.toThrow();
    await s.start();
    expect(s.port).toBe(port);
    s.neverAck();
    const d = await open(s);
    d.send(row(1));
    await s.waitForRows('t', 2);
    expect(d.responses).toHaveLength(0);
    s.resetFaults();
    d.send(row(2));
    expect((await d.waitFor(1))[0]).toMatchObject({ sequence: 1n });
  });

  it('resets every fault', async () => {
    const s = await start({ faults: { neverAck: true, ackDelayMs: 500 } });
    s.faults.rejectUpgrades(503);
    s.faults.reset();
    const c = await open(s);
    c.send(row(0));
    expect((await c.waitFor(1, 400))[0]).toMatchObject({ kind: 'ok' });
  });

  it('rejects bad fault settings with a clear error', async () => {
    await expect(startTestServer({ faults: { dropRate: 2 } })).rejects.toThrow(
      /dropRate must be in \[0, 1\]/,
    );
    const s = await start();
    expect(() => s.faults.rejectUpgrades(302)).toThrow(/rejectUpgrades status must be one of/);
    expect(() => s.faults.dropAfterFrames(0)).toThrow(/integer >= 1, got 0/);
  });

  it('names a waitForRows timeout and a lifecycle call after close() with their own codes', async () => {
    const s = await start();
    await expect(s.waitForRows('absent', 1, 20)).rejects.toMatchObject({
      name: 'TestServerTimeoutError',
      code: 'ERR_QWP_TEST_SERVER_TIMEOUT',
      message: expect.stringMatching(/table 'absent' has 0 rows, not 1, after 20 ms/),
    });
    await s.close();
    for (const call of [() => s.stop(), () => s.start(), () => s.restart()]) {
      await expect(call()).rejects.toMatchObject({
        name: 'TestServerClosedError',
        code: 'ERR_QWP_TEST_SERVER_CLOSED',
      });
    }
  });
});
