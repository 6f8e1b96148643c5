import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFiles } from '@qwp/files-native';
import { FaultInjectingFiles, type FaultOp, InjectedFaultError } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  crashSlot,
  LONG,
  overriding,
  payloadFor,
  payloadId,
  removeDir,
  rng,
  segmentsOnDisk,
  tempDir,
  testSeed,
  yieldToEventLoop,
} from './helpers.js';
import { openSlot, type Slot } from './internals.js';

/**
 * A seeded random walk of append (rotating as segments fill) / ack (by the
 * ring, or by a worker through the control block) / trim / service / close /
 * reopen, with a simulated crash at every step, two ways:
 *  - after every step, the slot's files as they are at that instant (page
 *    cache included, which is what a killed process leaves) are copied aside
 *    and recovered there, while the walk goes on;
 *  - now and then the walk itself crashes: all in-memory state is dropped
 *    without closing anything (only the flock is let go, as the kernel
 *    would), sometimes with a half-written frame left behind, sometimes in
 *    the middle of an operation (an injected failure at a random syscall
 *    stands for the moment of death), and it carries on from the reopen.
 * After every reopen:
 *  - the acknowledged FSN recovery starts from (the persisted watermark or
 *    the segment floor) is never above what was really acknowledged;
 *  - every frame above it is present exactly once, in FSN order, with its
 *    own payload, and nothing was appended that we did not append;
 *  - no frame of a segment whose file was deleted comes back;
 *  - a clean close with everything acknowledged leaves a fresh slot (FSNs from 0).
 */

const SEG = 512;
const CRASH_OPS: FaultOp[] = [
  'unlink',
  'fallocate',
  'open',
  'mmap',
  'msync',
  'fsync',
  'pwrite',
  'ftruncate',
  'fsyncDir',
];

let sfDir: string;
let probeRoot: string;
beforeEach(() => {
  sfDir = tempDir();
  probeRoot = tempDir('qwp-seglog-probe-');
});
afterEach(() => {
  removeDir(sfDir);
  removeDir(probeRoot);
});

/**
 * The real file system minus directory fsyncs, for recovering the copies a
 * per-step crash probe makes: they stand for a process crash, which loses
 * nothing the page cache holds, so durability syscalls would only cost time.
 */
const probeFiles = overriding(defaultFiles, { fsyncDir: () => {} });

async function runTorture(
  seed: number,
  steps: number,
  capSegments = 6,
  inlineProvision = true,
): Promise<{ crashes: number; reopens: number; probes: number; rotations: number }> {
  const rand = rng(seed);
  const files = new FaultInjectingFiles(defaultFiles);
  const open = () =>
    openSlot({
      sfDir,
      senderId: 'torture',
      segmentSize: SEG,
      maxTotalBytes: SEG * capSegments,
      inlineProvision,
      autoService: false,
      files,
    });
  let slot: Slot = open();
  let last = -1; // last FSN whose append returned
  let acked = -1;
  let crashes = 0;
  let reopens = 0;
  let injectedCrashes = 0;
  let probes = 0;
  let rotations = 0;

  const deletedUpTo = (): number => {
    // Highest FSN below the oldest segment file with frames on disk: those frames were deleted.
    const bases = segmentsOnDisk(slot.dir).filter((s) => s.frames > 0);
    return bases.length > 0 ? bases[0]!.baseSeq - 1 : last;
  };

  const verify = (ring = slot.ring) => {
    const seen: number[] = [];
    const r = ring.reader(ring.firstFsn);
    while (r.next()) {
      expect(payloadId(r.payload())).toBe(r.fsn);
      expect(r.length).toBe(8 + (r.fsn % 97));
      seen.push(r.fsn);
    }
    const first = ring.firstFsn;
    expect(seen).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
    // Recovery never starts above what was acknowledged, and holds every frame above where it starts.
    expect(ring.ackedFsn).toBeLessThanOrEqual(acked);
    expect(first).toBeLessThanOrEqual(ring.ackedFsn + 1);
    expect(ring.nextFsn).toBe(last + 1);
  };

  const crash = (tornWrite: boolean) => {
    const active = slot.ring.activeSegment;
    if (tornWrite && active !== null && !active.isClosed) {
      const off = active.appendOffset;
      const n = Math.min(8 + Math.floor(rand() * 40), active.sizeBytes - off);
      for (let i = 0; i < n; i++) active.bytes[off + i] = 1 + Math.floor(rand() * 255);
    }
    const floor = deletedUpTo();
    // Drop every in-memory object; only the kernel's part of death is done for us.
    crashSlot(slot);
    files.clearFaults();
    slot = open();
    crashes++;
    reopens++;
    expect(slot.ring.firstFsn).toBeGreaterThan(floor);
    verify();
    acked = slot.ring.ackedFsn; // where the restarted producer's sender resumes
  };

  /** "What if the process died right now?": recovers a copy of the slot's files, the walk unaffected. */
  const probeCrash = () => {
    const copy = join(probeRoot, 'torture');
    mkdirSync(copy);
    for (const name of readdirSync(slot.dir)) {
      if (!name.startsWith('.lock')) copyFileSync(join(slot.dir, name), join(copy, name));
    }
    const floor = deletedUpTo();
    const probe = openSlot({
      sfDir: probeRoot,
      senderId: 'torture',
      segmentSize: SEG,
      maxTotalBytes: SEG * capSegments,
      autoService: false,
      files: probeFiles,
    });
    try {
      expect(probe.ring.firstFsn).toBeGreaterThan(floor);
      verify(probe.ring);
    } finally {
      probe.close();
      removeDir(copy);
    }
    probes++;
  };

  const trace = process.env.QWP_TORTURE_TRACE === '1';
  for (let step = 0; step < steps; step++) {
    if (step % 64 === 63) await yieldToEventLoop();
    const x = rand();
    if (trace) {
      const segs = slot.ring.segments().map((s) => `${s.baseSeq}+${s.frameCount}`);
      console.log(step, x.toFixed(3), 'last', last, 'acked', acked, segs.join(' '));
    }
    try {
      if (x < 0.02) {
        // Arm a failure at a random upcoming syscall: the process "dies" there.
        files.inject(CRASH_OPS[Math.floor(rand() * CRASH_OPS.length)]!, {
          nth: 1 + Math.floor(rand() * 3),
        });
      } else if (x < 0.64) {
        const base = slot.ring.activeSegment?.baseSeq;
        const fsn = slot.ring.tryAppend(payloadFor(last + 1, 8 + ((last + 1) % 97)));
        if (fsn >= 0) {
          expect(fsn).toBe(last + 1);
          last = fsn;
        }
        if (slot.ring.activeSegment?.baseSeq !== base) rotations++;
      } else if (x < 0.74) {
        if (last > acked) {
          acked = Math.min(last, acked + 1 + Math.floor(rand() * (last - acked)));
          slot.ring.acknowledge(acked);
        }
      } else if (x < 0.79) {
        // An ack as the I/O worker gives it: the shared word only; trim comes later.
        if (last > acked) {
          acked = Math.min(last, acked + 1 + Math.floor(rand() * (last - acked)));
          slot.ring.control.acknowledge(acked);
        }
      } else if (x < 0.83) {
        slot.ring.trim();
      } else if (x < 0.9) {
        slot.manager.service();
      } else if (x < 0.93) {
        files.clearFaults();
        const drained = slot.ring.ackedFsn >= slot.ring.publishedFsn;
        slot.close();
        slot = open();
        reopens++;
        if (drained) {
          // A fully drained close cleaned the slot up: it starts fresh.
          expect(slot.report.freshStart).toBe(true);
          last = -1;
          acked = -1;
        }
        verify();
        acked = slot.ring.ackedFsn;
      } else {
        crash(rand() < 0.5);
      }
    } catch (err) {
      // An injected failure mid-operation: treat it as the moment the process died.
      if (!isInjected(err)) throw err;
      injectedCrashes++;
      crash(rand() < 0.5);
    }
    probeCrash();
  }
  files.clearFaults();
  slot.close();
  if (LONG) console.log(`  of which mid-operation: ${injectedCrashes}`);
  return { crashes, reopens, probes, rotations };
}

