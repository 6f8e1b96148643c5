import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fallocate, mappingStats, mmap, munmap, pageSize } from '../src/index.js';
import { tempDir } from './helpers.js';

const PAGE = pageSize();
let fd: number;
let cleanup: () => void;

beforeEach(() => {
  const t = tempDir();
  cleanup = t.cleanup;
  fd = openSync(join(t.dir, 'transfer.bin'), 'w+');
  fallocate(fd, 0, 2 * PAGE);
});
afterEach(() => {
  closeSync(fd);
  cleanup();
});

/** Runs `transfer`; a DataCloneError (newer Node) is as good as a copy. */
function tryTransfer(transfer: () => unknown): unknown {
  try {
    return transfer();
  } catch (err) {
    expect((err as Error).name).toBe('DataCloneError');
    return undefined;
  }
}

// If a mapping could move to another thread, this thread's munmap or
// finalizer would unmap memory the other thread still reads.
describe('a mapped buffer never leaves its thread', () => {
  it('structuredClone and postMessage with a transfer list copy it or refuse, never detach it', () => {
    const buf = mmap(fd, 0, 2 * PAGE, 'rw');
    new Uint8Array(buf)[5] = 42;
    const cloned = tryTransfer(() => structuredClone(buf, { transfer: [buf] }));
    if (cloned !== undefined) {
      expect(cloned).not.toBe(buf);
      expect(new Uint8Array(cloned as ArrayBuffer)[5]).toBe(42);
    }
    const { port1, port2 } = new MessageChannel();
    try {
      tryTransfer(() => port1.postMessage(buf, [buf]));
    } finally {
      port1.close();
      port2.close();
    }
    expect(buf.byteLength).toBe(2 * PAGE);
    expect(new Uint8Array(buf)[5]).toBe(42);
    const before = mappingStats().unmappedByCall;
    munmap(buf);
    expect(mappingStats().unmappedByCall).toBe(before + 1);
    expect(buf.byteLength).toBe(0);
  });
});
