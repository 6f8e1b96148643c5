import { encodeErrorResponse, encodeOkResponse, Status } from '@qwp/qwp-wire';
import { describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { DurableAckError, PoisonFrameError, Sender, ServerRejectedError } from '../src/index.js';
import { confFor, onCleanup, sender, server, until, writeTrades } from './helpers.js';

const FAST = 'reconnect_initial_backoff_millis=5;reconnect_max_backoff_millis=20;auto_flush=off;';

/**
 * A hostile QWP server: answers each binary message by `answer(seq, frame)`
 * (bytes to send, 'close:<code>' to close, or null for silence).
 */
async function hostile(
  answer: (seq: number, frame: Buffer, connection: number) => Uint8Array | string | null,
): Promise<{ port: number; connections: () => number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  onCleanup(() => new Promise<void>((r) => wss.close(() => r())));
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let connections = 0;
  wss.on('connection', (ws: WebSocket) => {
    const id = connections++;
    let seq = 0;
    ws.on('message', (data: Buffer) => {
      const reply = answer(seq++, data, id);
      if (reply === null) return;
      if (typeof reply === 'string') ws.close(Number(reply.slice(6)));
      else ws.send(reply);
    });
  });
  return { port: (wss.address() as { port: number }).port, connections: () => connections };
}

/** True for a frame carrying table blocks (not a symbol catch-up). */
function hasTables(frame: Buffer): boolean {
  return frame.readUInt16LE(6) > 0;
}

describe('error policies', () => {
  it('WRITE_ERROR is retriable by default: reported, reconnected, replayed, committed', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const errors: Error[] = [];
    const snd = await sender(confFor(s, FAST), { on: { error: (e) => errors.push(e) } });
    writeTrades(snd, 0, 5);
    await snd.drain(5000);
    s.rejectFrame(s.stats().frames, Status.WRITE_ERROR, 'table busy');
    writeTrades(snd, 5, 5);
    await snd.drain(5000);
    const rejected = errors.find((e) => e instanceof ServerRejectedError) as ServerRejectedError;
    expect(rejected.policy).toBe('retriable');
    expect(rejected.category).toBe('write');
    expect(rejected.message).toMatch(/reconnecting and replaying/);
    expect(s.rows('trades')).toHaveLength(10);
    expect(snd.stats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('on_write_error=halt makes it terminal; on_server_error applies to the rest', async () => {
    const s = await server();
    const snd = await Sender.fromConfig(
      confFor(s, `${FAST}on_write_error=halt;close_flush_timeout_millis=0;`),
      {
        on: { error: () => {} },
      },
    );
    s.rejectFrame(s.stats().frames, Status.WRITE_ERROR, 'read-only table');
    writeTrades(snd, 0, 1);
    await expect(snd.drain(5000)).rejects.toMatchObject({ policy: 'terminal', category: 'write' });
    await snd.close().catch(() => {});

    const t = await server({ dedup: { trades: ['qty'] } });
    const lenient = await sender(confFor(t, `${FAST}on_server_error=retry;`));
    t.rejectFrame(t.stats().frames, Status.SCHEMA_MISMATCH, 'not now');
    writeTrades(lenient, 0, 2);
    await lenient.drain(5000);
    expect(t.rows('trades')).toHaveLength(2);
  });

  it('close() after a terminal error still reports a failure to close the store', async () => {
    const s = await server();
    const errors: Error[] = [];
    const snd = await Sender.fromConfig(
      confFor(s, `${FAST}on_write_error=halt;close_flush_timeout_millis=0;`),
      { on: { error: (e) => errors.push(e) } },
    );
    s.rejectFrame(s.stats().frames, Status.WRITE_ERROR, 'read-only table');
    writeTrades(snd, 0, 1);
    await expect(snd.drain(5000)).rejects.toMatchObject({ policy: 'terminal' });
    // Fault injection: the store fails as it closes (an unmap or fsync error).
    const store = (snd as unknown as { store: { close(): void } }).store;
    const realClose = store.close.bind(store);
    const closeFailure = new Error('injected: store close failed');
    store.close = () => {
      realClose();
      throw closeFailure;
    };
    await expect(snd.close()).rejects.toMatchObject({ policy: 'terminal', category: 'write' });
    expect(errors).toContain(closeFailure);
  });

  it('a frame refused every time becomes a poison frame: terminal after the strikes and the window', async () => {
    const h = await hostile((seq, frame) =>
      hasTables(frame) ? encodeErrorResponse(Status.WRITE_ERROR, seq, 'disk full') : null,
    );
    const errors: Error[] = [];
    const snd = await Sender.fromConfig(
      `ws::addr=127.0.0.1:${h.port};${FAST}max_frame_rejections=3;poison_min_escalation_window_millis=150;close_flush_timeout_millis=0;`,
      { on: { error: (e) => errors.push(e) } },
    );
    const t0 = Date.now();
    writeTrades(snd, 0, 1);
    await snd.flush();
    await until(
      () => errors.some((e) => e instanceof PoisonFrameError),
      10_000,
      'the poison verdict',
    );
    const poison = errors.find((e) => e instanceof PoisonFrameError) as PoisonFrameError;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(poison.fsn).toBe(0);
    expect(poison.strikes).toBeGreaterThanOrEqual(3);
    expect(poison.message).toMatch(/disk full/);
    expect(() => snd.table('t')).toThrow(PoisonFrameError);
    await snd.close().catch(() => {});
  });

  it('a frame that makes the server drop the connection abnormally is poison too', async () => {
    const h = await hostile((_seq, frame) => (hasTables(frame) ? 'close:1011' : null));
    const errors: Error[] = [];
    const snd = await Sender.fromConfig(
      `ws::addr=127.0.0.1:${h.port};${FAST}max_frame_rejections=2;poison_min_escalation_window_millis=0;close_flush_timeout_millis=0;`,
      { on: { error: (e) => errors.push(e) } },
    );
    writeTrades(snd, 0, 1);
    await snd.flush();
    await until(
      () => errors.some((e) => e instanceof PoisonFrameError),
      10_000,
      'the poison verdict',
    );
    expect((errors.find((e) => e instanceof PoisonFrameError) as Error).message).toMatch(/1011/);
    await snd.close().catch(() => {});
  });

  it('DICTIONARY_GAP is answered by reconnecting (catch-up from id 0), never as poison', async () => {
    let gaps = 0;
    const h = await hostile((seq, frame, connection) => {
      if (!hasTables(frame)) return null; // catch-up: deferred, OK comes with the data
      if (connection < 5) {
        gaps++;
        return encodeErrorResponse(Status.DICTIONARY_GAP, seq, 'delta start past dictionary');
      }
      return encodeOkResponse(seq);
    });
    const snd = await sender(
      `ws::addr=127.0.0.1:${h.port};${FAST}max_frame_rejections=1;poison_min_escalation_window_millis=0;`,
    );
    writeTrades(snd, 0, 3);
    await snd.drain(10_000);
    expect(gaps).toBe(5);
    expect(snd.stats().catchUpFrames).toBeGreaterThanOrEqual(5);
  });
});

describe('durable ACK', () => {
  it('trims only on DURABLE_ACK, PINGing while idle (the server answers only inbound traffic)', async () => {
    const s = await server({ durableAck: { lagMs: 100 } });
    const snd = await sender(
      confFor(s, 'auto_flush=off;request_durable_ack=on;durable_ack_keepalive_interval_millis=20;'),
    );
    writeTrades(snd, 0, 3);
    const fsn = await snd.flush();
    await until(() => s.rows('trades').length === 3, 5000, 'the commit');
    // Committed (OK'd) but not durable yet.
    expect(snd.stats().ackedFsn).toBe(-1);
    await snd.acknowledged(fsn, 5000);
    expect(s.stats().durableAcks).toBeGreaterThan(0);
  });

  it('a server without durable ACK is refused at connect, with a message that says so', async () => {
    const s = await server();
    const err = await Sender.fromConfig(confFor(s, 'request_durable_ack=on;')).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DurableAckError);
    expect((err as Error).message).toMatch(/X-QWP-Durable-Ack/);
  });

  it('with every endpoint refusing writes by role, it fails saying durable ACK needs a primary', async () => {
    const s = await server({ role: 'REPLICA', durableAck: true });
    const err = await Sender.fromConfig(
      confFor(
        s,
        'request_durable_ack=on;initial_connect_retry=on;reconnect_max_duration_millis=2000;',
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DurableAckError);
    expect((err as Error).message).toMatch(/primary/);
  });
});
