/**
 * Entry point of a sender's I/O worker thread: builds the loop from
 * workerData, feeds it the producer's messages, and lets the thread end
 * once the loop has stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from '../shared/messages.js';
import { IoLoop } from './io-loop.js';

const port = parentPort;
if (port === null) throw new Error('the QWP I/O worker must run in a worker_thread');
const loop = new IoLoop(workerData as WorkerInit, (message: FromWorker) =>
  port.postMessage(message),
);
port.on('message', (message: ToWorker) => loop.onMessage(message));
void loop.run().finally(() => port.close());
