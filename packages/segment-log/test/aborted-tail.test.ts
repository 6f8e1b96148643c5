import { defaultFiles } from '@qwp/files-native';
import { FaultInjectingFiles, InjectedFaultError } from '@qwp/files-native/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { qwpMessage, removeDir, rng, segmentsOnDisk, tempDir, testSeed } from './helpers.js';
import {
  findAbortedTail,
  isQwpDeferCommit,
  openSlot,
  readManifest,
  type Slot,
} from './internals.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const SEG = 256;
const DEFER = true;

/** A QWP frame whose body names the session and sequence that wrote it. */
function frame(defer: boolean, session = 0, seq = 0, body = 40): Uint8Array {
  const m = qwpMessage({ defer, body }); // 60 bytes a frame by default: three per segment
  m[12] = session;
  m[13] = seq;
  return m;
}

function open(options: { qwp?: boolean; files?: FaultInjectingFiles } = {}): Slot {
  return openSlot({
    sfDir,
    senderId: 's',
    segmentSize: SEG,
    autoService: false,
    qwp: options.qwp ?? true,
    files: options.files,
  });
}

function appendAll(slot: Slot, frames: Uint8Array[]): void {
  for (const f of frames) expect(slot.ring.tryAppend(f)).toBeGreaterThanOrEqual(0);
}

/** The frames the slot holds, as [fsn, deferred, session]. */
function frames(slot: Slot): [number, boolean, number][] {
  const out: [number, boolean, number][] = [];
  const r = slot.ring.reader(slot.ring.firstFsn);
  while (r.next()) {
    const p = r.payload();
    out.push([r.fsn, isQwpDeferCommit(p, 0, p.length), p[12]!]);
  }
  return out;
}

describe('isQwpDeferCommit', () => {
  test('only a positively identified QWP frame with FLAG_DEFER_COMMIT matches', () => {
    const at = (p: Uint8Array) => isQwpDeferCommit(p, 0, p.length);
    expect(at(qwpMessage({ defer: true }))).toBe(true);
    expect(at(qwpMessage({ defer: true, delta: { start: 0, symbols: ['a'] } }))).toBe(true);
    expect(at(qwpMessage({ delta: { start: 0, symbols: ['a'] } }))).toBe(false);
    expect(at(qwpMessage({ defer: true }).subarray(0, 11))).toBe(false); // shorter than a header
    const foreign = qwpMessage({ defer: true });
    foreign[3] = 0x32; // 'QWP2'
    expect(at(foreign)).toBe(false);
    const inside = new Uint8Array(64);
    const m = qwpMessage({ defer: true, body: 4 });
    inside.set(m, 7);
    expect(isQwpDeferCommit(inside, 7, m.length)).toBe(true);
  });
});

