import { existsSync, mkdtempSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type Advice,
  defaultFiles,
  type FileStat,
  type FilesFacade,
  type MapMode,
} from '@qwp/files-native';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openSlot, type Slot } from '../src/index.js';
import { LONG, payloadFor, payloadId, removeDir, rng, tempDir, testSeed } from './helpers.js';

/**
 * An OS crash loses the directory entries created, renamed or removed since
 * the last fsync of their directory. PowerLossFiles keeps those operations
 * and, at powerLoss(), undoes them newest first (a journaling file system
 * commits them in order, so what survives is a prefix). File contents are
 * kept: this tests directory durability only.
 */
type DirOp =
  | { kind: 'create'; dir: string; path: string }
  | { kind: 'rename'; dir: string; from: string; to: string }
  | { kind: 'unlink'; dir: string; path: string; stash: string };

class PowerLossFiles implements FilesFacade {
  private ops: DirOp[] = [];
  private stashes = 0;

  constructor(
    private readonly inner: FilesFacade,
    private readonly stashDir: string,
  ) {}

  /** Undoes every directory operation not yet made durable by an fsync of its directory. */
  powerLoss(): number {
    const n = this.ops.length;
    for (const op of this.ops.reverse()) {
      if (op.kind === 'create') unlinkSync(op.path);
      else if (op.kind === 'rename') renameSync(op.to, op.from);
      else renameSync(op.stash, op.path);
    }
    this.ops = [];
    return n;
  }

  open(path: string, flags: string, mode?: number): number {
    const creates = /[wax]/.test(flags) && !existsSync(path);
    const fd = this.inner.open(path, flags, mode);
    if (creates) this.ops.push({ kind: 'create', dir: dirname(path), path });
    return fd;
  }
  rename(from: string, to: string): void {
    this.inner.rename(from, to);
    this.ops.push({ kind: 'rename', dir: dirname(to), from, to });
  }
  unlink(path: string): void {
    // Kept aside (same file system) so a power loss can bring it back.
    const stash = join(this.stashDir, `unlinked-${this.stashes++}`);
    this.inner.rename(path, stash);
    this.ops.push({ kind: 'unlink', dir: dirname(path), path, stash });
  }
  fsyncDir(path: string): void {
    this.inner.fsyncDir(path);
    this.ops = this.ops.filter((op) => op.dir !== path.replace(/\/+$/, ''));
  }
  close(fd: number): void {
    this.inner.close(fd);
  }
  pread(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.pread(fd, buf, offset, length, position);
  }
  pwrite(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.pwrite(fd, buf, offset, length, position);
  }
  ftruncate(fd: number, length: number): void {
    this.inner.ftruncate(fd, length);
  }
  fsync(fd: number): void {
    this.inner.fsync(fd);
  }
  fstat(fd: number): FileStat {
    return this.inner.fstat(fd);
  }
  stat(path: string): FileStat {
    return this.inner.stat(path);
  }
  readdir(path: string): string[] {
    return this.inner.readdir(path);
  }
  mkdir(path: string, recursive: boolean): void {
    this.inner.mkdir(path, recursive);
  }
  fallocate(fd: number, offset: number, length: number): void {
    this.inner.fallocate(fd, offset, length);
  }
  mmap(fd: number, offset: number, length: number, mode: MapMode): ArrayBuffer {
    return this.inner.mmap(fd, offset, length, mode);
  }
  munmap(buf: ArrayBuffer): void {
    this.inner.munmap(buf);
  }
  msync(buf: ArrayBuffer, offset: number, length: number, sync: boolean): void {
    this.inner.msync(buf, offset, length, sync);
  }
  madvise(buf: ArrayBuffer, offset: number, length: number, advice: Advice): void {
    this.inner.madvise(buf, offset, length, advice);
  }
  tryLock(fd: number): boolean {
    return this.inner.tryLock(fd);
  }
  unlock(fd: number): void {
    this.inner.unlock(fd);
  }
  pageSize(): number {
    return this.inner.pageSize();
  }
}

const SEG = 512;
let sfDir: string;
let stashDir: string;
beforeEach(() => {
  sfDir = tempDir();
  stashDir = mkdtempSync(join(tmpdir(), 'qwp-seglog-stash-'));
});
afterEach(() => {
  removeDir(sfDir);
  removeDir(stashDir);
});

/**
 * A seeded walk of append / ack / service / clean reopen / power loss. After
 * every power loss the slot must open (no spare holding frames, no gap), hold
 * every un-acked frame once and in order, and continue FSNs where they were.
 * Acked frames may come back (their unlinks were not durable): at-least-once.
 */
function runPowerLoss(seed: number, steps: number, capSegments: number): number {
  const rand = rng(seed);
  const files = new PowerLossFiles(defaultFiles, stashDir);
  const open = () =>
    openSlot({
      sfDir,
      senderId: 'p',
      segmentSize: SEG,
      maxTotalBytes: SEG * capSegments,
      autoService: false,
      files,
    });
  let slot: Slot = open();
  let last = -1;
  let acked = -1;
  let undone = 0;
  const verify = () => {
    const r = slot.ring.reader(slot.ring.firstFsn);
    let expected = slot.ring.firstFsn;
    while (r.next()) {
      expect(r.fsn).toBe(expected++);
      expect(payloadId(r.payload())).toBe(r.fsn);
    }
    expect(expected).toBe(last + 1);
    expect(slot.ring.firstFsn).toBeLessThanOrEqual(acked + 1);
    expect(slot.ring.nextFsn).toBe(last + 1);
  };
  for (let step = 0; step < steps; step++) {
    const x = rand();
    if (x < 0.65) {
      const fsn = slot.ring.tryAppend(payloadFor(last + 1, 8 + ((last + 1) % 97)));
      if (fsn >= 0) last = fsn;
    } else if (x < 0.8) {
      if (last > acked) {
        acked = Math.min(last, acked + 1 + Math.floor(rand() * (last - acked)));
        slot.ring.acknowledge(acked);
      }
    } else if (x < 0.9) {
      slot.manager.service();
    } else if (x < 0.93) {
      slot.close();
      slot = open();
      acked = slot.ring.firstFsn - 1;
      verify();
    } else {
      slot.lock.close(); // the process dies with the machine...
      undone += files.powerLoss(); // ...and the directory loses what was not fsynced
      slot = open();
      acked = slot.ring.firstFsn - 1;
      verify();
    }
  }
  slot.close();
  return undone;
}

describe('power loss: only fsynced directory entries survive', () => {
  const seeds = LONG ? 10 : 2;
  const steps = LONG ? 3000 : 500;
  for (const cap of [6, 1]) {
    for (let k = 0; k < seeds; k++) {
      const seed = testSeed(0xd1a) + k;
      test(`seed ${seed}, cap of ${cap} segment(s)`, () => {
        const undone = runPowerLoss(seed, steps, cap);
        expect(undone).toBeGreaterThan(0); // some power losses really did undo something
      });
    }
  }
});
