import { writeVarint } from './varint.js';

/**
 * Growable little-endian writer, reused across messages (the encoder's
 * scratch). Grows geometrically; `reset()` keeps the memory.
 */
export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Forgets the contents, keeps the capacity. */
  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Writes a uint8. */
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Writes a little-endian uint32. */
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /** Writes an int64 given as its two 32-bit halves. */
  i64Parts(hi: number, lo: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, lo >>> 0, true);
    this.view.setInt32(this.pos + 4, hi | 0, true);
    this.pos += 8;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^53. */
  varint(v: number): void {
    this.ensure(8);
    this.pos = writeVarint(this.buf, this.pos, v);
  }

  /** Writes `src` as is. */
  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Writes `len` then the bytes (names, symbol entries). */
  lengthPrefixed(src: Uint8Array): void {
    this.varint(src.length);
    this.bytes(src);
  }

  /** A copy of bytes `[from, to)`. */
  copy(from = 0, to = this.pos): Uint8Array {
    return this.buf.slice(from, to);
  }
}
