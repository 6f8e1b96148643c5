import { describe, expect, it } from 'vitest';
import { DurableWatermarks } from '../src/durable-watermarks.js';

describe('DurableWatermarks', () => {
  it('gives the highest uploaded seqTxn per table once, in first-commit order', () => {
    const d = new DurableWatermarks();
    d.record([{ name: 'a', seqTxn: 1n }], 10);
    d.record(
      [
        { name: 'b', seqTxn: 4n },
        { name: 'a', seqTxn: 2n },
      ],
      20,
    );
    d.record([{ name: 'a', seqTxn: 3n }], 30);
    expect(d.takeReady(5)).toEqual([]);
    expect(d.takeReady(20)).toEqual([
      { name: 'a', seqTxn: 2n },
      { name: 'b', seqTxn: 4n },
    ]);
    expect(d.takeReady(25)).toEqual([]);
    expect(d.takeReady(30)).toEqual([{ name: 'a', seqTxn: 3n }]);
    expect(d.takeReady(1000)).toEqual([]);
  });

  it('keeps working across the compaction of what it already gave', () => {
    const d = new DurableWatermarks();
    for (let i = 1; i <= 200; i++) {
      d.record([{ name: 't', seqTxn: BigInt(i) }], i);
      if (i % 3 === 0) expect(d.takeReady(i)).toEqual([{ name: 't', seqTxn: BigInt(i) }]);
    }
    expect(d.takeReady(200)).toEqual([{ name: 't', seqTxn: 200n }]);
  });
});
