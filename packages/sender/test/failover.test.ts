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

/** One row of the spec's "Direct sender startup" and endpoint-walk tables. */
interface StartupScenario {
  scenario: string;
  /** Servers (options) in `addr` order; `null` stands for an address nothing listens on. */
  servers: (Parameters<typeof server>[0] | null)[];
  conf: string;
  /** Runs before fromConfig() (a server going down). */
  before?: (servers: (Awaited<ReturnType<typeof server>> | null)[]) => Promise<void>;
  /** Runs while fromConfig() is pending (a server appearing, a promotion). */
  meanwhile?: (servers: (Awaited<ReturnType<typeof server>> | null)[]) => void;
  outcome: 'connects' | typeof ConnectError | typeof AuthError;
  /** How long fromConfig() may take at least / at most, in ms. */
  minMs?: number;
  maxMs: number;
  /** Checked after the outcome, with the servers. */
  check?: (servers: (Awaited<ReturnType<typeof server>> | null)[], err: unknown) => void;
}

const SCENARIOS: StartupScenario[] = [
  {
    // No reconnect_* key: any of them would turn the default into a blocking retry.
    scenario: 'server down, default mode: one round, then ConnectError',
    servers: [null],
    conf: '',
    outcome: ConnectError,
    maxMs: 2000,
  },
  {
    scenario:
      'server down, a reconnect_* key and no mode: blocking retry bounded by reconnect_max_duration_millis',
    servers: [null],
    conf: `${FAST}reconnect_max_duration_millis=400;`,
    outcome: ConnectError,
    minMs: 380,
    maxMs: 3000,
  },
  {
    scenario: 'server down, on (sync): a server that appears within the budget is used',
    servers: [{}],
    conf: `${FAST}initial_connect_retry=on;reconnect_max_duration_millis=10000;`,
    before: (ss) => ss[0]!.stop(),
    meanwhile: (ss) => setTimeout(() => void ss[0]!.start(), 300),
    outcome: 'connects',
    minMs: 250,
    maxMs: 10_000,
  },
  {
    scenario: '401 ends the walk: later endpoints are never tried',
    servers: [{ auth: { basic: { user: 'a', pass: 'b' } } }, {}],
    conf: `${FAST}username=a;password=x;initial_connect_retry=on;`,
    outcome: AuthError,
    maxMs: 3000,
    check: (ss, err) => {
      expect((err as AuthError).httpStatus).toBe(401);
      expect(ss[1]!.stats().connectionsOpened).toBe(0);
    },
  },
  {
    scenario: '403 ends the walk too',
    servers: [{ auth: { basic: { user: 'a', pass: 'b' }, forbid: true } }, {}],
    conf: `${FAST}username=a;password=b;initial_connect_retry=on;`,
    outcome: AuthError,
    maxMs: 3000,
    check: (ss, err) => {
      expect((err as AuthError).httpStatus).toBe(403);
      expect(ss[1]!.stats().connectionsOpened).toBe(0);
    },
  },
  {
    scenario: '421 from a replica: walk on to the next endpoint',
    servers: [{ role: 'REPLICA' }, {}],
    conf: FAST,
    outcome: 'connects',
    maxMs: 3000,
    check: (ss) => expect(ss[0]!.stats().upgradesRejected).toBeGreaterThanOrEqual(1),
  },
  {
    scenario: 'every endpoint a replica: retried until one is promoted, then used',
    servers: [{ role: 'PRIMARY_CATCHUP' }, { role: 'REPLICA' }],
    conf: `${FAST}initial_connect_retry=on;reconnect_max_duration_millis=10000;`,
    meanwhile: (ss) => setTimeout(() => ss[0]!.setRole('PRIMARY'), 300),
    outcome: 'connects',
    minMs: 250,
    maxMs: 10_000,
  },
  {
    scenario: 'all replicas past the budget: ConnectError naming the refusal',
    servers: [{ role: 'REPLICA' }],
    conf: `${FAST}initial_connect_retry=on;reconnect_max_duration_millis=300;`,
    outcome: ConnectError,
    maxMs: 3000,
    check: (_ss, err) => expect((err as Error).message).toMatch(/421|REPLICA/),
  },
];

describe('direct sender startup (the spec scenario table)', () => {
  it.each(SCENARIOS)('$scenario', async (sc) => {
    const servers: (Awaited<ReturnType<typeof server>> | null)[] = [];
    const ports: number[] = [];
    for (const options of sc.servers) {
      if (options === null) {
        servers.push(null);
        ports.push(await deadPort());
      } else {
        const s = await server(options);
        servers.push(s);
        ports.push(s.port);
      }
    }
    await sc.before?.(servers);
    const t0 = Date.now();
    const pending = Sender.fromConfig(confFor(ports, `${sc.conf}auto_flush=off;`), {
      on: { error: () => {} },
    });
    sc.meanwhile?.(servers);
    const result = await pending.then(
      (snd) => ({ snd, err: undefined as unknown }),
      (err: unknown) => ({ snd: undefined, err }),
    );
    const took = Date.now() - t0;
    if (sc.outcome === 'connects') {
      expect(result.err).toBeUndefined();
      const snd = result.snd!;
      writeTrades(snd, 0, 2);
      await snd.drain(5000);
      expect(servers.reduce((n, s) => n + (s?.rows('trades').length ?? 0), 0)).toBe(2);
      await snd.close();
    } else {
      expect(result.err).toBeInstanceOf(sc.outcome);
    }
    if (sc.minMs !== undefined) expect(took).toBeGreaterThanOrEqual(sc.minMs);
    expect(took).toBeLessThan(sc.maxMs);
    sc.check?.(servers, result.err);
  });

  it('server down, async: returns at once; rows are delivered when the server appears, however late', async () => {
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
    a.demote('REPLICA');
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
