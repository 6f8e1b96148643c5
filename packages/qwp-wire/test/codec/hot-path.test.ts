import { GCProfiler } from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QwpBatch, QwpEncoder } from '../../src/index.js';

const SYMBOLS = ['BTC-USD', 'ETH-USD', 'SOL-USD', 'XRP-USD', 'ADA-USD', 'DOT-USD', 'LTC-USD'];

function fill(batch: QwpBatch, rows: number): void {
  const t = batch.table('trades');
  for (let i = 0; i < rows; i++) {
    t.symbol('sym', SYMBOLS[i % SYMBOLS.length]!)
      .varcharColumn('note', `n${i % 3}`)
      .longColumn('qty', i)
      .doubleColumn('px', i / 8)
      .at(1_700_000_000_000_000_000n + BigInt(i), 'ns');
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('hot path', () => {
  it('UTF-8 encodes each distinct symbol once, and no string at all once the buffers are warm', () => {
    const encodeSpy = vi.spyOn(TextEncoder.prototype, 'encode');
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    fill(batch, 1000);
    enc.encode(batch.tables());
    batch.clear();
    const symbolCalls = encodeSpy.mock.calls
      .map(([s]) => s)
      .filter((s): s is string => s !== undefined && SYMBOLS.includes(s));
    expect(symbolCalls.sort()).toEqual([...SYMBOLS].sort());

    encodeSpy.mockClear();
    for (let b = 0; b < 3; b++) {
      fill(batch, 1000);
      enc.encode(batch.tables());
      batch.clear();
    }
    expect(encodeSpy).not.toHaveBeenCalled();
  });

  it('fixed and variable column storage grows geometrically and is kept after clear()', () => {
    const rows = 100_000;
    const batch = new QwpBatch();
    const t = batch.table('g');
    const fixed = new Set<ArrayBufferLike>();
    const variable = new Set<ArrayBufferLike>();
    for (let i = 0; i < rows; i++) {
      t.longColumn('v', i).varcharColumn('s', 'abcdefgh').atNow();
      fixed.add(t.columns[0]!.u8.buffer);
      variable.add(t.columns[1]!.data.buffer);
    }
    // Doubling from 64 values / 1 KiB: about log2(final / initial) reallocations.
    expect(fixed.size).toBeLessThanOrEqual(Math.ceil(Math.log2(rows / 64)) + 1);
    expect(variable.size).toBeLessThanOrEqual(Math.ceil(Math.log2((rows * 8) / 1024)) + 2);
    const fixedBuffer = t.columns[0]!.u8.buffer;
    const dataBuffer = t.columns[1]!.data.buffer;

    batch.clear();
    for (let i = 0; i < rows; i++) t.longColumn('v', i).varcharColumn('s', 'abcdefgh').atNow();
    expect(t.columns[0]!.u8.buffer).toBe(fixedBuffer);
    expect(t.columns[1]!.data.buffer).toBe(dataBuffer);
  });

  it('encodeEach hands out frames from one reused scratch buffer', () => {
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    const scratch = new Set<ArrayBufferLike>();
    for (let b = 0; b < 4; b++) {
      fill(batch, 500);
      enc.encodeEach(batch.tables(), (frame) => {
        scratch.add(frame.buffer);
      });
      batch.clear();
    }
    expect(scratch.size).toBe(1);
  });
});

describe('hot path allocation', () => {
  it('the row API and encodeEach allocate nothing per row (no young-generation GC over 2M rows)', () => {
    // Inputs made up front, so the loop itself creates nothing: the symbols are
    // interned strings, qty and px small integers (no boxed doubles), the
    // timestamps bigints from an array.
    const rows = 10_000;
    const ts: bigint[] = [];
    for (let i = 0; i < rows; i++) ts.push(1_700_000_000_000_000_000n + BigInt(i) * 1000n);
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    const sink = (): void => {};
    const fillAndEncode = (): void => {
      const t = batch.table('trades');
      for (let i = 0; i < rows; i++) {
        t.symbol('sym', SYMBOLS[i % SYMBOLS.length]!)
          .longColumn('qty', i)
          .doubleColumn('px', i)
          .booleanColumn('b', (i & 1) === 0)
          .at(ts[i]!, 'ns');
      }
      enc.encodeEach(batch.tables(), sink);
      batch.clear();
    };
    for (let b = 0; b < 20; b++) fillAndEncode();
    // V8's GC profiler records each GC synchronously: no wait for 'gc'
    // performance entries, which arrive asynchronously.
    const profiler = new GCProfiler();
    profiler.start();
    let gcs: { gcType: string }[];
    try {
      for (let b = 0; b < 200; b++) fillAndEncode();
    } finally {
      gcs = profiler.stop().statistics;
    }
    const minor = gcs.filter((gc) => gc.gcType === 'Scavenge');
    // 16 bytes per row would be 32 MB here: several scavenges. Per-batch
    // bookkeeping may cause one.
    expect(minor.length).toBeLessThanOrEqual(2);
  });
});
