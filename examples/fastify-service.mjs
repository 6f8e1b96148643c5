// An HTTP service that ingests what each request brings. One sender for the
// whole process, shared by every request; rows go out in the background.
//
//   node fastify-service.mjs
//   curl -X POST localhost:3000/events -H 'content-type: application/json' \
//     -d '[{"device":"pump-7","value":3.5}]'                     # 202: buffered
//   curl -X POST 'localhost:3000/events?wait=ack' ...            # 200: acknowledged
import { Sender } from '@qwp/sender';
import Fastify from 'fastify';

const addr = process.env.QWP_ADDR ?? 'localhost:9000';
const port = Number(process.env.PORT ?? 3000);

const sender = await Sender.fromConfig(`ws::addr=${addr};`, {
  on: { error: (err) => console.error(`sender: ${err.message}`) },
});
const app = Fastify();

const events = {
  type: 'array',
  maxItems: 10_000,
  items: {
    type: 'object',
    required: ['device', 'value'],
    additionalProperties: false,
    properties: {
      device: { type: 'string', minLength: 1, maxLength: 64 },
      value: { type: 'number' },
      ts: { type: 'integer', minimum: 0 }, // epoch milliseconds; default: now
    },
  },
};

app.post('/events', { schema: { body: events } }, async (request, reply) => {
  const rows = /** @type {{ device: string, value: number, ts?: number }[]} */ (request.body);
  // No await between table() and at(): every request shares the sender, so a
  // row must be complete before another handler runs.
  const now = Date.now();
  for (const e of rows) {
    sender
      .table('device_events')
      .symbol('device', e.device)
      .floatColumn('value', e.value)
      .at(e.ts ?? now, 'ms');
  }
  const query = /** @type {{ wait?: string }} */ (request.query);
  if (query.wait !== 'ack') {
    // Auto-flush sends the rows within auto_flush_interval (100 ms).
    return reply.code(202).send({ accepted: rows.length });
  }
  // flush() returns the FSN of the last frame; wait for the server to acknowledge it.
  await sender.acknowledged(await sender.flush(), 10_000);
  return { accepted: rows.length, acknowledged: true };
});

// For a readiness probe: is the sender connected, and how far behind is the server?
app.get('/health', async (_request, reply) => {
  const s = sender.stats();
  const body = { connected: s.connected, unacknowledgedFrames: s.publishedFsn - s.ackedFsn };
  return reply.code(s.connected ? 200 : 503).send(body);
});

app.setErrorHandler((error, _request, reply) => {
  const err = /** @type {Error & { code?: string }} */ (error);
  if (err.code === 'ERR_QWP_BACKPRESSURE') {
    // The buffer is full (the server is slow or away): ask the client to come back.
    return reply.code(503).header('retry-after', '1').send({ error: err.message });
  }
  if (err.code === 'ERR_QWP_TIMEOUT') return reply.code(504).send({ error: err.message });
  return reply.send(err); // Fastify's own handling: 400 for a body the schema refuses
});

// On SIGTERM stop taking requests, then close the sender: it flushes and
// waits (close_flush_timeout_millis) for the server to acknowledge the rest.
app.addHook('onClose', () => sender.close());
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void app.close());

const url = await app.listen({ port, host: '127.0.0.1' });
console.log(`listening on ${url}`);
