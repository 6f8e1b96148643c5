/**
 * Child process of the sender-rss suite, so that RSS and garbage collection
 * are this run's alone (in the bench process, earlier suites' heap makes V8
 * collect more often and hides growth): connects a @qwp/sender to the
 * server on argv[2] ('memory' or 'sf' in argv[3]), writes argv[4] trades
 * rows with a flush every FLUSH_ROWS, samples process.memoryUsage() every
 * argv[5] flushes, drains, and prints the result as one JSON line.
 */

import { FLUSH_ROWS, openQwp, type QwpBuffer, qwpRow, trades } from './sender-peers.js';
import type { RssRun, RssSample } from './sender-rss.js';

function sample(rows: number): RssSample {
  const m = process.memoryUsage();
  return { rows, rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

const [port, kind, rowsArg, everyArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const sampleEvery = Number(everyArg);
const buffer: QwpBuffer = kind === 'sf' ? { kind: 'sf', durability: 'memory' } : { kind: 'memory' };
const d = trades();
const { sender, close } = await openQwp(Number(port), buffer);
try {
  const start = sample(0);
  const samples: RssSample[] = [];
  const t0 = process.hrtime.bigint();
  let flushes = 0;
  for (let i = 0; i < rows; ) {
    const end = Math.min(rows, i + FLUSH_ROWS);
    for (; i < end; i++) qwpRow(sender, d, i);
    await sender.flush();
    if (++flushes % sampleEvery === 0) samples.push(sample(i));
  }
  await sender.drain(120_000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  samples.push(sample(rows));
  const result: RssRun = { seconds, storeBytes: sender.stats().storeBytes, start, samples };
  console.log(JSON.stringify(result));
} finally {
  await close();
}
