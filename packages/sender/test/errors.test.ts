import { Status } from '@qwp/test-server';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ProtocolError, Sender, ServerRejectedError, WorkerError } from '../src/index.js';
import { confFor, onCleanup, sender, server, until, writeTrades } from './helpers.js';

const FAST_RECONNECT = 'reconnect_initial_backoff_millis=10;reconnect_max_backoff_millis=50;';

describe('server errors', () => {
  it('an error frame latches a terminal error: reported, then rethrown by rows, flush, drain and close', async () => {
    const s = await server();
    const errors: Error[] = [];
    const snd = await Sender.fromConfig(confFor(s, 'auto_flush=off;'), {
      on: { error: (e) => errors.push(e) },
    });
    writeTrades(snd, 0, 3);
    await snd.drain(5000);
    s.rejectFrame(s.stats().frames, Status.PARSE_ERROR, 'bad frame');
    writeTrades(snd, 3, 3);
    await snd.flush();
    await until(() => errors.length > 0, 5000, 'the error event');
    const err = errors[0] as ServerRejectedError;
    expect(err).toBeInstanceOf(ServerRejectedError);
    expect(err.status).toBe(Status.PARSE_ERROR);
    expect(err.statusName).toBe('PARSE_ERROR');
    expect(err.policy).toBe('terminal');
    expect(err.fsn).toBe(1);
    expect(err.message).toContain('bad frame');
    expect(() => snd.table('trades')).toThrow(err);
    await expect(snd.flush()).rejects.toBe(err);
    await expect(snd.drain(100)).rejects.toBe(err);
    await expect(snd.close()).rejects.toBe(err);
    expect(s.rows('trades')).toHaveLength(3);
  });

  it('a malformed ACK is reported, the connection dropped and the frames replayed', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const errors: Error[] = [];
    const snd = await sender(confFor(s, `auto_flush=off;${FAST_RECONNECT}`), {
      on: { error: (e) => errors.push(e) },
    });
    s.corruptAcks('malformed', 1);
    writeTrades(snd, 0, 10);
    await snd.drain(5000);
    expect(errors.some((e) => e instanceof ProtocolError)).toBe(true);
    expect(snd.stats().reconnects).toBeGreaterThanOrEqual(1);
    expect(s.rows('trades')).toHaveLength(10);
  });

  it('an ACK for a frame never sent trims nothing: the connection is dropped and replayed', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const errors: Error[] = [];
    const snd = await sender(confFor(s, `auto_flush=off;${FAST_RECONNECT}`), {
      on: { error: (e) => errors.push(e) },
    });
    s.corruptAcks('future', 1);
    writeTrades(snd, 0, 10);
    await snd.flush();
    await until(() => errors.length > 0, 5000, 'the protocol error');
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(errors[0]!.message).toMatch(/never|only \d+ message/);
    await snd.drain(5000);
    expect(s.rows('trades')).toHaveLength(10);
  });

  it('a server that answers text or garbage: a clear error each time, never a crash or a trim', async () => {
    for (const reply of ['text', 'garbage'] as const) {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      onCleanup(() => new Promise<void>((r) => wss.close(() => r())));
      await new Promise<void>((r) => wss.once('listening', () => r()));
      wss.on('connection', (ws) => {
        ws.on('message', () => {
          if (reply === 'text') ws.send('hello');
          else ws.send(Buffer.from([0x00, 0xff, 0x01]));
        });
      });
      const port = (wss.address() as { port: number }).port;
      const errors: Error[] = [];
      const snd = await Sender.fromConfig(
        `ws::addr=127.0.0.1:${port};auto_flush=off;close_flush_timeout_millis=0;${FAST_RECONNECT}`,
        { on: { error: (e) => errors.push(e) } },
      );
      writeTrades(snd, 0, 2);
      await snd.flush();
      await until(() => errors.length >= 2, 5000, `two ${reply} errors`);
      expect(errors.every((e) => e instanceof ProtocolError)).toBe(true);
      expect(errors[0]!.message).toMatch(reply === 'text' ? /text frame/ : /undecodable/);
      expect(snd.stats().ackedFsn).toBe(-1);
      await snd.close().catch(() => {});
    }
  });
});

describe('the I/O worker', () => {
  it('a worker that dies surfaces as an error on the next call, and close() does not hang', async () => {
    const s = await server();
    const snd = await Sender.fromConfig(
      confFor(s, 'auto_flush=off;close_flush_timeout_millis=0;'),
      {
        on: { error: () => {} },
      },
    );
    writeTrades(snd, 0, 2);
    await snd.drain(5000);
    // Reach into the sender to kill its thread, as a crash in native code would.
    await (snd as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await until(
      () => {
        try {
          snd.table('trades');
          return false;
        } catch (e) {
          return e instanceof WorkerError;
        }
      },
      5000,
      'the worker error',
    );
    const t0 = Date.now();
    await expect(snd.close()).rejects.toBeInstanceOf(WorkerError);
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
