import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DURABLE_ACK_SUBPROTOCOL, type TestServerOptions } from '../src/index.js';
import { rawExchange, rawRequest, requestText, upgradeHeaders, WS_KEY } from './helpers/client.js';
import { RawClient } from './helpers/raw-ws.js';
import { serverPerTest } from './helpers/server-per-test.js';

const { start, open } = serverPerTest();

describe('handshake', () => {
  it('accepts both ingest paths and answers with X-QWP-Version and X-QWP-Max-Batch-Size', async () => {
    const s = await start({ maxBatchSize: 4096 });
    for (const path of ['/write/v4', '/api/v4/write']) {
      const c = await open(`ws://127.0.0.1:${s.port}${path}`);
      expect(c.upgradeHeaders['x-qwp-version']).toBe('1');
      expect(c.upgradeHeaders['x-qwp-max-batch-size']).toBe('4096');
    }
    expect(s.connections.map((c) => c.clientId)).toEqual(['test/0', 'test/0']);
    expect(s.url).toBe(`ws://127.0.0.1:${s.port}/write/v4`);
  });

  it('negotiates min(client max, server max), defaulting an absent header to 1', async () => {
    const s = await start({ serverMaxVersion: 3 });
    const cases: [Record<string, string>, string][] = [
      [{ 'X-QWP-Max-Version': '2' }, '2'],
      [{ 'X-QWP-Max-Version': '7' }, '3'],
      [{}, '1'],
      [{ 'X-QWP-Max-Version': 'banana' }, '1'],
    ];
    for (const [headers, expected] of cases) {
      const c = await open(s.url, headers);
      expect(c.upgradeHeaders['x-qwp-version']).toBe(expected);
    }
    expect(s.connections.map((c) => c.version)).toEqual([2, 3, 1, 1]);
  });

  it('answers an unknown path with 404', async () => {
    const s = await start();
    const r = await rawRequest(s.port, '/write/v3', upgradeHeaders());
    expect(r.status).toBe(404);
  });

  it('answers missing or bad WebSocket headers with 400 and the reason, a bad version with 426', async () => {
    const s = await start();
    const h = upgradeHeaders();
    const cases: [Record<string, string>, number, string][] = [
      [
        { ...h, 'Sec-WebSocket-Key': 'short' },
        400,
        'Invalid Sec-WebSocket-Key (must be 24-character base64 key)',
      ],
      [{ ...h, Upgrade: 'h2c' }, 400, 'Invalid Upgrade header value'],
      [{ ...h, Origin: 'http://example.com' }, 400, 'Origin header not allowed on QWP WebSocket'],
      [{ ...h, 'Sec-WebSocket-Version': '8' }, 426, ''],
      [{}, 400, 'Missing Upgrade header'],
    ];
    for (const [headers, status, body] of cases) {
      const r = await rawRequest(s.port, '/write/v4', headers);
      expect(r.status, JSON.stringify(headers)).toBe(status);
      expect(r.body).toBe(body);
      if (status === 426) expect(r.headers['sec-websocket-version']).toBe('13');
    }
    const noKey: Record<string, string> = { ...h };
    delete noKey['Sec-WebSocket-Key'];
    expect((await rawRequest(s.port, '/write/v4', noKey)).body).toBe(
      'Missing Sec-WebSocket-Key header',
    );
    // node's HTTP client hangs up on its own request here, so send this one raw
    const raw = await rawExchange(
      s.port,
      'GET /write/v4 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n\r\n',
    );
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(raw).toContain("\r\n\r\nConnection header must contain 'upgrade'");
    expect(s.stats().upgradesRejected).toBe(7);
    expect(s.connections).toHaveLength(0);
  });

  it('with several bad headers answers the first QuestDB checks: Origin, Upgrade, Connection, key, version', async () => {
    const s = await start();
    const h = upgradeHeaders();
    const cases: [Record<string, string>, number, string][] = [
      [{ ...h, Upgrade: 'h2c', Origin: 'http://example.com' }, 400, 'Origin header not allowed'],
      [{ ...h, Upgrade: 'h2c', Connection: 'keep-alive' }, 400, 'Invalid Upgrade header value'],
      [{ ...h, Connection: 'keep-alive', 'Sec-WebSocket-Key': 'x' }, 400, 'Connection header'],
      // The key is checked before the version, so a bad key is a 400, not a 426.
      [
        { ...h, 'Sec-WebSocket-Key': 'x', 'Sec-WebSocket-Version': '8' },
        400,
        'Invalid Sec-WebSocket-Key',
      ],
    ];
    for (const [headers, status, body] of cases) {
      const r = await rawRequest(s.port, '/write/v4', headers);
      expect(r.status, JSON.stringify(headers)).toBe(status);
      expect(r.body, JSON.stringify(headers)).toMatch(new RegExp(`^${body}`));
    }
  });

  it('checks HTTP basic credentials: 401 when wrong or missing, 403 when refused', async () => {
    const s = await start({ auth: { basic: { user: 'admin', pass: 'quest' } } });
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    await expect(open(s.url, { Authorization: basic('admin', 'wrong') })).rejects.toMatchObject({
      status: 401,
    });
    await expect(open(s.url, {})).rejects.toMatchObject({ status: 401 });
    await expect(open(s.url, { Authorization: 'Bearer x' })).rejects.toMatchObject({ status: 401 });
    const ok = await open(s.url, { Authorization: basic('admin', 'quest') });
    expect(ok.upgradeHeaders['x-qwp-version']).toBe('1');
    await s.close();
    const f = await start({ auth: { basic: { user: 'admin', pass: 'quest' }, forbid: true } });
    await expect(open(f.url, { Authorization: basic('admin', 'quest') })).rejects.toMatchObject({
      status: 403,
    });
  });

  it('checks a bearer token', async () => {
    const s = await start({ auth: { token: 's3cret' } });
    await expect(open(s.url, { Authorization: 'Bearer nope' })).rejects.toMatchObject({
      status: 401,
    });
    const ok = await open(s.url, { Authorization: 'Bearer s3cret' });
    expect(ok.ws.readyState).toBe(ok.ws.OPEN);
  });

  it('refuses ingest with 421 and X-QuestDB-Role / X-QuestDB-Zone on a replica or a catching-up primary', async () => {
    const s = await start({ role: 'REPLICA', zone: 'eu-west-1a' });
    await expect(open(s.url)).rejects.toMatchObject({
      status: 421,
      headers: { 'x-questdb-role': 'REPLICA', 'x-questdb-zone': 'eu-west-1a' },
    });
    s.setRole('PRIMARY_CATCHUP');
    await expect(open(s.url)).rejects.toMatchObject({
      status: 421,
      headers: { 'x-questdb-role': 'PRIMARY_CATCHUP' },
    });
    s.setRole('PRIMARY');
    const c = await open(s.url);
    expect(c.upgradeHeaders['x-questdb-role']).toBe('PRIMARY');
  });

  it('echoes X-QWP-Durable-Ack: enabled only when requested and supported', async () => {
    const s = await start({ durableAck: true });
    const yes = await open(s.url, { 'X-QWP-Request-Durable-Ack': 'TRUE' });
    expect(yes.upgradeHeaders['x-qwp-durable-ack']).toBe('enabled');
    const no = await open(s.url, {});
    expect(no.upgradeHeaders['x-qwp-durable-ack']).toBeUndefined();
    await s.close();
    const plain = await start();
    const ignored = await open(plain.url, { 'X-QWP-Request-Durable-Ack': 'true' });
    expect(ignored.upgradeHeaders['x-qwp-durable-ack']).toBeUndefined();
  });
});

