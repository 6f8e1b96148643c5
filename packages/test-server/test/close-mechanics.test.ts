import { createServer, connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CLOSE_DRAIN_MS } from '../src/index.js';
import { ServerWebSocket } from '../src/websocket/server-socket.js';
import { upgradeHeaders } from './helpers/client.js';
import { simpleRows } from './helpers/frames.js';
import { clientFrame, closePayload, RawClient, serverFrame } from './helpers/raw-ws.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start } = serverPerTest();

// After its own CLOSE, QuestDB half-closes at once (FIN behind the CLOSE),
// discards whatever the client still sends without parsing it (its CLOSE
// echo included), and closes the connection on the client's FIN or, at the
// latest, CLOSE_DRAIN_TIMEOUT_MICROS (5 s) later (gracefulCloseAndDrain).

const TEXT_CLOSE = serverFrame(
  0x8,
  closePayload(1003, 'text frames are not supported, QWP requires binary frames'),
);
const row = (i: number) => simpleRows('t', [{ v: BigInt(i), ts: BigInt(i) }]);

const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

async function session(port: number): Promise<RawClient> {
  const c = await RawClient.open(port);
  clients.push(c);
  return c;
}

describe('after the server CLOSE', () => {
  it('half-closes at once, discards input unanswered, and cuts the connection after closeDrainMs', async () => {
    const drainMs = 300;
    const s = await start({ closeDrainMs: drainMs });
    const c = await session(s.port);
    c.send(clientFrame(0x1, Buffer.from('hi')));
    expect(await c.waitEnd(), "the server's FIN").toBe(true);
    expect(c.bytes).toEqual(TEXT_CLOSE);
    // Still open: the client keeps sending data frames and PINGs.
    const feed = setInterval(() => {
      if (!c.sock.destroyed) {
        c.send(Buffer.concat([clientFrame(0x2, row(1)), clientFrame(0x9, Buffer.from('p'))]));
      }
    }, 20);
    try {
      await expect.poll(() => s.connections[0]?.closedAt ?? null, { timeout: 3000 }).not.toBeNull();
    } finally {
      clearInterval(feed);
    }
    const drained = s.connections[0]!.closedAt! - c.endedAt!;
    expect(drained).toBeGreaterThanOrEqual(drainMs - 50);
    expect(drained).toBeLessThan(drainMs + 700);
    // Nothing answered after the CLOSE: no OK, no PONG, no frame counted.
    expect(c.bytes).toEqual(TEXT_CLOSE);
    expect(s.stats().frames).toBe(0);
    expect(s.connections[0]!.closeCode).toBe(1003);
  });

  it("ends the drain at the client's FIN, long before the grace", async () => {
    const s = await start({ closeDrainMs: 5000 });
    const c = await session(s.port);
    c.send(clientFrame(0x1, Buffer.from('hi')));
    expect(await c.waitEnd()).toBe(true);
    const finAt = Date.now();
    c.send(clientFrame(0x8, closePayload(1003)));
    c.sock.end();
    await expect.poll(() => s.connections[0]?.closedAt ?? null).not.toBeNull();
    expect(s.connections[0]!.closedAt! - finAt).toBeLessThan(1000);
  });

  it('does not end the drain at the CLOSE echo alone: it is discarded unparsed', async () => {
    const drainMs = 400;
    const s = await start({ closeDrainMs: drainMs });
    const c = await session(s.port);
    c.send(clientFrame(0x1, Buffer.from('hi')));
    expect(await c.waitEnd()).toBe(true);
    c.send(clientFrame(0x8, closePayload(1003)));
    await expect.poll(() => s.connections[0]?.closedAt ?? null, { timeout: 3000 }).not.toBeNull();
    expect(s.connections[0]!.closedAt! - c.endedAt!).toBeGreaterThanOrEqual(drainMs - 50);
    expect(c.bytes).toEqual(TEXT_CLOSE);
  });
});

