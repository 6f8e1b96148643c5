import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { fallocate, mappingStats, mmap, munmap, pageSize } from '../src/index.js';
import { prelude, tempDir } from './helpers.js';

/** Runs `prelude + script` in a worker; resolves with the first message it posts. */
function inWorker(script: string, workerData: unknown): Promise<unknown> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');\n${prelude}${script}`,
    { eval: true, workerData },
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error('worker timed out'));
    }, 10_000);
    worker.once('message', (msg) => {
      clearTimeout(timer);
      void worker.terminate().then(() => resolve(msg));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('worker_threads', () => {
  it('the addon loads in a worker, and a worker mapping and a main-thread mapping share bytes', async () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'shared.bin');
    const page = pageSize();
    const fd = openSync(file, 'w+');
    try {
      fallocate(fd, 0, 2 * page);
      const main = new Uint8Array(mmap(fd, 0, 2 * page, 'rw'));
      main.set([1, 2, 3, 4], page);
      const seen = await inWorker(
        `
        const fd = fs.openSync(workerData.file, 'r+');
        const view = new Uint8Array(b.mmap(fd, 0, 2 * b.pageSize(), true));
        const read = Array.from(view.subarray(b.pageSize(), b.pageSize() + 4));
        view.set([9, 8, 7], 10);
        b.munmap(view.buffer);
        fs.closeSync(fd);
        parentPort.postMessage({ read, length: view.length });
        `,
        { file },
      );
      expect(seen).toEqual({ read: [1, 2, 3, 4], length: 0 });
      expect(Array.from(main.subarray(10, 13))).toEqual([9, 8, 7]);
      munmap(main.buffer as ArrayBuffer);
    } finally {
      closeSync(fd);
      cleanup();
    }
  });

  it('a worker that exits with live mappings releases them, and the main thread keeps its own', async () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'exit.bin');
    const page = pageSize();
    const fd = openSync(file, 'w+');
    try {
      fallocate(fd, 0, page);
      const main = new Uint8Array(mmap(fd, 0, page, 'rw'));
      const before = mappingStats();
      await inWorker(
        `
        const fd = fs.openSync(workerData.file, 'r+');
        const kept = [];
        for (let i = 0; i < 8; i++) kept.push(new Uint8Array(b.mmap(fd, 0, b.pageSize(), true)));
        kept[0][0] = 99;
        parentPort.postMessage('mapped');
        `,
        { file },
      );
      const after = mappingStats();
      expect(after.mapped - before.mapped).toBe(8);
      // The worker's environment teardown runs the finalizers of what it left mapped.
      expect(after.unmappedByGc - before.unmappedByGc).toBe(8);
      expect(main[0]).toBe(99);
      main[1] = 5;
      expect(main[1]).toBe(5);
      munmap(main.buffer as ArrayBuffer);
    } finally {
      closeSync(fd);
      cleanup();
    }
  });
});