describe('an aborted DEFER_COMMIT tail is cut at recovery', () => {
  test('a trailing deferred group spanning segments is cut off the log; its FSNs are reused', () => {
    const slot = open();
    appendAll(slot, [frame(!DEFER), frame(DEFER), frame(DEFER), frame(!DEFER)]);
    appendAll(
      slot,
      Array.from({ length: 5 }, () => frame(DEFER)),
    );
    expect(slot.ring.segments().length).toBeGreaterThan(2); // the tail crosses rotations
    expect(findAbortedTail(slot.ring.segments(), isQwpDeferCommit)).toEqual({
      boundaryFsn: 3,
      fromFsn: 4,
      toFsn: 8,
    });
    slot.lock.close(); // crash mid-transaction
    const reopened = open();
    expect(reopened.report).toMatchObject({
      commitBoundaryFsn: 3,
      abortedTail: { fromFsn: 4, toFsn: 8, cutFrames: 5 },
      lastFsn: 3,
    });
    expect(reopened.ring.nextFsn).toBe(4);
    expect(frames(reopened).map(([f]) => f)).toEqual([0, 1, 2, 3]);
    // Everything the Java and Rust clients read agrees: the manifest's active segment ends at 3.
    const bounds = (readManifest(reopened.dir) as { bounds: { activeBase: number } }).bounds;
    const disk = segmentsOnDisk(reopened.dir).filter((s) => s.frames > 0);
    expect(disk.at(-1)!.baseSeq).toBe(bounds.activeBase);
    expect(disk.at(-1)!.baseSeq + disk.at(-1)!.frames).toBe(4);
    expect(reopened.ring.tryAppend(frame(!DEFER, 1))).toBe(4);
    reopened.close();
  });

  test('no tail when the last frame commits; an opaque log (no predicate) keeps every frame', () => {
    const slot = open();
    appendAll(slot, [frame(DEFER), frame(DEFER), frame(!DEFER)]);
    slot.lock.close();
    const a = open();
    expect(a.report).toMatchObject({ abortedTail: null, commitBoundaryFsn: 2, lastFsn: 2 });
    a.ring.tryAppend(frame(DEFER));
    a.lock.close();
    const b = open({ qwp: false });
    expect(b.report).toMatchObject({ abortedTail: null, commitBoundaryFsn: -1, lastFsn: 3 });
    b.lock.close();
    const c = open();
    expect(c.report).toMatchObject({
      abortedTail: { fromFsn: 3, toFsn: 3, cutFrames: 1 },
      lastFsn: 2,
    });
    c.close();
  });

  test('a non-QWP frame is a barrier, never part of the tail', () => {
    const slot = open();
    appendAll(slot, [frame(DEFER), new Uint8Array([1, 2, 3]), frame(DEFER), frame(DEFER)]);
    expect(slot.ring.lastFsnNotMatching(isQwpDeferCommit)).toBe(1);
    slot.lock.close();
    const reopened = open();
    expect(reopened.report.abortedTail).toEqual({ fromFsn: 2, toFsn: 3, cutFrames: 2 });
    reopened.close();
  });

  test('the acknowledged part of a tail stays (a server may commit a large group early); only the rest is cut', () => {
    const slot = open();
    const small = (d: boolean) => frame(d, 0, 0, 20); // five a segment: all in one
    appendAll(slot, [small(!DEFER), small(DEFER), small(DEFER), small(DEFER)]);
    slot.acknowledge(2);
    slot.lock.close();
    const reopened = open();
    expect(reopened.report).toMatchObject({
      ackedFsn: 2,
      abortedTail: { fromFsn: 1, toFsn: 3, cutFrames: 1 },
      lastFsn: 2,
    });
    reopened.close();
  });

  test('a whole log of deferred frames is cut to an empty active segment; FSNs continue at its base', () => {
    const slot = open();
    appendAll(
      slot,
      Array.from({ length: 3 }, () => frame(!DEFER)),
    ); // fills the first segment
    slot.acknowledge(2);
    appendAll(
      slot,
      Array.from({ length: 4 }, () => frame(DEFER)),
    );
    slot.lock.close();
    const reopened = open();
    expect(reopened.report).toMatchObject({
      ackedFsn: 2,
      abortedTail: { fromFsn: 3, toFsn: 6, cutFrames: 4 },
      frames: 0,
    });
    expect(reopened.ring.nextFsn).toBe(3);
    reopened.close();
  });

  test(`no number of further crashes lets a later commit follow an earlier session's deferred frames (seed ${testSeed(0x7a11)})`, () => {
    const rand = rng(testSeed(0x7a11));
    let slot = open();
    for (let session = 1; session <= 40; session++) {
      // Each session appends a few groups, the last one often left open, then dies.
      const groups = 1 + Math.floor(rand() * 3);
      for (let g = 0; g < groups; g++) {
        const deferred = Math.floor(rand() * 5);
        for (let i = 0; i < deferred; i++) slot.ring.tryAppend(frame(DEFER, session, i));
        const finish = g < groups - 1 || rand() < 0.4;
        if (finish) slot.ring.tryAppend(frame(!DEFER, session, deferred));
      }
      if (rand() < 0.3) slot.acknowledge(slot.ring.nextFsn - 1 - Math.floor(rand() * 3));
      slot.lock.close();
      slot = open();
      // Invariant: a deferred frame is only ever followed, up to the next commit, by frames of its own session.
      const held = frames(slot);
      for (let i = 0; i < held.length; i++) {
        const [, deferred, from] = held[i]!;
        if (!deferred) continue;
        for (let j = i + 1; j < held.length; j++) {
          expect(held[j]![2]).toBe(from);
          if (!held[j]![1]) break;
        }
      }
      // And the log never ends in a deferred frame after recovery (it was cut, or acknowledged).
      if (held.length > 0 && held.at(-1)![1])
        expect(held.at(-1)![0]).toBeLessThanOrEqual(slot.ring.ackedFsn);
    }
    slot.close();
  });

  test('a crash at any step of the cut (an injected failure in the middle) leaves a slot the next recovery finishes', () => {
    for (let nth = 1; nth <= 12; nth++) {
      removeDir(sfDir);
      sfDir = tempDir();
      const slot = open();
      appendAll(slot, [frame(!DEFER), frame(!DEFER)]);
      appendAll(
        slot,
        Array.from({ length: 9 }, () => frame(DEFER)),
      );
      slot.lock.close();
      const files = new FaultInjectingFiles(defaultFiles);
      for (const op of ['msync', 'fsync', 'pwrite'] as const) files.inject(op, { nth });
      try {
        open({ files }).close();
      } catch (err) {
        expect(
          err instanceof InjectedFaultError || (err as Error).cause instanceof InjectedFaultError,
        ).toBe(true);
      }
      const again = open();
      expect(again.report.lastFsn).toBe(1);
      expect(frames(again).every(([, d]) => !d)).toBe(true);
      expect(again.ring.tryAppend(frame(!DEFER, 2))).toBe(2);
      again.close();
    }
  });
});
