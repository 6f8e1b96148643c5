import { GCProfiler } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { confFor, onCleanup, sender } from './helpers.js';

/** A throughput-mode test server on a worker thread: its allocations are not this isolate's. */
async function serverThread(): Promise<{ port: number }> {
  const w = new Worker(new URL('./fixtures/server-thread.mjs', import.meta.url), {
    workerData: { mode: 'throughput' },
    execArgv: [],
  });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  onCleanup(async () => {
    w.postMessage('close');
    await new Promise((r) => w.once('exit', r));
  });
  return { port };
}

const SYMBOLS = ['BTC-USD', 'ETH-USD', 'SOL-USD', 'XRP-USD'];

describe('the row API hot path', () => {
  it('at() returns no promise, and rows (auto-flushed every 1000) allocate nothing per row', async () => {
    const s = await serverThread();
    // One 64 MiB segment holds every frame: a fresh segment's buffer is not what is measured.
    const snd = await sender(confFor(s, 'auto_flush_interval=off;sf_max_bytes=64m;'));
    const write = (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        snd
          .table('trades')
          .symbol('sym', SYMBOLS[i & 3]!)
          .floatColumn('px', 100 + (i & 1023))
          .intColumn('qty', i)
          // A small-integer timestamp: a value past 2^30 would be boxed by this loop itself.
          .at(1000 + i, 'us');
      }
    };
    expect(snd.table('trades').intColumn('qty', 0).at(1, 'us')).toBeUndefined();
    write(0, 200_000); // warm: buffers grown, functions optimised
    await snd.drain(10_000);
    const profiler = new GCProfiler();
    profiler.start();
    let gcs: { gcType: string }[];
    try {
      write(200_000, 2_000_000);
    } finally {
      gcs = profiler.stop().statistics;
    }
    // 16 bytes per row would be 32 MB: several scavenges. Per-frame work may cause one or two.
    expect(gcs.filter((gc) => gc.gcType === 'Scavenge').length).toBeLessThanOrEqual(2);
    await snd.drain(20_000);
    expect(snd.stats().publishedFsn).toBeGreaterThanOrEqual(2000);
  }, 60_000);
});
