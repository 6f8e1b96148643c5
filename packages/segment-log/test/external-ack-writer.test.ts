import { afterEach, describe, expect, it } from 'vitest';
import { crashSlot, payloadFor, removeDir, slotFiles, tempDir } from './helpers.js';
import { AckWatermark, openSlot, readAckWatermark } from './internals.js';

// openSlot({ ackWrittenElsewhere }): a sender's I/O worker records each ACK
// in .ack-watermark through its own mapping before publishing it in the
// control block; the slot then syncs the watermark but never writes it
// while that writer runs, and continues its generations at close.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function slotIn(dir: string) {
  return openSlot({
    sfDir: dir,
    senderId: 's',
    segmentSize: 4096,
    autoService: false,
    ackWrittenElsewhere: true,
  });
}

describe('an ACK written by another mapping of .ack-watermark', () => {
  it('is what a crash leaves: recorded the moment the other writer wrote it', () => {
    const dir = tempDir();
    dirs.push(dir);
    const slot = slotIn(dir);
    for (let i = 0; i < 20; i++) slot.ring.tryAppend(payloadFor(i, 500));
    const worker = AckWatermark.open(slot.dir);
    worker.write(7);
    slot.ring.control.acknowledge(7);
    // No acknowledge() on the producer side at all, then a crash.
    worker.close();
    crashSlot(slot);
    expect(readAckWatermark(`${dir}/s`)).toMatchObject({ kind: 'valid', ackedFsn: 7 });
    const again = slotIn(dir);
    expect(again.report.ackedFsn).toBe(7);
    again.close();
  });

  it('the slot trims on acknowledge() without writing a record, and close continues the generations', () => {
    const dir = tempDir();
    dirs.push(dir);
    const slot = slotIn(dir);
    for (let i = 0; i < 40; i++) slot.ring.tryAppend(payloadFor(i, 500));
    const worker = AckWatermark.open(slot.dir);
    const before = worker.generation;
    for (let fsn = 0; fsn <= 20; fsn++) {
      worker.write(fsn);
      slot.ring.control.acknowledge(fsn);
    }
    const trimmed = slot.acknowledge();
    expect(trimmed).toBeGreaterThan(0);
    // Only the worker's 21 records were written: the slot added none.
    const state = readAckWatermark(slot.dir);
    expect(state).toMatchObject({ kind: 'valid', ackedFsn: 20, generation: before + 21 });
    worker.close();
    slot.ring.control.acknowledge(25);
    slot.close(); // not drained: records 25 as the next generation after the worker's
    expect(readAckWatermark(`${dir}/s`)).toMatchObject({
      kind: 'valid',
      ackedFsn: 25,
      generation: before + 22,
    });
    expect(slotFiles(`${dir}/s`)).toContain('.ack-watermark');
  });
});
