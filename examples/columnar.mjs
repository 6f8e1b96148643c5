// Columnar bulk load: data already in typed arrays goes in with one call per
// chunk and no per-row JavaScript; fixed-width columns are block copies.
//
//   node columnar.mjs
import { Sender } from '@qwp/sender';

const addr = process.env.QWP_ADDR ?? 'localhost:9000';
const ROWS = 200_000;
const CHUNK = 50_000;
const SENSORS = ['s-01', 's-02', 's-03', 's-04'];

// Auto-flush off: each chunk is flushed explicitly (the encoder still splits
// it into frames that fit the server's batch size).
const sender = await Sender.fromConfig(`ws::addr=${addr};auto_flush=off;`);

// One set of arrays, refilled per chunk: columns() copies what it is given.
const timestamps = new BigInt64Array(CHUNK); // designated timestamps, µs
const sensor = new Uint8Array(CHUNK); // indices into SENSORS
const temperature = new Float64Array(CHUNK);
const missing = new Uint8Array(CHUNK); // one byte per row, non-zero = null
const count = new BigInt64Array(CHUNK);

const t0 = BigInt(Date.now()) * 1000n;
const started = performance.now();
for (let start = 0; start < ROWS; start += CHUNK) {
  for (let i = 0; i < CHUNK; i++) {
    const row = start + i;
    timestamps[i] = t0 + BigInt(row);
    sensor[i] = row % SENSORS.length;
    temperature[i] = 20 + (row % 100) / 10;
    missing[i] = row % 10 === 9 ? 1 : 0; // every tenth reading is null
    count[i] = BigInt(row);
  }
  sender.columns(
    'measurements',
    [
      { name: 'sensor', type: 'SYMBOL', values: { dictionary: SENSORS, indices: sensor } },
      { name: 'temperature', type: 'DOUBLE', values: temperature, nulls: missing },
      { name: 'count', type: 'LONG', values: count },
    ],
    { timestamps, unit: 'us' },
  );
  await sender.flush();
}

await sender.drain(60_000);
const seconds = (performance.now() - started) / 1000;
console.log(`${ROWS} rows acknowledged in ${seconds.toFixed(2)} s`);
await sender.close();