function isInjected(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof InjectedFaultError) return true;
  }
  return false;
}

describe('torture: random operations with a simulated crash at every step', () => {
  const seeds = LONG ? 20 : 3;
  const steps = LONG ? 4000 : 400;
  // A recovery of the whole slot after every step is most of the cost: give loaded CI machines room.
  const timeout = LONG ? 900_000 : 60_000;
  for (let k = 0; k < seeds; k++) {
    const seed = testSeed(0x5eed) + k;
    test(
      `seed ${seed}`,
      async () => {
        const { crashes, reopens, probes, rotations } = await runTorture(seed, steps);
        if (LONG) console.log(`seed ${seed}: ${crashes} crashes, ${reopens} reopens`);
        expect(crashes).toBeGreaterThan(5);
        expect(reopens).toBeGreaterThan(crashes);
        expect(probes).toBe(steps); // a crash recovered after every single step
        expect(rotations).toBeGreaterThan(20);
      },
      timeout,
    );
  }
  // A cap of one segment: every rotation is a force-rotate of a fully-acked
  // segment, the window where FSNs must survive a crash.
  for (let k = 0; k < seeds; k++) {
    const seed = testSeed(0x51c1e) + k;
    const inline = k % 2 === 0;
    test(
      `seed ${seed}, single-segment cap, ${inline ? 'inline' : 'service-only'} provisioning`,
      async () => {
        const { crashes, reopens, probes, rotations } = await runTorture(seed, steps, 1, inline);
        expect(crashes).toBeGreaterThan(5);
        expect(reopens).toBeGreaterThan(crashes);
        expect(probes).toBe(steps);
        expect(rotations).toBeGreaterThan(0); // each one a force-rotate of a fully-acked segment
      },
      timeout,
    );
  }
});

test('the torture harness notices a lost frame (it can fail)', () => {
  const slot = openSlot({ sfDir, senderId: 'x', segmentSize: SEG, autoService: false });
  for (let i = 0; i < 3; i++) slot.ring.tryAppend(payloadFor(i, 8 + (i % 97)));
  const active = slot.ring.activeSegment!;
  active.bytes[24 + 8 + 8 + 3] = active.bytes[24 + 8 + 8 + 3]! ^ 0xff; // corrupt frame 1's payload
  slot.lock.close();
  const reopened = openSlot({ sfDir, senderId: 'x', segmentSize: SEG, autoService: false });
  expect(reopened.ring.nextFsn).toBe(1); // frames 1 and 2 are cut, so verify() would fail
  expect(reopened.report.tornTailBytes).toBeGreaterThan(0);
  reopened.close();
});
