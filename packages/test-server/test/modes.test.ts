import { describe, expect, it } from 'vitest';
import { ackCoverage, rawExchange, requestText, upgradeHeaders } from './helpers/client.js';
import { message, simpleRows, symbols, T } from './helpers/frames.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start, open } = serverPerTest();

const row = (i: number) => simpleRows('t', [{ v: BigInt(i), ts: BigInt(i) }]);

describe('cumulative ACK mode', () => {
  it('acknowledges a burst with fewer OKs whose last sequence covers every frame', async () => {
    const s = await start({ ackMode: 'cumulative' });
    const c = await open(s);
    const burst = 20;
    // One TCP write, so the server sees the frames together like a pipelined client.
    for (let i = 0; i < burst; i++) c.ws.send(row(i), { fin: true });
    await s.waitForRows('t', burst);
    await c.barrier();
    const oks = c.responses.filter((r) => r.kind === 'ok');
    expect(oks.length).toBeGreaterThan(0);
    expect(oks.length).toBeLessThan(burst);
    expect(oks.at(-1)).toMatchObject({ sequence: BigInt(burst - 1) });
    const seqs = oks.map((o) => (o.kind === 'ok' ? o.sequence : -1n));
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
  });

  it('sends the pending cumulative OK before answering the client CLOSE', async () => {
    const s = await start({ ackMode: 'cumulative' });
    const c = await open(s);
    for (let i = 0; i < 3; i++) c.ws.send(row(i));
    c.ws.close(1000);
    const closed = await c.closed();
    expect(closed.code).toBe(1000);
    expect(c.responses.at(-1)).toMatchObject({ kind: 'ok', sequence: 2n });
    expect(s.rows('t')).toHaveLength(3);
  });
});

describe('throughput mode', () => {
  it('checks every header, decodes a sample, stores no rows and still answers every frame in order', async () => {
    const s = await start({ mode: 'throughput', sampleRate: 0.25 });
    const c = await open(s);
    // Symbols registered in unsampled frames must still resolve in sampled ones.
    for (let i = 0; i < 8; i++) {
      c.send(
        message({
          delta: { start: i, entries: [`s${i}`] },
          tables: [
            {
              name: 'q',
              rowCount: 1,
              columns: [{ name: 'k', type: T.SYMBOL, data: symbols([i]) }],
            },
          ],
        }),
      );
    }
    const rs = await c.waitForAck(7);
    expect(rs.every((r) => r.kind === 'ok')).toBe(true);
    expect(ackCoverage(rs).highest).toBe(7n);
    const st = s.stats();
    expect(st.mode).toBe('throughput');
    expect(st.sampleRate).toBe(0.25);
    expect(st.frames).toBe(8);
    expect(st.framesDecoded).toBe(2);
    expect(s.rows('q')).toEqual([]);
    c.send(Buffer.from('QWP1 but not really'));
    const after = await c.waitFor(rs.length + 1);
    expect(after.at(-1)).toMatchObject({ kind: 'error', status: 5, sequence: 8n });
  });

  it('keeps at most frameLogLimit frame records, newest last', async () => {
    const s = await start({ frameLogLimit: 5 });
    const c = await open(s);
    for (let i = 0; i < 12; i++) c.send(row(i));
    await c.waitForAck(11);
    expect(s.frames.length).toBeLessThanOrEqual(5);
    expect(s.frames.at(-1)).toMatchObject({
      index: 11,
      wireSeq: 11,
      outcome: 'committed',
      tables: ['t'],
      rows: 1,
    });
  });

  it('reports strict mode by default', async () => {
    const s = await start();
    expect(s.stats()).toMatchObject({ mode: 'strict', sampleRate: 1 });
  });
});

describe('bad input never stops the server', () => {
  it('survives garbage HTTP, an abandoned upgrade and a non-masked frame, then serves a client', async () => {
    const s = await start();
    expect(await rawExchange(s.port, 'this is not http\r\n\r\n', 1000)).toMatch(/^HTTP\/1\.1 400/);
    await rawExchange(
      s.port,
      'GET /write/v4 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConn',
      100,
    );
    // A valid upgrade followed by an unmasked binary frame (a protocol error).
    const reply = await rawExchange(
      s.port,
      Buffer.concat([
        Buffer.from(requestText('/write/v4', upgradeHeaders())),
        Buffer.from([0x82, 0x02, 0x00, 0x00]),
      ]),
      1000,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 101/);
    expect(reply).toContain('X-QWP-Version: 1');
    const c = await open(s);
    c.send(row(1));
    expect((await c.waitFor(1))[0]).toMatchObject({ kind: 'ok', sequence: 0n });
  });
});
