import { describe, expect, it } from 'vitest';
import { PoisonFrameError, ServerRejectedError } from '../src/index.js';
import { confFor, sender, server, tempDir, until, writeTrades } from './helpers.js';

// The sender against the test server's QuestDB-faithful behaviours that a
// kinder server hid: a demotion noticed only at the next data frame (with
// the close held for durable uploads), OKs inside a deferred group once
// max.uncommitted.rows forces a commit, durable watermarks that lag, jump
// and repeat because other writers commit, and a read-only node.

const FAST = 'reconnect_initial_backoff_millis=5;reconnect_max_backoff_millis=20;';
const DURABLE = 'request_durable_ack=on;durable_ack_keepalive_interval_millis=20;';

function ids(rows: Record<string, unknown>[]): number[] {
  return rows.map((r) => Number(r.qty)).sort((x, y) => x - y);
}

function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

describe('the sender against a realistic server', () => {
  it('durable ACK through a demotion: the held close ends, the sender fails over, nothing lost or confirmed early', async () => {
    const durableAck = { lagMs: 0, jitterMs: 0, tiers: ['replicated' as const] };
    const log: string[] = [];
    const a = await server({
      dedup: { trades: ['qty'] },
      durableAck,
      demotionGraceMs: 300,
      log: (l) => log.push(l),
    });
    const b = await server({ dedup: { trades: ['qty'] }, durableAck });
    const failovers: string[] = [];
    const snd = await sender(
      `ws::addr=127.0.0.1:${a.port},127.0.0.1:${b.port};${FAST}${DURABLE}auto_flush=off;sf_dir=${tempDir()};`,
      { on: { failover: (e) => failovers.push(e.to), error: () => {} } },
    );
    writeTrades(snd, 0, 10);
    await snd.acknowledged(await snd.flush(), 5000);
    // Uploads stall, then the node is demoted: the next frame goes unanswered
    // and the close is held while the sender PINGs for durable ACKs.
    a.faults.stallUploads();
    writeTrades(snd, 10, 10);
    const committedNotDurable = await snd.flush();
    await until(() => a.rows('trades').length === 20, 5000, 'the commit on a');
    a.demote('REPLICA');
    writeTrades(snd, 20, 10);
    const last = await snd.flush();
    // Held: nothing past FSN 0 may be confirmed while a's uploads stall.
    await new Promise((r) => setTimeout(r, 100));
    expect(snd.stats().ackedFsn).toBeLessThan(committedNotDurable);
    a.faults.stallUploads(false);
    await snd.acknowledged(last, 10_000);
    expect(failovers).toContain(`127.0.0.1:${b.port}`);
    expect(log.some((l) => /demoted: close held/.test(l))).toBe(true);
    // Every row is on one node or the other (the demoted one kept what it
    // committed; a replay onto b is deduplicated there).
    const union = new Set([...ids(a.rows('trades')), ...ids(b.rows('trades'))]);
    expect([...union].sort((x, y) => x - y)).toEqual(range(0, 30));
    expect(ids(b.rows('trades'))).toEqual(expect.arrayContaining(range(20, 10)));
  });

  it('a transaction past max.uncommitted.rows: the server commits early and OKs deferred frames; the sender completes', async () => {
    const commits: number[] = [];
    const s = await server({
      maxUncommittedRows: 40,
      onCommit: (_t, rows) => commits.push(rows.length),
    });
    const snd = await sender(confFor(s, 'auto_flush_rows=25;auto_flush_interval=off;'));
    await snd.transaction(async (tx) => {
      writeTrades(tx, 0, 100);
    });
    await snd.drain(5000);
    expect(ids(s.rows('trades'))).toEqual(range(0, 100));
    // Not one commit: QuestDB's cap split the group, as it would on a real server.
    expect(commits.length).toBeGreaterThan(1);
    expect(commits.reduce((x, y) => x + y, 0)).toBe(100);
    expect(snd.stats().reconnects).toBe(0);
  });

  it('durable watermarks that jump past the OKs and repeat (other writers) confirm every flush', async () => {
    const s = await server({ durableAck: { lagMs: 5, jitterMs: 20, seed: 7 } });
    const snd = await sender(confFor(s, `${DURABLE}auto_flush=off;`));
    writeTrades(snd, 0, 1);
    await snd.acknowledged(await snd.flush(), 5000);
    for (let i = 1; i < 20; i++) {
      s.advanceSeqTxn('trades', 1 + (i % 3));
      writeTrades(snd, i, 1);
      await snd.flush();
    }
    await snd.drain(10_000);
    expect(s.rows('trades')).toHaveLength(20);
    expect(snd.stats().ackedFsn).toBeGreaterThanOrEqual(19);
  });

  it('a read-only node: the sender stops with the server’s SECURITY_ERROR, naming it', async () => {
    const s = await server({ readOnly: true });
    const snd = await sender(confFor(s, `${FAST}auto_flush=off;close_flush_timeout_millis=0;`));
    writeTrades(snd, 0, 1);
    const err = await snd.drain(5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerRejectedError);
    expect(err).toMatchObject({ category: 'security', policy: 'terminal' });
    expect((err as Error).message).toMatch(/replica access is read-only/);
    expect(s.rows('trades')).toHaveLength(0);
  });

  it('a table the server will not create: INTERNAL_ERROR is retried, then poison, never an endless replay', async () => {
    const s = await server({ autoCreateTables: false });
    const errors: Error[] = [];
    const snd = await sender(
      confFor(
        s,
        `${FAST}auto_flush=off;max_frame_rejections=3;poison_min_escalation_window_millis=0;close_flush_timeout_millis=0;`,
      ),
      { on: { error: (e) => errors.push(e) } },
    );
    writeTrades(snd, 0, 1);
    await snd.flush();
    await until(
      () => errors.some((e) => e instanceof PoisonFrameError),
      10_000,
      'the poison verdict',
    );
    const first = errors.find((e) => e instanceof ServerRejectedError) as ServerRejectedError;
    expect(first).toMatchObject({ category: 'internal', policy: 'retriable' });
    const poison = errors.find((e) => e instanceof PoisonFrameError) as PoisonFrameError;
    expect(poison.message).toMatch(/failed to create table update details for: trades/);
    expect(s.tables()).toEqual([]);
  });
});