describe("after a demoted node's role-change CLOSE", () => {
  const DURABLE_HEADERS = { ...upgradeHeaders(), 'X-QWP-Request-Durable-Ack': 'true' };
  const durable = { lagMs: 0, jitterMs: 0, tiers: ['replicated' as const] };

  it('a durable-ACK connection with every commit durable waits for the echo, discarding frames before it', async () => {
    const s = await start({ durableAck: durable, closeDrainMs: 5000 });
    const c = await RawClient.open(s.port, DURABLE_HEADERS);
    clients.push(c);
    c.send(clientFrame(0x2, row(0)));
    // OK then DURABLE_ACK: everything this connection committed is durable.
    await expect.poll(() => c.frames().length).toBe(2);
    s.demote();
    c.send(clientFrame(0x2, row(1)));
    expect(await c.waitEnd(), "the server's FIN behind its CLOSE").toBe(true);
    expect(c.frames().map((f) => f.opcode)).toEqual([0x2, 0x2, 0x8]);
    // Frames before the echo are parsed and discarded; the echo ends the connection.
    c.send(Buffer.concat([clientFrame(0x2, row(2)), clientFrame(0x9, Buffer.from('p'))]));
    const echoAt = Date.now();
    c.send(clientFrame(0x8, closePayload(1000)));
    await expect.poll(() => s.connections[0]?.closedAt ?? null).not.toBeNull();
    expect(s.connections[0]!.closedAt! - echoAt).toBeLessThan(1000);
    expect(c.frames().map((f) => f.opcode)).toEqual([0x2, 0x2, 0x8]);
  });

  it('a durable-ACK connection whose hold expired with uploads pending is torn down at once', async () => {
    const s = await start({ durableAck: durable, demotionGraceMs: 0, closeDrainMs: 5000 });
    const c = await RawClient.open(s.port, DURABLE_HEADERS);
    clients.push(c);
    s.faults.stallUploads();
    c.send(clientFrame(0x2, row(0)));
    await expect.poll(() => c.frames().length).toBe(1);
    s.demote();
    const demotedAt = Date.now();
    // The first frame starts the (zero) hold; the next one finds it expired.
    c.send(clientFrame(0x2, row(1)));
    c.send(clientFrame(0x2, row(2)));
    // No echo and no FIN from the client, yet the connection ends.
    await expect.poll(() => s.connections[0]?.closedAt ?? null).not.toBeNull();
    expect(s.connections[0]!.closedAt! - demotedAt).toBeLessThan(1000);
    expect(c.frames().map((f) => f.opcode)).toEqual([0x2, 0x8]);
  });

  it('a connection without durable ACKs drains: the echo alone does not end it', async () => {
    const drainMs = 400;
    const s = await start({ closeDrainMs: drainMs });
    const c = await session(s.port);
    c.send(clientFrame(0x2, row(0)));
    await expect.poll(() => c.frames().length).toBe(1);
    s.demote();
    c.send(clientFrame(0x2, row(1)));
    expect(await c.waitEnd()).toBe(true);
    c.send(clientFrame(0x8, closePayload(1000)));
    await expect.poll(() => s.connections[0]?.closedAt ?? null, { timeout: 3000 }).not.toBeNull();
    expect(s.connections[0]!.closedAt! - c.endedAt!).toBeGreaterThanOrEqual(drainMs - 50);
  });
});

/** Both ends of a loopback TCP connection. */
async function socketPair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const listener = createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = netConnect({ port: address.port, host: '127.0.0.1', allowHalfOpen: true });
  client.on('error', () => {});
  const server = await accepted;
  return {
    server,
    client,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

describe('the default drain', () => {
  it("is QuestDB's 5 s, and a silent client is cut exactly then", async () => {
    expect(DEFAULT_CLOSE_DRAIN_MS).toBe(5000);
    const pair = await socketPair();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const ws = new ServerWebSocket(pair.server, Buffer.alloc(0), { maxFrameBytes: 1000 });
      ws.close(1000, 'bye');
      vi.advanceTimersByTime(DEFAULT_CLOSE_DRAIN_MS - 1);
      expect(pair.server.destroyed).toBe(false);
      vi.advanceTimersByTime(1);
      expect(pair.server.destroyed).toBe(true);
    } finally {
      vi.useRealTimers();
      pair.close();
    }
  });
});
