import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isQwpDeferCommit, openSlot, type Slot } from '../src/index.js';
import { removeDir, tempDir } from './helpers.js';

let sfDir: string;
beforeEach(() => {
  sfDir = tempDir();
});
afterEach(() => removeDir(sfDir));

const SEG = 256;

/** A QWP-shaped payload: 'QWP1', version 1, flags, 6 more header bytes, a body. */
function qwp(flags: number, bodyLength = 20): Uint8Array {
  const p = new Uint8Array(12 + bodyLength);
  p.set([0x51, 0x57, 0x50, 0x31, 1, flags]);
  return p;
}
const DEFER = 0x01;
const COMMIT = 0x08; // FLAG_DELTA_SYMBOL_DICT only: a commit-bearing frame

function open(uncommitted = true): Slot {
  return openSlot({
    sfDir,
    senderId: 's',
    segmentSize: SEG,
    autoService: false,
    uncommitted: uncommitted ? isQwpDeferCommit : undefined,
  });
}

function appendAll(slot: Slot, frames: Uint8Array[]): void {
  for (const f of frames) expect(slot.ring.tryAppend(f)).toBeGreaterThanOrEqual(0);
}

describe('isQwpDeferCommit', () => {
  test('only a positively identified QWP frame with FLAG_DEFER_COMMIT matches', () => {
    const at = (p: Uint8Array) => isQwpDeferCommit(p, 0, p.length);
    expect(at(qwp(DEFER))).toBe(true);
    expect(at(qwp(DEFER | COMMIT))).toBe(true);
    expect(at(qwp(COMMIT))).toBe(false);
    expect(at(qwp(DEFER).subarray(0, 11))).toBe(false); // shorter than a header
    const foreign = qwp(DEFER);
    foreign[3] = 0x32; // 'QWP2'
    expect(at(foreign)).toBe(false);
    const inside = new Uint8Array(40);
    inside.set(qwp(DEFER), 7);
    expect(isQwpDeferCommit(inside, 7, 32)).toBe(true);
  });
});

describe('aborted DEFER_COMMIT tail', () => {
  test('a trailing deferred group, spanning segments, is reported after a crash', () => {
    const slot = open();
    // commit, deferred x2, commit, then an aborted group of 5 deferred frames
    appendAll(slot, [qwp(COMMIT), qwp(DEFER), qwp(DEFER), qwp(COMMIT)]);
    appendAll(
      slot,
      Array.from({ length: 5 }, () => qwp(DEFER)),
    );
    expect(slot.ring.segments().length).toBeGreaterThan(1); // the tail crosses a rotation
    expect(slot.ring.lastFsnNotMatching(isQwpDeferCommit)).toBe(3);
    slot.lock.close(); // crash
    const reopened = open();
    expect(reopened.report.abortedTail).toEqual({ fromFsn: 4, toFsn: 8 });
    reopened.close();
  });

  test('no tail when the last frame commits; none reported without a predicate', () => {
    const slot = open();
    appendAll(slot, [qwp(DEFER), qwp(DEFER), qwp(COMMIT)]);
    slot.close();
    const a = open();
    expect(a.report.abortedTail).toBeNull();
    a.ring.tryAppend(qwp(DEFER));
    a.close();
    const b = open(false);
    expect(b.report.abortedTail).toBeNull();
    b.close();
    const c = open();
    expect(c.report.abortedTail).toEqual({ fromFsn: 3, toFsn: 3 });
    c.close();
  });

  test('a non-QWP frame is a barrier, never part of the tail', () => {
    const slot = open();
    appendAll(slot, [qwp(DEFER), new Uint8Array([1, 2, 3]), qwp(DEFER), qwp(DEFER)]);
    expect(slot.ring.lastFsnNotMatching(isQwpDeferCommit)).toBe(1);
    slot.close();
  });

  test('when every retained frame is deferred the boundary is below the first one', () => {
    const slot = open();
    appendAll(
      slot,
      Array.from({ length: 5 }, () => qwp(COMMIT)),
    ); // fills the first segment
    slot.ring.acknowledge(4);
    appendAll(slot, [qwp(DEFER), qwp(DEFER)]); // rotation drops the acked segment
    slot.close();
    const reopened = open();
    expect(reopened.ring.firstFsn).toBe(5);
    expect(reopened.ring.lastFsnNotMatching(isQwpDeferCommit)).toBe(4);
    expect(reopened.report.abortedTail).toEqual({ fromFsn: 5, toFsn: 6 });
    reopened.close();
  });
});
