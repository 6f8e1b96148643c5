// The smallest complete program: connect, write rows, wait for the server's
// acknowledgement, close.
//
//   qwp serve &          # or a QuestDB server with QWP on port 9000
//   node basic.mjs
import { Sender } from '@qwp/sender';

const addr = process.env.QWP_ADDR ?? 'localhost:9000';

// Connects before it resolves: a wrong address or password fails here.
const sender = await Sender.fromConfig(`ws::addr=${addr};`);

const now = Date.now();
sender
  .table('trades')
  .symbol('symbol', 'ETH-USD')
  .symbol('side', 'sell')
  .floatColumn('price', 2615.54)
  .intColumn('amount', 3)
  .at(now, 'ms');
sender
  .table('trades')
  .symbol('symbol', 'BTC-USD')
  .symbol('side', 'buy')
  .floatColumn('price', 39269.98)
  .intColumn('amount', 1)
  .at(now, 'ms');

// flush() hands the rows to the sender's I/O thread; drain() waits until the
// server has acknowledged (committed) everything flushed so far.
await sender.drain();
const { ackedFsn, framesSent } = sender.stats();
console.log(
  `2 rows acknowledged (${framesSent} frame(s) sent, acknowledged through FSN ${ackedFsn})`,
);

// close() flushes what is left and waits for its acknowledgement too.
await sender.close();
