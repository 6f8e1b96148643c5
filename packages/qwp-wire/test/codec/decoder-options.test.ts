import { describe, expect, it } from 'vitest';
import {
  type DecodeOptions,
  decodeMessage,
  decodeMessageHeader,
  QwpDecodeError,
  SERVER_COMPATIBLE_DECODE_OPTIONS,
  Status,
  SymbolDictionary,
} from '../../src/index.js';
import { hex } from './hex.js';

/** A message with `flags`, `tables` and the payload given as hex; `extra` bytes follow the payload. */
function msg(flags: number, tables: number, payload: string, extra = ''): Uint8Array {
  const body = hex(payload);
  const tail = hex(extra);
  const out = new Uint8Array(12 + body.length + tail.length);
  out.set([0x51, 0x57, 0x50, 0x31, 1, flags]);
  const v = new DataView(out.buffer);
  v.setUint16(6, tables, true);
  v.setUint32(8, body.length, true);
  out.set(body, 12);
  out.set(tail, 12 + body.length);
  return out;
}

function rejection(bytes: Uint8Array, options: DecodeOptions = {}, dict?: SymbolDictionary) {
  try {
    decodeMessage(bytes, dict ?? null, options);
  } catch (err) {
    if (err instanceof QwpDecodeError) return err;
    throw err;
  }
  throw new Error('decoded without error');
}

const SERVER = SERVER_COMPATIBLE_DECODE_OPTIONS;
// Table "t", 1 row, column "c" LONG = 5.
const ONE_LONG = '01 74 01 01 01 63 05 00 05 00 00 00 00 00 00 00';

describe('decoder options (strict by default, server-compatible on request)', () => {
  it('D4: bytes after the last table block are rejected strictly, ignored server-compatibly', () => {
    const bytes = msg(0, 1, `${ONE_LONG} aa bb`);
    expect(rejection(bytes).reason).toMatch(/2 trailing bytes after the last table block/);
    const m = decodeMessage(bytes, null, SERVER);
    expect(m.tables[0]?.columns[0]?.values).toEqual([5n]);
  });

  it('D4: bytes after 12 + payload_length are rejected strictly, ignored server-compatibly', () => {
    const bytes = msg(0, 1, ONE_LONG, 'ff ff ff');
    expect(rejection(bytes).reason).toMatch(/3 bytes follow the declared payload/);
    expect(() => decodeMessageHeader(bytes)).toThrow(QwpDecodeError);
    expect(decodeMessageHeader(bytes, SERVER).payloadLength).toBe(hex(ONE_LONG).length);
    // The extra bytes are not read as table data: the block decodes as sent.
    expect(decodeMessage(bytes, null, SERVER).tables[0]?.rowCount).toBe(1);
    // A payload longer than the frame is still an error in both modes.
    const short = msg(0, 1, ONE_LONG).subarray(0, 20);
    expect(rejection(short, SERVER).reason).toMatch(/only 8 bytes follow the header/);
  });

  it('D5: reserved flag bits are rejected strictly, ignored server-compatibly', () => {
    for (const flag of [0x02, 0x10, 0x20, 0x40, 0x80]) {
      const bytes = msg(flag, 1, ONE_LONG);
      expect(rejection(bytes).reason).toMatch(/reserved flag bits/);
      expect(decodeMessage(bytes, null, SERVER).header.flags).toBe(flag);
    }
  });

  it('D3: an empty column name of a non-timestamp type decodes server-compatibly', () => {
    const bytes = msg(0, 1, '01 74 01 01 00 05 00 07 00 00 00 00 00 00 00');
    expect(rejection(bytes).reason).toMatch(/designated timestamp column has type LONG/);
    const col = decodeMessage(bytes, null, SERVER).tables[0]?.columns[0];
    expect(col).toMatchObject({ name: '', type: 0x05, values: [7n] });
  });

  it('D8: duplicate column names decode server-compatibly, in order', () => {
    const bytes = msg(
      0,
      1,
      '01 74 01 02 01 63 05 01 63 05 00 01 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00',
    );
    expect(rejection(bytes).reason).toMatch(/duplicate column 'c'/);
    const cols = decodeMessage(bytes, null, SERVER).tables[0]?.columns;
    expect(cols?.map((c) => [c.name, c.values[0]])).toEqual([
      ['c', 1n],
      ['c', 2n],
    ]);
  });

  it('E2: VARCHAR bytes that are not UTF-8 are rejected strictly, kept with U+FFFD otherwise', () => {
    // 1 row VARCHAR: offsets 0, 3; data 61 ff 62.
    const bytes = msg(0, 1, '01 74 01 01 01 76 0f 00 00 00 00 00 03 00 00 00 61 ff 62');
    expect(rejection(bytes).reason).toMatch(/value 0 is not valid UTF-8/);
    expect(decodeMessage(bytes, null, SERVER).tables[0]?.columns[0]?.values).toEqual(['a\ufffdb']);
  });

  it('E13: per-column SYMBOL dictionary entries that are not UTF-8 decode with U+FFFD', () => {
    // 1 row SYMBOL, per-column dictionary of 1 entry "\xc0", index 0.
    const bytes = msg(0, 1, '01 74 01 01 01 73 09 00 01 01 c0 00');
    expect(rejection(bytes).reason).toMatch(/dictionary entry 0 is not valid UTF-8/);
    expect(decodeMessage(bytes, null, SERVER).tables[0]?.columns[0]?.values).toEqual(['\ufffd']);
  });

  it('delta dictionary entries, table and column names stay UTF-8-checked server-compatibly', () => {
    expect(rejection(msg(0x08, 0, '00 01 01 c0'), SERVER).reason).toMatch(
      /symbol 0 is not valid UTF-8/,
    );
    expect(rejection(msg(0, 1, '01 ff 00 00'), SERVER).reason).toMatch(
      /table name is not valid UTF-8/,
    );
  });

  it('E1: the dictionary size limit is checked before the gap (PARSE_ERROR wins)', () => {
    const dict = new SymbolDictionary();
    // start 5 > size 0 (a gap) and start + count over the limit of 4.
    const both = msg(0x08, 0, '05 01 01 61');
    const err = rejection(both, { maxSymbolDictionarySize: 4 }, dict);
    expect(err.status).toBe(Status.PARSE_ERROR);
    expect(err.reason).toMatch(/would grow to 6 > 4/);
    // The gap alone is still DICTIONARY_GAP.
    expect(rejection(both, {}, dict).status).toBe(Status.DICTIONARY_GAP);
  });

  it('E3: an intermediate element-count product past int32 fails even when a later dim is 0', () => {
    // DOUBLE_ARRAY, 3 dims: 65536 x 65536 x 0.
    const bytes = msg(0, 1, '01 74 01 01 01 61 11 00 03 00 00 01 00 00 00 01 00 00 00 00 00');
    for (const options of [{}, SERVER]) {
      expect(rejection(bytes, options).reason).toMatch(/element count overflows int32/);
    }
    // The same zero-element shape with small dims is a valid empty array.
    const ok = msg(0, 1, '01 74 01 01 01 61 11 00 03 02 00 00 00 02 00 00 00 00 00 00 00');
    const arr = decodeMessage(ok, null).tables[0]?.columns[0]?.values[0];
    expect(arr).toMatchObject({ shape: [2, 2, 0] });
  });

  it('the preset is frozen and keeps the limits of the caller', () => {
    expect(Object.isFrozen(SERVER)).toBe(true);
    const big = msg(0, 1, ONE_LONG);
    expect(rejection(big, { ...SERVER, maxBatchSize: 4 }).reason).toMatch(/exceeds 4/);
  });
});
