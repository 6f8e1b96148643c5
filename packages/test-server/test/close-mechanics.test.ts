import { createServer, connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CLOSE_DRAIN_MS } from '../src/index.js';
import { ServerWebSocket } from '../src/websocket/server-socket.js';
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
