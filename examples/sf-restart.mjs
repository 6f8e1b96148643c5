// Store-and-forward: every row waits in files on disk until the server has
// acknowledged it, so it survives the server being down and this process
// dying. Run it twice:
//
//   node sf-restart.mjs --crash   # stores 1000 rows, then kills itself (kill -9)
//   node sf-restart.mjs           # replays what the first run left, adds 1000 rows
import { Sender } from '@qwp/sender';

const addr = process.env.QWP_ADDR ?? 'localhost:9000';
const sfDir = process.env.QWP_SF_DIR ?? './qwp-sf';
const crash = process.argv.includes('--crash');

// The slot is <sf_dir>/<sender_id>: give each producer its own sender_id and
// reuse it after a restart. initial_connect_retry=async starts the sender even
// while the server is down; frames then wait in the slot.
const sender = await Sender.fromConfig(
  `ws::addr=${addr};sf_dir=${sfDir};sender_id=sf-example;initial_connect_retry=async;`,
  { on: { error: (err) => console.error(`sender: ${err.message}`) } },
);

// A restarted sender recovers the slot and replays every frame above the last
// acknowledged one before anything new.
const { publishedFsn, ackedFsn } = sender.stats();
console.log(
  `recovered ${publishedFsn - ackedFsn} unacknowledged frame(s) from ${sfDir}/sf-example`,
);

const run = Date.now();
for (let i = 0; i < 1000; i++) {
  sender
    .table('readings')
    .symbol('run', String(run))
    .intColumn('seq', i)
    .floatColumn('value', Math.sin(i))
    .at(run * 1000 + i, 'us');
}
// Once flush() resolves the frames are in the slot's mmap'd files: a crash of
// this process loses none of them (sf_durability=flush would also sync them to
// the disk, to survive a power loss).
const fsn = await sender.flush();
console.log(`stored 1000 rows in frames up to FSN ${fsn}`);

if (crash) {
  console.log('crashing before the server acknowledged them');
  process.kill(process.pid, 'SIGKILL');
}

await sender.drain(60_000);
console.log('everything acknowledged');
// A fully acknowledged close removes the slot's files (only .lock and .lock.pid stay).
await sender.close();
