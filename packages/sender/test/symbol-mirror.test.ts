import {
  decodeMessage,
  FLAG_DEFER_COMMIT,
  type GlobalSymbolDictionary,
  QwpBatch,
  QwpEncoder,
  SymbolDictionary,
} from '@qwp/qwp-wire';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../src/errors.js';
import { SymbolMirror } from '../src/worker/symbol-mirror.js';

function framesWithSymbols(batches: string[][]): {
  frames: Uint8Array[];
  dict: GlobalSymbolDictionary;
} {
  const batch = new QwpBatch();
  const encoder = new QwpEncoder(batch.symbols);
  const frames: Uint8Array[] = [];
  let ts = 0;
  for (const syms of batches) {
    for (const s of syms) batch.table('t').symbol('s', s).at(++ts, 'us');
    frames.push(...encoder.encode(batch.tables()));
    batch.clear();
  }
  return { frames, dict: batch.symbols };
}

describe('SymbolMirror', () => {
  it('learns symbols from frames and sends them back as catch-up the server accepts', () => {
    const { frames, dict } = framesWithSymbols([
      ['a', 'b'],
      ['b', 'c'],
      ['d', 'é漢'],
    ]);
    const mirror = new SymbolMirror();
    for (const f of frames) mirror.observe(f, 0, f.length);
    expect(mirror.size).toBe(dict.size);
    const catchUp = mirror.catchUpFrames(1, 34);
    expect(catchUp.length).toBeGreaterThan(1); // split to fit 34 bytes
    const server = new SymbolDictionary();
    for (const f of catchUp) {
      expect(f.length).toBeLessThanOrEqual(34);
      expect(f[5]! & FLAG_DEFER_COMMIT).toBe(FLAG_DEFER_COMMIT);
      const msg = decodeMessage(f, server);
      expect(msg.tables).toHaveLength(0);
    }
    // The server now knows every id, so a replayed frame decodes with the right strings.
    const last = decodeMessage(frames.at(-1)!, server);
    expect(last.tables[0]!.columns[0]!.values).toEqual(['d', 'é漢']);
  });

  it('starts from recovered symbols and ignores re-sent ids', () => {
    const { frames } = framesWithSymbols([['x', 'y']]);
    const mirror = new SymbolMirror(['x', 'y']);
    mirror.observe(frames[0]!, 0, frames[0]!.length);
    expect(mirror.size).toBe(2);
  });

  it('refuses a frame whose delta starts past what it knows (a gap)', () => {
    const { frames } = framesWithSymbols([['a'], ['b']]);
    const mirror = new SymbolMirror();
    expect(() => mirror.observe(frames[1]!, 0, frames[1]!.length)).toThrow(ProtocolError);
  });

  it('has no catch-up for an empty dictionary', () => {
    expect(new SymbolMirror().catchUpFrames(1, 1024)).toEqual([]);
  });

  it('refuses a symbol that cannot fit any frame', () => {
    const mirror = new SymbolMirror(['x'.repeat(100)]);
    expect(() => mirror.catchUpFrames(1, 64)).toThrow(/symbol 0/);
  });
});
