import { GCProfiler } from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ColumnarColumn, QwpBatch, QwpEncoder } from '../../src/index.js';

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

  it('appendColumns and encodeEach allocate nothing per row (no young-generation GC over 2M rows)', () => {
    const rows = 10_000;
    const dictionary = [...SYMBOLS];
    const indices = Uint8Array.from({ length: rows }, (_, i) => i % SYMBOLS.length);
    const strings = Array.from(indices, (k) => SYMBOLS[k]!);
    const px = Float64Array.from({ length: rows }, (_, i) => i / 8);
    const qty = BigInt64Array.from({ length: rows }, (_, i) => BigInt(i));
    const ms = Float64Array.from({ length: rows }, (_, i) => 1_700_000_000_000 + i);
    const nulls = Uint8Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? 1 : 0));
    const ts = BigInt64Array.from(
      { length: rows },
      (_, i) => 1_700_000_000_000_000_000n + BigInt(i) * 1000n,
    );
    // Every per-row path: block copies, a masked column, a Float64Array
    // converted per row, both symbol forms, the designated timestamp.
    const columns: ColumnarColumn[] = [
      { name: 'sym', type: 'SYMBOL', values: { dictionary, indices } },
      { name: 'venue', type: 'SYMBOL', values: strings },
      { name: 'px', type: 'DOUBLE', values: px, nulls },
      { name: 'qty', type: 'LONG', values: qty },
      { name: 'at_ms', type: 'TIMESTAMP', values: ms, unit: 'ms' },
    ];
    const options = { timestamps: ts, unit: 'ns' } as const;
    const batch = new QwpBatch();
    const enc = new QwpEncoder(batch.symbols);
    const sink = (): void => {};
    const fillAndEncode = (): void => {
      batch.table('trades').appendColumns(columns, options);
      enc.encodeEach(batch.tables(), sink);
      batch.clear();
    };
    for (let b = 0; b < 20; b++) fillAndEncode();
    const profiler = new GCProfiler();
    profiler.start();
    let gcs: { gcType: string }[];
    try {
      for (let b = 0; b < 200; b++) fillAndEncode();
    } finally {
      gcs = profiler.stop().statistics;
    }
    const minor = gcs.filter((gc) => gc.gcType === 'Scavenge');
    expect(minor.length).toBeLessThanOrEqual(2);
  });
});
