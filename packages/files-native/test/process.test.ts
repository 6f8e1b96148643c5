import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fallocate, mmap, munmap, pageSize, tryLock, unlock } from '../src/index.js';
import { exited, runChild, startChild, tempDir } from './helpers.js';

const PAGE = pageSize();
let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

describe('a mapping is shared with other processes', () => {
  it('what a child writes through its mapping, the parent reads through its own', () => {
    const file = join(dir, 'from-child.bin');
    const child = runChild(
      `
      const fd = fs.openSync(process.argv[1], 'w+');
      b.fallocate(fd, 0, 2 * b.pageSize());
      const view = new Uint8Array(b.mmap(fd, 0, 2 * b.pageSize(), true));
      for (let i = 0; i < view.length; i++) view[i] = (i * 13 + 1) & 0xff;
      b.msync(view.buffer, 0, view.length, true);
      b.munmap(view.buffer);
      fs.closeSync(fd);
      `,
      [file],
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const fd = openSync(file, 'r');
    try {
      const view = new Uint8Array(mmap(fd, 0, 2 * PAGE, 'r'));
      let mismatches = 0;
      for (let i = 0; i < view.length; i++) if (view[i] !== ((i * 13 + 1) & 0xff)) mismatches++;
      expect(mismatches).toBe(0);
      munmap(view.buffer as ArrayBuffer);
    } finally {
      closeSync(fd);
    }
  });

  it('what the parent writes through its mapping, a child reads through its own', () => {
    const file = join(dir, 'from-parent.bin');
    const fd = openSync(file, 'w+');
    try {
      fallocate(fd, 0, PAGE);
      const view = new Uint8Array(mmap(fd, 0, PAGE, 'rw'));
      view.set(Buffer.from('hello from the parent'), 64);
      // No msync: a MAP_SHARED store is visible to other mappers at once.
      const child = runChild(
        `
        const fd = fs.openSync(process.argv[1], 'r');
        const view = new Uint8Array(b.mmap(fd, 0, b.pageSize(), false));
        process.stdout.write(Buffer.from(view.subarray(64, 85)).toString());
        b.munmap(view.buffer);
        `,
        [file],
      );
      expect(child.stdout).toBe('hello from the parent');
      munmap(view.buffer as ArrayBuffer);
    } finally {
      closeSync(fd);
    }
  });
});

describe('flock across processes', () => {
  it('a child holding the lock makes tryLock false; after SIGKILL the parent gets it', async () => {
    const file = join(dir, '.lock');
    writeFileSync(file, '');
    const child = await startChild(
      `
      const fd = fs.openSync(process.argv[1], 'r+');
      if (!b.tryLock(fd)) { console.error('child could not lock'); process.exit(3); }
      process.stdout.write('ready');
      setInterval(() => {}, 1000);
      `,
      [file],
    );
    const fd = openSync(file, 'r+');
    try {
      expect(tryLock(fd)).toBe(false);
      expect(tryLock(fd)).toBe(false);
      child.kill('SIGKILL');
      await exited(child);
      expect(child.signalCode).toBe('SIGKILL');
      expect(tryLock(fd)).toBe(true);
      // Re-locking what we hold is allowed by flock; unlocking lets another fd in.
      expect(tryLock(fd)).toBe(true);
      const other = openSync(file, 'r');
      try {
        expect(tryLock(other)).toBe(false);
        unlock(fd);
        expect(tryLock(other)).toBe(true);
      } finally {
        closeSync(other);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      closeSync(fd);
    }
  });
});
