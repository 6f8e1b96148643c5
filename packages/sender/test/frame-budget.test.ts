import { inspectSymbolDict } from '@qwp/segment-log/inspect';
import { describe, expect, it } from 'vitest';
import { Sender, UndeliverableFrameError } from '../src/index.js';
import { confFor, sender, server, tempDir, until, writeTrades } from './helpers.js';

describe('the frame budget', () => {
  it('frames are cut to the connected server limit', async () => {
    const s = await server({ maxBatchSize: 16_384 });
    const snd = await sender(confFor(s, 'auto_flush=off;'));
    writeTrades(snd, 0, 20_000);
    await snd.drain(10_000);
    expect(s.rows('trades')).toHaveLength(20_000);
    expect(s.stats().frames).toBeGreaterThan(10);
    expect(s.frames.every((f) => f.bytes <= 16_384 + 14)).toBe(true);
  });

  it('a stored frame larger than a later server accepts is reported undeliverable, not retried forever', async () => {
    const big = await server({ faults: { neverAck: true } });
    const dir = tempDir();
    const slot = `sf_dir=${dir};sender_id=budget;auto_flush=off;close_flush_timeout_millis=0;`;
    const first = await Sender.fromConfig(confFor(big, slot));
    writeTrades(first, 0, 20_000); // one frame of about 300 KiB
    const fsn = await first.flush();
    await first.close();
    expect(fsn).toBe(0);

    const small = await server({ maxBatchSize: 65_536 });
    const errors: Error[] = [];
    const second = await sender(confFor(small, slot), { on: { error: (e) => errors.push(e) } });
    await until(() => errors.length > 0, 5000, 'the undeliverable report');
    const err = errors[0] as UndeliverableFrameError;
    expect(err).toBeInstanceOf(UndeliverableFrameError);
    expect(err.fsn).toBe(0);
    expect(err.maxBatchSize).toBe(65_536);
    expect(err.frameBytes).toBeGreaterThan(65_536);
    expect(() => second.table('trades')).toThrow(UndeliverableFrameError);
    // Only the symbol catch-up went out: the frame itself was never sent, nor looped on.
    expect(small.frames.map((f) => f.tables.length)).toEqual([0]);
  });

  it("each frame's new symbols reach .symbol-dict once, also when the frame waited for room", async () => {
    const s = await server({ faults: { ackDelayMs: 200 } });
    const dir = tempDir();
    const snd = await sender(
      confFor(
        s,
        `sf_dir=${dir};sender_id=dict;sf_max_bytes=65536;sf_max_total_bytes=196608;auto_flush=off;`,
      ),
    );
    const expected: string[] = [];
    for (let batch = 0; batch < 40; batch++) {
      for (let i = 0; i < 200; i++) {
        const sym = `s${batch}-${i % 5}`;
        if (i < 5) expected.push(sym);
        snd
          .table('t')
          .symbol('sym', sym)
          .intColumn('v', i)
          .stringColumn('pad', 'x'.repeat(200))
          .at(1 + batch * 1000 + i, 'us');
      }
      await snd.flush().catch(() => {}); // a deadline error leaves the frames queued
    }
    await snd.drain(30_000);
    expect(snd.stats().backpressureStalls).toBeGreaterThan(0);
    const dict = inspectSymbolDict(`${dir}/dict/.symbol-dict`);
    expect(dict.entries).toEqual(expected);
    expect(s.rows('t')).toHaveLength(8000);
  });
});
