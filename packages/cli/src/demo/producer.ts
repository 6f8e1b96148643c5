/**
 * The producer process of `qwp demo`: writes rows `demo(id, sym, px, qty, ts)`
 * with ids from `first` to `end - 1` through a store-and-forward sender and
 * reports to its parent over IPC. The parent SIGKILLs it once and starts
 * another from the last id it saw flushed.
 */
import { Sender } from '@qwp/sender';
import { demoRow, type ProducerReport } from './rows.js';

/** Rows between flush() calls: each flush is a point the demo can resume from. */
const ROWS_PER_FLUSH = 20_000;

async function produce(conf: string, first: number, end: number): Promise<void> {
  const send = (r: ProducerReport) => process.send?.(r);
  const sender = await Sender.fromConfig(conf, {
    on: { error: (err) => send({ type: 'error', message: err.message }) },
  });
  let written = first;
  const report = () => {
    const s = sender.stats();
    send({
      type: 'stats',
      written,
      publishedFsn: s.publishedFsn,
      ackedFsn: s.ackedFsn,
      storeBytes: s.storeBytes,
      connected: s.connected,
      replayed: s.framesReplayed,
    });
  };
  const timer = setInterval(report, 100);
  try {
    while (written < end) {
      const stop = Math.min(end, written + ROWS_PER_FLUSH);
      for (let id = written; id < stop; id++) {
        const r = demoRow(id);
        sender
          .table('demo')
          .symbol('sym', r.sym)
          .intColumn('id', id)
          .floatColumn('px', r.px)
          .intColumn('qty', r.qty)
          .at(r.ts, 'us');
      }
      written = stop;
      const fsn = await sender.flush();
      send({ type: 'flushed', id: stop - 1, fsn });
    }
    await sender.drain(120_000);
    report();
  } finally {
    clearInterval(timer);
    await sender.close();
  }
  send({ type: 'done' });
}

const [conf, firstText, endText] = process.argv.slice(2);
if (conf === undefined || firstText === undefined || endText === undefined) {
  process.stderr.write('usage: producer.js CONF FIRST_ID END_ID (started by qwp demo)\n');
  process.exitCode = 2;
} else {
  produce(conf, Number(firstText), Number(endText)).then(
    () => process.disconnect?.(),
    (err: unknown) => {
      process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      process.exitCode = 1;
      process.disconnect?.();
    },
  );
}
