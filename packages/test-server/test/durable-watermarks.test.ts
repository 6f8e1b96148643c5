import { describe, expect, it } from 'vitest';
import {
  type DurableAckRequest,
  DurableProgress,
  durableAckToken,
  grantDurableAck,
  parseDurableAckRequest,
  resolveDurableAck,
  UploadClock,
} from '../src/durable-watermarks.js';

const SEED = Number(process.env.QWP_TEST_SEED ?? 7);

describe('X-QWP-Request-Durable-Ack tiers (DurabilityTier)', () => {
  // [header value, tiers asked, legacy, token echoed when granted]
  it.each([
    ['true', ['replicated'], true, 'enabled'],
    ['TRUE', ['replicated'], true, 'enabled'],
    ['local', ['local'], false, 'local'],
    ['Replicated', ['replicated'], false, 'replicated'],
    ['local,replicated', ['local', 'replicated'], false, 'local,replicated'],
    ['replicated,local', ['local', 'replicated'], false, 'local,replicated'],
  ] as const)('%s asks for %j and is confirmed with %s', (value, tiers, legacy, token) => {
    const request = parseDurableAckRequest(value);
    expect(request).toEqual({ tiers, legacy });
    expect(durableAckToken(request!)).toBe(token);
  });

  it.each([undefined, '', 'yes', 'on', 'enabled', 'local, replicated', 'local,local'])(
    '%j asks for nothing',
    (value) => {
      expect(parseDurableAckRequest(value)).toBeNull();
    },
  );

  it('grants all or nothing: a tier the server lacks denies the whole request', () => {
    const both: DurableAckRequest = { tiers: ['local', 'replicated'], legacy: false };
    expect(grantDurableAck(both, ['local', 'replicated'])).toBe(both);
    expect(grantDurableAck(both, ['local'])).toBeNull();
    // An OSS server (local tier only) denies the legacy `true`, which means replicated.
    expect(grantDurableAck(parseDurableAckRequest('true'), ['local'])).toBeNull();
    expect(grantDurableAck(parseDurableAckRequest('local'), ['local'])).not.toBeNull();
    expect(grantDurableAck(parseDurableAckRequest('local'), [])).toBeNull();
    expect(grantDurableAck(null, ['local', 'replicated'])).toBeNull();
  });

  it('resolves the option, refusing bad fields by name', () => {
    expect(resolveDurableAck(undefined).tiers).toEqual([]);
    expect(resolveDurableAck(false).tiers).toEqual([]);
    expect(resolveDurableAck(true)).toMatchObject({
      tiers: ['local', 'replicated'],
      lagMs: 50,
      jitterMs: 50,
      localLagMs: 5,
      localJitterMs: 5,
      seed: 1,
    });
    expect(resolveDurableAck({ tiers: ['local'], lagMs: 0 })).toMatchObject({
      tiers: ['local'],
      lagMs: 0,
    });
    expect(() => resolveDurableAck({ lagMs: -1 })).toThrow(/durableAck.lagMs must be an integer/);
    expect(() => resolveDurableAck({ tiers: ['cloud' as 'local'] })).toThrow(
      /durableAck.tiers must hold 'local' and\/or 'replicated', got cloud/,
    );
  });
});

