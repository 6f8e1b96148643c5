import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { AuthError, ConnectError, Sender } from '../src/index.js';
import { packageVersion } from '../src/settings.js';
import { confFor, onCleanup, sender, server, writeTrades } from './helpers.js';

const TLS_DIR = new URL('./fixtures/tls/', import.meta.url);
const CA = new URL('ca.pem', TLS_DIR).pathname;

/** A TLS terminator in front of the test server (which speaks plain WebSocket only). */
async function tlsProxy(targetPort: number): Promise<number> {
  const sockets = new Set<Socket>();
  const proxy: Server = createServer(
    {
      key: readFileSync(new URL('server.key', TLS_DIR)),
      cert: readFileSync(new URL('server.pem', TLS_DIR)),
    },
    (client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    },
  );
  proxy.on('tlsClientError', () => {}); // a client refusing our certificate is what one test wants
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  onCleanup(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => r());
      }),
  );
  return (proxy.address() as { port: number }).port;
}

describe('the upgrade', () => {
  it('announces itself: X-QWP-Client-Id nodejs/<version>, X-QWP-Max-Version 1', async () => {
    const s = await server();
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 1);
    await snd.drain(5000);
    expect(s.connections[0]!.clientId).toBe(`nodejs/${packageVersion()}`);
    expect(s.connections[0]!.version).toBe(1);
  });

  it('basic auth and bearer tokens; a refusal is AuthError, tried once', async () => {
    const basic = await server({ auth: { basic: { user: 'ingest', pass: 'p;w' } } });
    const ok = await sender(confFor(basic, 'username=ingest;password=p;;w;auto_flush=off;'));
    writeTrades(ok, 0, 2);
    await ok.drain(5000);
    expect(basic.rows('trades')).toHaveLength(2);
    const refused = await Sender.fromConfig(
      confFor(basic, 'username=ingest;password=wrong;initial_connect_retry=on;'),
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).httpStatus).toBe(401);

    const bearer = await server({ auth: { token: 'sekret' } });
    const withToken = await sender(confFor(bearer, 'token=sekret;auto_flush=off;'));
    writeTrades(withToken, 0, 1);
    await withToken.drain(5000);
    expect(bearer.rows('trades')).toHaveLength(1);
    const before = bearer.stats().upgradesRejected;
    await expect(Sender.fromConfig(confFor(bearer, 'token=nope;'))).rejects.toBeInstanceOf(
      AuthError,
    );
    expect(bearer.stats().upgradesRejected).toBe(before + 1);
  });
});

describe('wss:: through Node tls', () => {
  it('trusts tls_roots, refuses an unknown CA, and tls_verify=unsafe_off skips the check', async () => {
    const s = await server();
    const port = await tlsProxy(s.port);
    const trusted = await sender(`wss::addr=localhost:${port};tls_roots=${CA};auto_flush=off;`);
    writeTrades(trusted, 0, 3);
    await trusted.drain(5000);
    expect(s.rows('trades')).toHaveLength(3);

    const untrusted = await Sender.fromConfig(`wss::addr=localhost:${port};`).catch(
      (e: unknown) => e,
    );
    expect(untrusted).toBeInstanceOf(ConnectError);
    expect((untrusted as Error).message).toMatch(/certificate/i);

    const unchecked = await sender(
      `wss::addr=127.0.0.1:${port};tls_verify=unsafe_off;auto_flush=off;`,
    );
    writeTrades(unchecked, 3, 1);
    await unchecked.drain(5000);
    expect(s.rows('trades')).toHaveLength(4);
  });
});
