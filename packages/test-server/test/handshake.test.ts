import { describe, expect, it } from 'vitest';
import { rawExchange, rawRequest, upgradeHeaders } from './helpers/client.js';
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
