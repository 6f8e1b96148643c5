// Failover: give several addresses. When the connection is lost the sender
// reconnects, to another address if the last one failed, and replays every
// frame the server had not acknowledged. The application only listens.
//
//   QWP_ADDR=db-a:9000,db-b:9000 node failover.mjs
import { setTimeout as sleep } from 'node:timers/promises';
import { Sender } from '@qwp/sender';

const addr = process.env.QWP_ADDR ?? 'localhost:9000,localhost:9001';

const sender = await Sender.fromConfig(`ws::addr=${addr};`, {
  // Listeners given here also see the first connection.
  on: {
    connected: (c) => console.log(`connected to ${c.host}:${c.port} (role ${c.role ?? 'none'})`),
    disconnected: (d) => console.log(`disconnected: ${d.reason}`),
    reconnected: (c) => console.log(`reconnected to ${c.host}:${c.port}`),
    failover: (f) => console.log(`failover: ${f.from} -> ${f.to}`),
    // Incidents the sender survived; a terminal error is also thrown by the next call.
    error: (err) => console.log(`sender: ${err.message}`),
  },
});

// 40 batches of 100 rows, one every 50 ms: about two seconds of traffic.
for (let batch = 0; batch < 40; batch++) {
  for (let i = 0; i < 100; i++) {
    const id = batch * 100 + i;
    sender
      .table('events')
      .intColumn('id', id)
      .floatColumn('value', id / 2)
      .at(Date.now(), 'ms');
  }
  await sender.flush();
  await sleep(50);
}

await sender.drain(30_000);
console.log(`4000 rows acknowledged after ${sender.stats().reconnects} reconnect(s)`);
await sender.close();
