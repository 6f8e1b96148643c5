const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Payloads shorter than this are unmasked byte by byte. */
const WORD_THRESHOLD = 64;

/** Byte `k` (0-3, wire order) of a mask held as a big-endian 32-bit number. */
function maskByte(mask: number, k: number): number {
  return (mask >>> ((3 - (k & 3)) << 3)) & 0xff;
}

/**
 * Unmasks client payloads in place, 4 bytes at a time through a Uint32Array
 * view of the buffer's memory. The view is made once per ArrayBuffer (once per
 * socket read), never per frame.
 */
export class Unmasker {
  private memory: ArrayBufferLike | null = null;
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

  /**
   * XORs bytes [start, end) of `buf` with `mask` (the frame's 4 key bytes read
   * big-endian), the first byte with the key's first byte. A zero key is a no-op.
   */
  unmask(buf: Uint8Array, start: number, end: number, mask: number): void {
    if (mask === 0) return;
    let i = start;
    if (end - start >= WORD_THRESHOLD) {
      const base = buf.byteOffset;
      // Byte steps up to a 4-byte aligned address, then whole words.
      while (((base + i) & 3) !== 0) {
        buf[i] = buf[i]! ^ maskByte(mask, i - start);
        i++;
      }
      const phase = i - start;
      const b0 = maskByte(mask, phase);
      const b1 = maskByte(mask, phase + 1);
      const b2 = maskByte(mask, phase + 2);
      const b3 = maskByte(mask, phase + 3);
      const word = LITTLE_ENDIAN
        ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)
        : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
      if (buf.buffer !== this.memory) {
        this.memory = buf.buffer;
        this.words = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
      }
      const words = this.words;
      const last = (base + end) >>> 2;
      let w = (base + i) >>> 2;
      for (; w < last; w++) words[w] = words[w]! ^ word;
      i = w * 4 - base;
    }
    for (; i < end; i++) buf[i] = buf[i]! ^ maskByte(mask, i - start);
  }
}