/** Sec-WebSocket-Accept computed here, independently of the server. */
function expectedAccept(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** Sends one raw request and splits the answer into status, header lines and body. */
async function exchange(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const text = await rawExchange(port, requestText(path, headers, 'x', method) + body);
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const out: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    out[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers: out, body: text.slice(split + 4) };
}

const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

async function upgrade101(port: number, headers: Record<string, string>): Promise<string[]> {
  const c = await RawClient.open(port, headers);
  clients.push(c);
  return c.head.split('\r\n');
}

describe("the 101 is QuestDB's, header for header", () => {
  const DA = DURABLE_ACK_SUBPROTOCOL;
  const head = (key = WS_KEY) => [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${expectedAccept(key)}`,
    'X-QWP-Version: 1',
  ];
  const cases: [string, TestServerOptions, Record<string, string>, string[], boolean][] = [
    [
      'a plain upgrade',
      {},
      {},
      [...head(), 'X-QuestDB-Role: STANDALONE', 'X-QWP-Max-Batch-Size: 4096'],
      false,
    ],
    [
      'a zone never named on a 101',
      { role: 'PRIMARY', zone: 'eu-1a' },
      {},
      [...head(), 'X-QuestDB-Role: PRIMARY', 'X-QWP-Max-Batch-Size: 4096'],
      false,
    ],
    [
      'durable ACK asked by header',
      { durableAck: true },
      { 'X-QWP-Request-Durable-Ack': 'true' },
      [
        ...head(),
        'X-QWP-Durable-Ack: enabled',
        'X-QuestDB-Role: STANDALONE',
        'X-QWP-Max-Batch-Size: 4096',
      ],
      true,
    ],
    [
      'durable ACK asked by subprotocol, among others',
      { durableAck: true },
      { 'Sec-WebSocket-Protocol': `chat, \t${DA}` },
      [
        ...head(),
        'X-QWP-Durable-Ack: enabled',
        'X-QuestDB-Role: STANDALONE',
        'X-QWP-Max-Batch-Size: 4096',
        `Sec-WebSocket-Protocol: ${DA}`,
      ],
      true,
    ],
    [
      'the subprotocol on a server without durable ACK',
      {},
      { 'Sec-WebSocket-Protocol': DA },
      [...head(), 'X-QuestDB-Role: STANDALONE', 'X-QWP-Max-Batch-Size: 4096'],
      false,
    ],
    [
      'other subprotocols only (none is echoed)',
      { durableAck: true },
      { 'Sec-WebSocket-Protocol': `chat, ${DA.toUpperCase()}, ${DA}0` },
      [...head(), 'X-QuestDB-Role: STANDALONE', 'X-QWP-Max-Batch-Size: 4096'],
      false,
    ],
  ];

  it.each(cases)('%s', async (_name, options, extra, expected, durable) => {
    const s = await start({ maxBatchSize: 4096, ...options });
    expect(await upgrade101(s.port, upgradeHeaders(extra))).toEqual(expected);
    await expect.poll(() => s.connections[0]?.durableAck).toBe(durable);
  });
});

describe('header forms QuestDB accepts (some of which ws refused)', () => {
  const cases: [string, Record<string, string>][] = [
    ['a key without padding', { 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAAAAAA' }],
    ['a key of 24 "="', { 'Sec-WebSocket-Key': '========================' }],
    ['a key with + and /', { 'Sec-WebSocket-Key': 'abcd+/0123456789ABCDEF==' }],
    ['Upgrade in mixed case', { Upgrade: 'WebSocket' }],
    ['Upgrade among Connection tokens', { Connection: 'keep-alive, Upgrade' }],
    ['Upgrade first, no blank after the comma', { Connection: 'Upgrade,keep-alive' }],
    ['a version with a leading zero (parsed as an integer)', { 'Sec-WebSocket-Version': '013' }],
    ['a malformed subprotocol list', { 'Sec-WebSocket-Protocol': 'a,,b' }],
    ['a malformed extension offer', { 'Sec-WebSocket-Extensions': 'permessage-deflate; x="' }],
  ];

  it.each(cases)('%s', async (_name, extra) => {
    const s = await start();
    const lines = await upgrade101(s.port, upgradeHeaders(extra));
    const key = extra['Sec-WebSocket-Key'] ?? WS_KEY;
    expect(lines[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(lines).toContain(`Sec-WebSocket-Accept: ${expectedAccept(key)}`);
    expect(lines.some((l) => /^Sec-WebSocket-(Protocol|Extensions):/i.test(l))).toBe(false);
  });
});

describe('refusals: status, headers and body', () => {
  const plain = { 'content-type': 'text/plain' };
  const cases: [string, string, string, Record<string, string>, string, number, string][] = [
    [
      'a tab before upgrade in Connection',
      'GET',
      '/write/v4',
      upgradeHeaders({ Connection: 'keep-alive,\tUpgrade' }),
      '',
      400,
      "Connection header must contain 'upgrade'",
    ],
    [
      'upgrade inside another Connection token',
      'GET',
      '/write/v4',
      upgradeHeaders({ Connection: 'upgrades' }),
      '',
      400,
      "Connection header must contain 'upgrade'",
    ],
    [
      'a base64url key',
      'GET',
      '/write/v4',
      upgradeHeaders({ 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ-_' }),
      '',
      400,
      'Invalid Sec-WebSocket-Key (must be 24-character base64 key)',
    ],
    [
      'a GET with content',
      'GET',
      '/write/v4',
      upgradeHeaders({ 'Content-Length': '3' }),
      'abc',
      400,
      'GET request method cannot have content\r\n',
    ],
    [
      'a POST with a length',
      'POST',
      '/write/v4',
      upgradeHeaders({ 'Content-Length': '0' }),
      '',
      405,
      'Method POST not supported\r\n',
    ],
    [
      'a POST without a length',
      'POST',
      '/write/v4',
      upgradeHeaders(),
      '',
      400,
      'Content-length not specified for POST/PUT request\r\n',
    ],
    [
      'a PUT without a length, no upgrade',
      'PUT',
      '/api/v4/write',
      {},
      '',
      400,
      'Content-length not specified for POST/PUT request\r\n',
    ],
    [
      'a DELETE',
      'DELETE',
      '/write/v4',
      upgradeHeaders(),
      '',
      405,
      'Method DELETE not supported\r\n',
    ],
    [
      'a POST without a length to an unknown path (content first)',
      'POST',
      '/nope',
      {},
      '',
      400,
      'Content-length not specified for POST/PUT request\r\n',
    ],
    [
      'a POST with a length to an unknown path',
      'POST',
      '/nope',
      { 'Content-Length': '0' },
      '',
      404,
      'Not Found: /nope',
    ],
  ];

  it.each(cases)('%s', async (_name, method, path, headers, body, status, text) => {
    const s = await start();
    const r = await exchange(s.port, method, path, headers, body);
    expect(r.status).toBe(status);
    expect(r.headers).toMatchObject({
      ...plain,
      'content-length': String(Buffer.byteLength(text)),
    });
    expect(r.body).toBe(text);
    expect(s.connections).toHaveLength(0);
  });
});

describe("the ingest processor's refusals, byte for byte", () => {
  const bad = (reason: string) =>
    `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`;
  const cases: [string, TestServerOptions, Record<string, string>, string][] = [
    ['a plain GET, no upgrade', {}, {}, bad('Missing Upgrade header')],
    [
      'an upgrade with a bad key',
      {},
      upgradeHeaders({ 'Sec-WebSocket-Key': 'x' }),
      bad('Invalid Sec-WebSocket-Key (must be 24-character base64 key)'),
    ],
    [
      'an upgrade with an Origin',
      {},
      upgradeHeaders({ Origin: 'http://example.com' }),
      bad('Origin header not allowed on QWP WebSocket'),
    ],
    [
      'version 8',
      {},
      upgradeHeaders({ 'Sec-WebSocket-Version': '8' }),
      'HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n',
    ],
    [
      'a replica',
      { role: 'REPLICA' },
      upgradeHeaders(),
      'HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Length: 0\r\nX-QuestDB-Role: REPLICA\r\n\r\n',
    ],
  ];

  it.each(cases)('%s', async (_name, options, headers, expected) => {
    const s = await start(options);
    expect(await rawExchange(s.port, requestText('/write/v4', headers))).toBe(expected);
  });
});
