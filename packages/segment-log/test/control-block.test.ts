import { describe, expect, test } from 'vitest';
import { ControlBlock } from './internals.js';

describe('ControlBlock', () => {
  test('wake() makes a waiting reader return, and a wake before the wait is not lost', async () => {
    const control = new ControlBlock();
    const t0 = Date.now();
    const waiting = control.waitForPublish(-1, 5000);
    setTimeout(() => control.wake(), 20);
    expect(await waiting).toBe(-1);
    expect(Date.now() - t0).toBeLessThan(2000);
    control.wake();
    const t1 = Date.now();
    expect(await control.waitForPublish(-1, 5000)).toBe(-1);
    expect(Date.now() - t1).toBeLessThan(1000);
    const t2 = Date.now();
    expect(await control.waitForPublish(-1, 50)).toBe(-1); // consumed: this one times out
    expect(Date.now() - t2).toBeGreaterThanOrEqual(40);
  });

  test('starts at -1 and round-trips FSNs across the 32-bit boundary', () => {
    const c = new ControlBlock();
    expect(c.publishedFsn).toBe(-1);
    expect(c.ackedFsn).toBe(-1);
    for (const fsn of [
      0,
      1,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 2,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 40 + 5,
      2 ** 53 - 2,
    ]) {
      c.publish(fsn);
      expect(c.publishedFsn).toBe(fsn);
      c.acknowledge(fsn);
      expect(c.ackedFsn).toBe(fsn);
    }
  });

  test("a second view of the same buffer sees the first one's writes", () => {
    const a = new ControlBlock();
    a.publish(2 ** 33 + 7);
    const b = new ControlBlock(structuredClone(a.buffer));
    expect(b.buffer).toBeInstanceOf(SharedArrayBuffer);
    const c = new ControlBlock(a.buffer);
    expect(c.publishedFsn).toBe(2 ** 33 + 7);
    c.acknowledge(2 ** 33);
    expect(a.ackedFsn).toBe(2 ** 33);
    // A view made after a high-word change continues from it.
    c.publish(2 ** 33 + 8);
    expect(a.publishedFsn).toBe(2 ** 33 + 8);
  });

  test('acks never move back', () => {
    const c = new ControlBlock();
    c.acknowledge(10);
    c.acknowledge(3);
    expect(c.ackedFsn).toBe(10);
  });
});
