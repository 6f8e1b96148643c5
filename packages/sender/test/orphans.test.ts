import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Status } from '@qwp/test-server';
import { describe, expect, it } from 'vitest';
import { type OrphanEvent, Sender, SlotLockedError } from '../src/index.js';
import { confFor, onCleanup, sender, server, tempDir, until } from './helpers.js';

const PRODUCER = new URL('./fixtures/sf-producer.mjs', import.meta.url).pathname;
const FAST = 'reconnect_initial_backoff_millis=10;reconnect_max_backoff_millis=50;';

/**
 * Leaves slot `<dir>/<senderId>` as a SIGKILLed producer does, with frames
 * the server never acknowledged (it acknowledges nothing meanwhile);
 * returns the highest row id the producer saw flushed.
 */
async function killedProducer(
  s: Awaited<ReturnType<typeof server>>,
  dir: string,
  senderId: string,
): Promise<number> {
  s.neverAck(true);
  const conf = confFor(
    s,
    `sf_dir=${dir};sender_id=${senderId};auto_flush_rows=100;auto_flush_interval=off;`,
  );
  const child = spawn(process.execPath, [PRODUCER, conf, '0', '1000000', 'write'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onCleanup(() => {
    child.kill('SIGKILL');
  });
  let flushed = -1;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { flushed?: number };
    if (m.flushed !== undefined) flushed = Math.max(flushed, m.flushed);
  });
  await until(() => flushed >= 2000, 20_000, 'the producer to flush 2000 rows');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  s.neverAck(false);
  return flushed;
}

function ids(rows: readonly Record<string, unknown>[]): Set<number> {
  return new Set(rows.map((r) => Number(r.qty)));
}

describe('orphan drain (drain_orphans=on)', () => {
  it('drains a SIGKILLed producer slot on its own connection, then cleans it up', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const dir = tempDir();
    const flushed = await killedProducer(s, dir, 'dead');
    await s.restart({ keepRows: false });
    const events: OrphanEvent[] = [];
    await sender(confFor(s, `sf_dir=${dir};sender_id=live;drain_orphans=on;${FAST}`), {
      on: { orphan: (e) => events.push(e), error: () => {} },
    });
    await until(() => events.some((e) => e.state === 'drained'), 20_000, 'the drained event');
    expect(events.map((e) => e.state)).toEqual(['draining', 'drained']);
    expect(events[0]!.senderId).toBe('dead');
    const got = ids(s.rows('trades'));
    for (let id = 0; id <= flushed; id++) expect(got.has(id)).toBe(true);
    expect(readdirSync(`${dir}/dead`).sort()).toEqual(['.lock', '.lock.pid']);
    // Drained slots are no longer orphans: a second sender finds nothing to do.
    const again: OrphanEvent[] = [];
    await sender(confFor(s, `sf_dir=${dir};sender_id=other;drain_orphans=on;${FAST}`), {
      on: { orphan: (e) => again.push(e) },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(again).toEqual([]);
  });

  it('skips a slot another process holds (never steals it), and the owner back during a drain is refused', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const dir = tempDir();
    await killedProducer(s, dir, 'dead');
    // A live sender holds slot "busy".
    await sender(confFor(s, `sf_dir=${dir};sender_id=busy;`));
    s.delayAcks(400); // the drain takes a while
    const events: OrphanEvent[] = [];
    await sender(confFor(s, `sf_dir=${dir};sender_id=live;drain_orphans=on;${FAST}`), {
      on: { orphan: (e) => events.push(e), error: () => {} },
    });
    await until(() => events.some((e) => e.state === 'draining'), 10_000, 'the drain to start');
    expect(events.every((e) => e.senderId === 'dead')).toBe(true);
    // The owner of "dead" comes back while its slot is being drained.
    const owner = await Sender.fromConfig(confFor(s, `sf_dir=${dir};sender_id=dead;`)).catch(
      (e: unknown) => e,
    );
    expect(owner).toBeInstanceOf(SlotLockedError);
    expect((owner as SlotLockedError).holderPid).toBe(process.pid);
    s.resetFaults();
    await until(() => events.some((e) => e.state === 'drained'), 20_000, 'the drain to finish');
    // Once drained, the owner opens an empty slot.
    const back = await sender(confFor(s, `sf_dir=${dir};sender_id=dead;`));
    expect(back.stats().publishedFsn).toBe(-1);
  });

  it('writes .failed only when the slot can never be delivered; an outage only waits', async () => {
    const s = await server();
    const dir = tempDir();
    await killedProducer(s, dir, 'rejected');
    await killedProducer(s, dir, 'waiting');
    // Frames of "rejected" get a PARSE_ERROR (terminal): the next data frame the server sees.
    s.rejectFrame(s.stats().frames + 1, Status.PARSE_ERROR, 'corrupt column');
    const events: OrphanEvent[] = [];
    const onOrphan = (e: OrphanEvent) => {
      events.push(e);
      // Before the next drain starts: "waiting" gets no ACK, so it cannot finish first.
      if (e.senderId === 'rejected' && e.state === 'failed') s.neverAck(true);
    };
    const live = await Sender.fromConfig(
      confFor(s, `sf_dir=${dir};sender_id=live;drain_orphans=on;max_background_drainers=1;${FAST}`),
      { on: { orphan: onOrphan, error: () => {} } },
    );
    await until(
      () => events.some((e) => e.senderId === 'rejected' && e.state === 'failed'),
      20_000,
      'the failure',
    );
    const failed = events.find((e) => e.state === 'failed')!;
    expect(failed.markedFailed).toBe(true);
    expect(failed.reason).toMatch(/PARSE_ERROR/);
    expect(readFileSync(`${dir}/rejected/.failed`, 'utf8')).toMatch(/corrupt column/);
    // The server goes away while "waiting" drains: no verdict, no .failed.
    await until(() => events.some((e) => e.senderId === 'waiting'), 10_000, 'the second drain');
    await s.stop();
    await new Promise((r) => setTimeout(r, 300));
    await live.close({ timeoutMs: 0 });
    expect(events.filter((e) => e.senderId === 'waiting').map((e) => e.state)).toEqual([
      'draining',
      'stopped',
    ]);
    expect(existsSync(`${dir}/waiting/.failed`)).toBe(false);
    expect(readdirSync(`${dir}/waiting`).some((f) => f.endsWith('.sfa'))).toBe(true);
  });
});

describe('Sender.drainSlot', () => {
  it('drains one named slot with progress, and needs sf_dir', async () => {
    const s = await server({ dedup: { trades: ['qty'] } });
    const dir = tempDir();
    const flushed = await killedProducer(s, dir, 'manual');
    const progress: number[] = [];
    const result = await Sender.drainSlot(confFor(s, `sf_dir=${dir};${FAST}`), 'manual', {
      onProgress: (p) => progress.push(p.ackedFsn),
      progressEveryMs: 50,
    });
    expect(result.state).toBe('drained');
    expect(progress.at(-1)).toBeGreaterThanOrEqual(0);
    expect(ids(s.rows('trades')).has(flushed)).toBe(true);
    await expect(Sender.drainSlot(confFor(s), 'manual')).rejects.toThrow(/sf_dir/);
  });
});
