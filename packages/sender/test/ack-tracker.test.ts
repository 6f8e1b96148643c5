import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../src/errors.js';
import { AckTracker } from '../src/worker/ack-tracker.js';

describe('AckTracker', () => {
  it('maps cumulative OKs past catch-up messages to FSNs', () => {
    const t = new AckTracker();
    t.sentWithoutFsn();
    t.sentWithoutFsn();
    for (let fsn = 40; fsn < 45; fsn++) t.sentFrame(fsn);
    expect(t.onOk(1)).toBe(-1); // only catch-up covered
    expect(t.onOk(2)).toBe(40);
    expect(t.onOk(6)).toBe(44);
  });

  it('treats an OK at or below the last one as covering nothing new', () => {
    const t = new AckTracker();
    for (let fsn = 0; fsn < 3; fsn++) t.sentFrame(fsn);
    expect(t.onOk(2)).toBe(2);
    expect(t.onOk(1)).toBe(-1);
    expect(t.onOk(2)).toBe(-1);
  });

  it('follows a gap in the FSNs (frames skipped) and catch-up sent mid-stream', () => {
    const t = new AckTracker();
    t.sentFrame(10);
    t.sentFrame(11);
    t.sentFrame(20); // 12..19 skipped
    t.sentWithoutFsn();
    t.sentFrame(21);
    expect(t.fsnAt(2)).toBe(20);
    expect(t.fsnAt(3)).toBe(20); // catch-up: the data frame before it
    expect(t.onOk(1)).toBe(11);
    expect(t.onOk(3)).toBe(20);
    expect(t.onOk(4)).toBe(21);
  });

  it('refuses an OK for a sequence never sent, and a negative one', () => {
    const t = new AckTracker();
    t.sentFrame(0);
    expect(() => t.onOk(1)).toThrow(ProtocolError);
    expect(() => t.onOk(-1)).toThrow(/sequence -1/);
    expect(t.onOk(0)).toBe(0);
  });

  it('starts over on reset (a new connection)', () => {
    const t = new AckTracker();
    t.sentFrame(5);
    expect(t.onOk(0)).toBe(5);
    t.reset();
    expect(t.sentCount).toBe(0);
    expect(() => t.onOk(0)).toThrow(ProtocolError);
    t.sentFrame(6);
    expect(t.onOk(0)).toBe(6);
  });

  it('keeps mapping correctly over many runs (pruned as it goes)', () => {
    const t = new AckTracker();
    let fsn = 0;
    let seq = 0;
    for (let run = 0; run < 5000; run++) {
      t.sentWithoutFsn();
      seq++;
      t.sentFrame(fsn++);
      seq++;
      expect(t.onOk(seq - 1)).toBe(fsn - 1);
    }
  });
});
