import { spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { FaultInjectingFiles } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { childScript, overriding, removeDir, tempDir, thrown } from './helpers.js';
import {
  BadDirectoryError,
  BadSenderIdError,
  SegmentIoError,
  SlotLock,
  SlotLockedError,
  slotDirectory,
  validateSenderId,
} from './internals.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => removeDir(dir));

describe('sender_id', () => {
  test.each(['default', 'ingest-1', 'A_b-9'])('accepts %s', (id) => {
    expect(() => validateSenderId(id)).not.toThrow();
  });
  test.each(['', '..', '.', 'a/b', '../x', 'a b', 'é', 'x'.repeat(256), 'a.b'])(
    'rejects %j',
    (id) => {
      expect(() => slotDirectory('/tmp', id)).toThrow(BadSenderIdError);
    },
  );
});

describe('SlotLock', () => {
  test('writes the holder PID to .lock.pid (the .lock itself stays empty) and releases on close', () => {
    const slot = join(dir, 's1');
    const lock = SlotLock.acquire(slot);
    expect(readFileSync(join(slot, '.lock.pid'), 'utf8')).toBe(`${process.pid}\n`);
    expect(readFileSync(join(slot, '.lock'), 'utf8')).toBe('');
    expect(lock.pidPath).toBe(join(slot, '.lock.pid'));
    // flock is per open file: a second open, even in this process, sees it held.
    expect(SlotLock.probe(slot)).toEqual({ held: true, pid: process.pid });
    lock.close();
    SlotLock.acquire(slot).close();
  });

  test('a failing flock in the probe is a SegmentIoError naming the lock file', () => {
    const slot = join(dir, 's1b');
    SlotLock.acquire(slot).close();
    const files = new FaultInjectingFiles(defaultFiles);
    files.inject('tryLock', { next: 1, code: 'ENOLCK' });
    let err: unknown;
    try {
      SlotLock.probe(slot, files);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegmentIoError);
    expect((err as SegmentIoError).errno).toBe('ENOLCK');
    expect((err as Error).message).toContain(join(slot, '.lock'));
    expect(SlotLock.probe(slot, files)).toEqual({ held: false, pid: process.pid });
  });

  test('a lock held for a moment (a probe) is retried; a lock still held after the retries is contention', () => {
    const slot = join(dir, 's1c');
    SlotLock.acquire(slot).close();
    let refusals = 0;
    let attempts = 0;
    const files = overriding(defaultFiles, {
      tryLock: (fd) => {
        attempts++;
        if (refusals === 0) return defaultFiles.tryLock(fd);
        refusals--;
        return false;
      },
    });
    refusals = 2; // a probe in another process let go during the second retry
    const lock = SlotLock.acquire(slot, { files });
    expect(attempts).toBe(3);
    lock.close();
    refusals = Number.POSITIVE_INFINITY;
    attempts = 0;
    const started = performance.now();
    expect(() => SlotLock.acquire(slot, { files })).toThrow(SlotLockedError);
    expect(attempts).toBe(6);
    expect(performance.now() - started).toBeLessThan(1000); // bounded: a few ms, never a hang
  });

  test('a live holder in another process is named by PID; the kernel frees it when it dies', async () => {
    const slot = join(dir, 's2');
    SlotLock.acquire(slot).close();
    const child = spawn(process.execPath, [childScript('hold-lock.mjs'), slot], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        child.on('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
      });
      let err: unknown;
      try {
        SlotLock.acquire(slot);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SlotLockedError);
      expect((err as SlotLockedError).holderPid).toBe(child.pid);
      expect((err as Error).message).toContain(String(child.pid));
      expect((err as Error).message).toContain(join(slot, '.lock'));
      expect(readFileSync(join(slot, '.lock.pid'), 'utf8').trim()).toBe(String(child.pid));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    SlotLock.acquire(slot).close();
  });

  test('a holder PID that cannot be read becomes the cause of the contention error', () => {
    const slot = join(dir, 's3');
    const held = SlotLock.acquire(slot);
    try {
      const files = new FaultInjectingFiles(defaultFiles);
      const onLock = { path: (p: string) => p.endsWith('.lock.pid'), code: 'EIO' };
      files.inject('pread', { next: 1, ...onLock });
      const err = thrown(() => SlotLock.acquire(slot, { files }));
      expect(err).toBeInstanceOf(SlotLockedError);
      expect((err as SlotLockedError).holderPid).toBeUndefined();
      const cause = (err as Error).cause as SegmentIoError;
      expect(cause).toBeInstanceOf(SegmentIoError);
      expect(cause.errno).toBe('EIO');
      expect(cause.message).toContain(join(slot, '.lock.pid'));
      // An inspection cannot report the holder either: it says why instead of guessing.
      files.inject('pread', { next: 1, ...onLock });
      expect(() => SlotLock.probe(slot, files)).toThrow(/cannot read the holder PID/);
    } finally {
      held.close();
    }
  });

  test("Java's logical lock: <sf_dir>/.slot-locks/<sender_id>.lock with its .lock.pid, held across a rename of the slot", () => {
    const sfDir = join(dir, 'sf');
    const logical = SlotLock.acquireLogical(sfDir, 'ingest-1');
    expect(logical.path).toBe(join(sfDir, '.slot-locks', 'ingest-1.lock'));
    expect(readFileSync(join(sfDir, '.slot-locks', 'ingest-1.lock.pid'), 'utf8')).toBe(
      `${process.pid}\n`,
    );
    // The slot's own lock is a different file: both can be held at once.
    const own = SlotLock.acquire(join(sfDir, 'ingest-1'));
    const err = thrown(() => SlotLock.acquireLogical(sfDir, 'ingest-1'));
    expect(err).toBeInstanceOf(SlotLockedError);
    expect((err as SlotLockedError).holderPid).toBe(process.pid);
    expect((err as Error).message).toContain(join(sfDir, '.slot-locks', 'ingest-1.lock'));
    own.close();
    renameSync(join(sfDir, 'ingest-1'), join(sfDir, 'ingest-1.unreplayable-0'));
    expect(() => SlotLock.acquireLogical(sfDir, 'ingest-1')).toThrow(SlotLockedError);
    logical.close();
    SlotLock.acquireLogical(sfDir, 'ingest-1').close();
    expect(() => SlotLock.acquireLogical(sfDir, '../x')).toThrow(BadSenderIdError);
  });

  test('sf_dir that is a file is a typed error naming it', () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    expect(() => SlotLock.acquire(join(file, 'slot'))).toThrow(BadDirectoryError);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});
