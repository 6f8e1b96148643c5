import { expect, it } from 'vitest';
import { server, start, until, within } from './run.js';

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

it('fastify-service.mjs: ingests per request, waits for the ACK on ?wait=ack, drains on SIGTERM', async () => {
  const s = await server();
  const svc = start('fastify-service.mjs', [], { QWP_ADDR: `127.0.0.1:${s.port}`, PORT: '0' });
  await until(() => /listening on http:\/\/\S+/.test(svc.stdout), 20_000, 'the service to listen');
  const base = /listening on (http:\/\/\S+)/.exec(svc.stdout)![1]!;

  let res = await post(`${base}/events`, [
    { device: 'pump-1', value: 1.5 },
    { device: 'pump-2', value: 2 },
  ]);
  expect(res.status).toBe(202);
  expect(await res.json()).toEqual({ accepted: 2 });

  res = await post(`${base}/events?wait=ack`, [
    { device: 'pump-3', value: 3, ts: 1_700_000_000_000 },
  ]);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ accepted: 1, acknowledged: true });
  // Acknowledged means committed: the earlier rows went in the same flush or before it.
  expect(s.rows('device_events').map((r) => r.device)).toEqual(['pump-1', 'pump-2', 'pump-3']);
  expect(s.rows('device_events')[2]!.timestamp).toBe(1_700_000_000_000_000n);

  res = await post(`${base}/events`, [{ device: '', value: 'hot' }]);
  expect(res.status).toBe(400);

  res = await fetch(`${base}/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ connected: true, unacknowledgedFrames: 0 });

  // Buffered rows are flushed and acknowledged by the shutdown.
  res = await post(`${base}/events`, [{ device: 'pump-4', value: 4 }]);
  expect(res.status).toBe(202);
  svc.child.kill('SIGTERM');
  const end = await within(svc.exited, 20_000, 'the service to stop');
  expect(end.code).toBe(0);
  expect(svc.stderr).toBe('');
  expect(s.rows('device_events')).toHaveLength(4);
});
