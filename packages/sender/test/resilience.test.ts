import { describe, expect, it } from 'vitest';
import type { ConnectedInfo } from '../src/index.js';
import { confFor, sender, server, until, writeTrades } from './helpers.js';

const FAST_RECONNECT = 'reconnect_initial_backoff_millis=10;reconnect_max_backoff_millis=50;';

/** The qty (row id) of every committed trades row, sorted. */
function ids(rows: readonly Record<string, unknown>[]): number[] {
  return rows.map((r) => Number(r.qty)).sort((a, b) => a - b);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe('surviving connection loss', () => {
  it('a connection cut mid-stream: reconnect, symbol catch-up, replay from the acked FSN', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const events: string[] = [];
    const snd = await sender(confFor(s, `auto_flush=off;${FAST_RECONNECT}`), {
      on: {
        connected: () => events.push('connected'),
        reconnected: () => events.push('reconnected'),
        disconnected: () => events.push('disconnected'),
        error: () => {},
      },
    });
    writeTrades(snd, 0, 30);
    await snd.drain(5000);
    // Every later connection is cut at its 4th frame, before its OK.
    s.dropAfterFrames(4);
    for (let batch = 0; batch < 20; batch++) {
      writeTrades(snd, 30 + batch * 10, 10);
      await snd.flush();
    }
    await until(() => snd.stats().reconnects >= 3, 10_000, 'three reconnects');
    s.resetFaults();
    await snd.drain(10_000);
    expect(ids(s.rows('trades'))).toEqual(range(0, 230));
    const st = snd.stats();
    expect(st.framesReplayed).toBeGreaterThan(0);
    expect(st.catchUpFrames).toBeGreaterThanOrEqual(st.reconnects);
    expect(events[0]).toBe('connected');
    expect(events).toContain('disconnected');
    expect(events).toContain('reconnected');
    // Symbols defined before the first cut decoded on later connections.
    expect(new Set(s.rows('trades').map((r) => r.sym))).toEqual(
      new Set(['ETH-USD', 'BTC-USD', 'SOL-USD']),
    );
  });

  it('a server restart: frames sent but not acknowledged are replayed', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const reconnected: ConnectedInfo[] = [];
    const snd = await sender(confFor(s, `auto_flush=off;${FAST_RECONNECT}`), {
      on: { reconnected: (i) => reconnected.push(i), error: () => {} },
    });
    writeTrades(snd, 0, 100);
    await snd.drain(5000);
    s.neverAck(true);
    writeTrades(snd, 100, 100);
    await snd.flush();
    await until(() => s.rows('trades').length === 200, 5000, 'second batch committed');
    expect(snd.stats().ackedFsn).toBe(0);
    await s.restart({ keepRows: true, downMs: 150 });
    s.resetFaults();
    await snd.drain(10_000);
    expect(ids(s.rows('trades'))).toEqual(range(0, 200));
    expect(reconnected.length).toBeGreaterThanOrEqual(1);
    expect(snd.stats().framesReplayed).toBeGreaterThanOrEqual(1);
  });

  it('rows written while the server is down wait in the buffer and go out when it is back', async () => {
    const s = await server();
    const snd = await sender(confFor(s, `auto_flush=off;${FAST_RECONNECT}`));
    writeTrades(snd, 0, 5);
    await snd.drain(5000);
    await s.stop();
    await until(() => !snd.stats().connected, 5000, 'disconnect seen');
    for (let i = 0; i < 10; i++) {
      writeTrades(snd, 5 + i * 5, 5);
      await snd.flush();
    }
    await s.start();
    await snd.drain(10_000);
    expect(ids(s.rows('trades'))).toEqual(range(0, 55));
  });
});
