import { describe, expect, it } from 'vitest';
import { AuthError, ConnectError, Sender } from '../src/index.js';
import { sender, server, until, writeTrades } from './helpers.js';

const FAST = 'reconnect_initial_backoff_millis=10;reconnect_max_backoff_millis=40;';

/** `ws::addr=` for several test servers (or ports), in order. */
function confFor(ports: number[], extra = ''): string {
  return `ws::addr=${ports.map((p) => `127.0.0.1:${p}`).join(',')};${extra}`;
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = await server();
  const port = s.port;
  await s.close();
  return port;
}

describe('direct sender startup (the spec scenario table)', () => {
  it('server down, default mode: one round, then ConnectError', async () => {
    const port = await deadPort();
    const t0 = Date.now();
    // No reconnect_* key: any of them would turn the default into a blocking retry.
    const err = await Sender.fromConfig(confFor([port])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('server down, a reconnect_* key and no mode: a blocking retry bounded by reconnect_max_duration_millis', async () => {
    const port = await deadPort();
    const t0 = Date.now();
    const err = await Sender.fromConfig(
      confFor([port], `${FAST}reconnect_max_duration_millis=400;`),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('on (sync): a server that appears within the budget is used', async () => {
    const s = await server();
    await s.stop();
    setTimeout(() => void s.start(), 300);
    const snd = await sender(
      confFor(
        [s.port],
        `${FAST}initial_connect_retry=on;reconnect_max_duration_millis=10000;auto_flush=off;`,
      ),
    );
    writeTrades(snd, 0, 2);
    await snd.drain(5000);
    expect(s.rows('trades')).toHaveLength(2);
  });

  it('async: returns at once; rows are delivered when the server appears, however late', async () => {
    const s = await server();
    await s.stop();
    const snd = await sender(
      confFor([s.port], `${FAST}initial_connect_retry=async;auto_flush=off;`),
    );
    writeTrades(snd, 0, 3);
    await snd.flush();
    // It keeps trying in the background (however loaded the machine is).
    await until(() => snd.stats().connectAttempts > 1, 10_000, 'a second connect attempt');
    expect(snd.stats().connected).toBe(false);
    await s.start();
    await snd.drain(5000);
    expect(s.rows('trades')).toHaveLength(3);
  });

  it('401 or 403 ends the walk: later endpoints are never tried', async () => {
    for (const auth of [
      { basic: { user: 'a', pass: 'b' } },
      { basic: { user: 'a', pass: 'b' }, forbid: true },
    ]) {
      const guarded = await server({ auth });
      const other = await server();
      const err = await Sender.fromConfig(
        confFor(
          [guarded.port, other.port],
          `${FAST}username=a;password=${auth.forbid ? 'b' : 'x'};initial_connect_retry=on;`,
        ),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect((err as AuthError).httpStatus).toBe(auth.forbid ? 403 : 401);
      expect(other.stats().connectionsOpened).toBe(0);
    }
  });

  it('421 from a replica: walk on to the next endpoint', async () => {
    const replica = await server({ role: 'REPLICA' });
    const primary = await server();
    const snd = await sender(confFor([replica.port, primary.port], `${FAST}auto_flush=off;`));
    writeTrades(snd, 0, 2);
    await snd.drain(5000);
    expect(primary.rows('trades')).toHaveLength(2);
    expect(replica.stats().upgradesRejected).toBeGreaterThanOrEqual(1);
  });

  it('every endpoint a replica: retried (a replica may be promoted), then used once promoted', async () => {
    const a = await server({ role: 'PRIMARY_CATCHUP' });
    const b = await server({ role: 'REPLICA' });
    setTimeout(() => a.setRole('PRIMARY'), 300);
    const snd = await sender(
      confFor(
        [a.port, b.port],
        `${FAST}initial_connect_retry=on;reconnect_max_duration_millis=10000;auto_flush=off;`,
      ),
    );
    writeTrades(snd, 0, 1);
    await snd.drain(5000);
    expect(a.rows('trades')).toHaveLength(1);
  });

  it('all replicas past the budget: ConnectError naming the role', async () => {
    const a = await server({ role: 'REPLICA' });
    const err = await Sender.fromConfig(
      confFor([a.port], `${FAST}initial_connect_retry=on;reconnect_max_duration_millis=300;`),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(/421|REPLICA/);
  });
});

describe('failover while running', () => {
  it('a host that failed mid-stream is demoted: the reconnect goes to the next one (failover event)', async () => {
    const a = await server({ dedup: { trades: ['qty'] } });
    const b = await server({ dedup: { trades: ['qty'] } });
    const failovers: { from: string; to: string }[] = [];
    const snd = await sender(confFor([a.port, b.port], `${FAST}auto_flush=off;`), {
      on: { failover: (e) => failovers.push(e), error: () => {} },
    });
    writeTrades(snd, 0, 5);
    await snd.drain(5000);
    a.demote('REPLICA', 'failover drill');
    writeTrades(snd, 5, 5);
    await snd.drain(10_000);
    expect(b.rows('trades').map((r) => Number(r.qty))).toEqual([5, 6, 7, 8, 9]);
    expect(failovers).toEqual([
      { from: `127.0.0.1:${a.port}`, to: `127.0.0.1:${b.port}`, info: expect.anything() },
    ]);
  });

  it('a running sender retries an outage of every endpoint for as long as it lasts', async () => {
    const a = await server();
    const snd = await sender(
      confFor([a.port], `${FAST}auto_flush=off;reconnect_max_duration_millis=100;`),
    );
    await a.stop();
    writeTrades(snd, 0, 2);
    await snd.flush();
    await until(() => snd.stats().connectAttempts > 10, 5000, 'many attempts');
    await a.start();
    await snd.drain(5000);
    expect(a.rows('trades')).toHaveLength(2);
  });
});
