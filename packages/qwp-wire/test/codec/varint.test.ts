import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../src/codec/byte-reader.js';
import { MAX_VARINT_BYTES } from '../../src/codec/varint.js';
import {
  readVarint,
  VARINT_TOO_LONG,
  VARINT_TRUNCATED,
  varintSize,
  writeVarint,
} from '../../src/index.js';

describe('the shared varint reader', () => {
  const values = [0, 1, 127, 128, 300, 16383, 16384, 0x7fffffff, 2 ** 32, 2 ** 53 - 1];

  it.each(values)('%d round-trips, with its size, at an offset', (value) => {
    const buf = new Uint8Array(16).fill(0xee);
    const end = writeVarint(buf, 3, value);
    expect(end - 3).toBe(varintSize(value));
    const out = { value: -1 };
    expect(readVarint(buf, 3, buf.length, out)).toBe(end);
    expect(out.value).toBe(value);
  });

  it('reports a varint cut off by the limit, and one with no last byte in ten', () => {
    const buf = new Uint8Array([0x80, 0x80, 0x01]);
    const out = { value: 7 };
    expect(readVarint(buf, 0, 2, out)).toBe(VARINT_TRUNCATED);
    expect(out.value).toBe(7); // untouched on failure
    expect(readVarint(buf, 0, 3, out)).toBe(3);
    expect(out.value).toBe(16384);
    const endless = new Uint8Array(MAX_VARINT_BYTES + 1).fill(0x80);
    expect(readVarint(endless, 0, endless.length, out)).toBe(VARINT_TOO_LONG);
  });

  it('ByteReader.varint decodes through it and keeps its own bounds and messages', () => {
    const r = new ByteReader(new Uint8Array([0xac, 0x02, 0x80]));
    expect(r.varint('a')).toBe(300);
    expect(r.pos).toBe(2);
    expect(() => r.varint('b')).toThrow(/truncated varint b/);
    expect(() => new ByteReader(new Uint8Array(11).fill(0x80)).varint('c')).toThrow(
      /varint c longer than 10 bytes/,
    );
    expect(() =>
      new ByteReader(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x08])).varint('d'),
    ).toThrow(/exceeds int32/);
  });
});
