import { describe, expect, it } from 'vitest';
import { BackpressureError } from '../src/index.js';
import { confFor, sender, server, writeTrades } from './helpers.js';

/** Two 64 KiB segments: the buffer fills after a few hundred rows. */
const SMALL_BUFFER = 'sf_max_bytes=65536;sf_max_total_bytes=131072;auto_flush=off;';

describe('backpressure', () => {
  it('a server that stops acknowledging: flush() gives up at the deadline, then recovers when ACKs resume', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const events: { queuedFrames: number; connected: boolean }[] = [];
    const snd = await sender(confFor(s, `${SMALL_BUFFER}sf_append_deadline_millis=300;`), {
      on: { backpressure: (e) => events.push(e), error: () => {} },
    });
    s.delayAcks(1500);
    let rows = 0;
    let failure: unknown;
    const t0 = Date.now();
    while (failure === undefined && rows < 100_000) {
      writeTrades(snd, rows, 200);
      rows += 200;
      failure = await snd.flush().then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(failure).toBeInstanceOf(BackpressureError);
    const bp = failure as BackpressureError;
    expect(bp.connected).toBe(true);
    expect(bp.queuedFrames).toBeGreaterThan(0);
    expect(bp.message).toMatch(/300 ms/);
    expect(Date.now() - t0).toBeLessThan(1400); // gave up before the first delayed ACK
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(snd.stats().backpressureStalls).toBeGreaterThanOrEqual(1);
    s.resetFaults();
    await snd.drain(10_000); // the delayed ACKs arrive, the queue drains, the rest is sent
    expect(s.rows('trades')).toHaveLength(rows);
  });

  it('with no server at all the error says it is not connected, and rows past max_buf_size are refused', async () => {
    const s = await server();
    const snd = await sender(
      confFor(
        s,
        `${SMALL_BUFFER}sf_append_deadline_millis=100;max_buf_size=65536;close_flush_timeout_millis=0;reconnect_initial_backoff_millis=10;reconnect_max_backoff_millis=20;`,
      ),
    );
    await s.stop();
    let rows = 0;
    let failure: unknown;
    while (failure === undefined) {
      writeTrades(snd, rows, 500);
      rows += 500;
      failure = await snd.flush().then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect((failure as BackpressureError).connected).toBe(false);
    expect((failure as BackpressureError).message).toMatch(/not connected/);
    // The queue keeps growing with every flush until max_buf_size stops new rows.
    let refused: unknown;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      try {
        writeTrades(snd, rows, 500);
        rows += 500;
        await snd.flush().catch(() => {});
      } catch (e) {
        refused = e;
      }
    }
    expect(refused).toBeInstanceOf(BackpressureError);
    expect((refused as Error).message).toMatch(/max_buf_size/);
  });
});