describe('UploadClock', () => {
  it('covers a commit lagMs after it, then only the contiguous prefix', () => {
    const c = new UploadClock(10, 0, 1, () => false);
    c.record('t', 1n, 0);
    c.record('t', 2n, 5);
    expect(c.watermark('t', 9)).toBe(-1n);
    expect(c.watermark('t', 10)).toBe(1n);
    expect(c.watermark('t', 14)).toBe(1n);
    expect(c.watermark('t', 15)).toBe(2n);
    expect(c.watermark('other', 100)).toBe(-1n);
  });

  it('lags and jumps: with jitter the frontier skips several commits at once', () => {
    const c = new UploadClock(0, 100, SEED, () => false);
    for (let i = 1; i <= 50; i++) c.record('t', BigInt(i), i);
    const seen: bigint[] = [];
    for (let now = 0; now <= 200; now++) {
      const w = c.watermark('t', now);
      if (seen.at(-1) !== w) seen.push(w);
    }
    expect(seen.at(-1)).toBe(50n);
    // Monotonic, and at least one step covered more than one commit.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    expect(seen.some((w, i) => i > 0 && w - seen[i - 1]! > 1n)).toBe(true);
  });

  it('reproduces the same frontiers from the same seed', () => {
    const run = (seed: number) => {
      const c = new UploadClock(5, 40, seed, () => false);
      const out: bigint[] = [];
      for (let i = 1; i <= 30; i++) {
        c.record('t', BigInt(i), i * 2);
        out.push(c.watermark('t', i * 2 + 10));
      }
      return out;
    };
    expect(run(SEED)).toEqual(run(SEED));
    expect(run(SEED)).not.toEqual(run(SEED + 1));
  });

  it('stalls while told to, then jumps over everything due', () => {
    let stalled = true;
    const c = new UploadClock(0, 0, 1, () => stalled);
    c.record('t', 1n, 0);
    c.record('t', 4n, 1);
    expect(c.watermark('t', 100)).toBe(-1n);
    stalled = false;
    expect(c.watermark('t', 100)).toBe(4n);
    c.clear();
    expect(c.watermark('t', 100)).toBe(-1n);
  });

  it('applies a new lag to commits recorded after it', () => {
    const c = new UploadClock(0, 0, 1, () => false);
    c.record('t', 1n, 0);
    c.setLag(50, 0);
    c.record('t', 2n, 0);
    expect(c.watermark('t', 10)).toBe(1n);
    expect(c.watermark('t', 50)).toBe(2n);
  });
});

describe('DurableProgress (one connection, one tier)', () => {
  it('reports only tables this connection committed to, each once per advance', () => {
    const clock = new UploadClock(0, 0, 1, () => false);
    const p = new DurableProgress('replicated', clock);
    clock.record('other', 1n, 0);
    expect(p.take(10)).toEqual([]);
    clock.record('t', 1n, 0);
    p.committed('t', 1n);
    expect(p.hasPendingWork()).toBe(true);
    expect(p.take(10)).toEqual([{ name: 't', seqTxn: 1n }]);
    expect(p.hasPendingWork()).toBe(false);
    expect(p.take(20)).toEqual([]);
  });

  it('reports a frontier below the latest commit, then past it (other writers)', () => {
    const clock = new UploadClock(50, 0, 1, () => false);
    const p = new DurableProgress('replicated', clock);
    clock.record('t', 1n, 0);
    p.committed('t', 1n);
    clock.record('t', 2n, 5);
    p.committed('t', 2n);
    // Another writer's seqTxns 3 to 5, ahead of this connection's.
    clock.record('t', 3n, 10);
    clock.record('t', 5n, 10);
    expect(p.take(52)).toEqual([{ name: 't', seqTxn: 1n }]);
    expect(p.hasPendingWork()).toBe(true);
    expect(p.take(53)).toEqual([]);
    expect(p.take(60)).toEqual([{ name: 't', seqTxn: 5n }]);
    expect(p.hasPendingWork()).toBe(false);
  });

  it('after a table caught up, a new commit may repeat a frontier already reported', () => {
    const clock = new UploadClock(10, 0, 1, () => false);
    const p = new DurableProgress('local', clock);
    clock.record('t', 3n, 0);
    p.committed('t', 3n);
    expect(p.take(10)).toEqual([{ name: 't', seqTxn: 3n }]);
    // Committed again; its upload is not done, but the forgotten report is resent.
    clock.record('t', 4n, 20);
    p.committed('t', 4n);
    expect(p.take(21)).toEqual([{ name: 't', seqTxn: 3n }]);
    expect(p.take(22)).toEqual([]);
    expect(p.take(30)).toEqual([{ name: 't', seqTxn: 4n }]);
  });

  it('keeps first-commit order across tables', () => {
    const clock = new UploadClock(0, 0, 1, () => false);
    const p = new DurableProgress('replicated', clock);
    for (const [t, s] of [
      ['b', 1n],
      ['a', 1n],
      ['b', 2n],
    ] as const) {
      clock.record(t, s, 0);
      p.committed(t, s);
    }
    expect(p.take(1)).toEqual([
      { name: 'b', seqTxn: 2n },
      { name: 'a', seqTxn: 1n },
    ]);
  });
});
