import { describe, expect, it } from 'vitest';
import { implementations } from '../src/index.js';
import { randomBytes, referenceCrc32c } from './helpers.js';

const SIZE = 1500;

// The repository's lib settings carry no WebAssembly types; this is the part used.
const { Memory: WasmMemory } = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (d: {
        initial: number;
        maximum?: number;
        shared?: boolean;
      }) => { buffer: ArrayBuffer | SharedArrayBuffer };
    };
  }
).WebAssembly;
const source = randomBytes(SIZE, 42);

describe('crc32cRange on every kind of memory', () => {
  for (const impl of implementations()) {
    describe(impl.name, () => {
      const want = (offset: number, length: number) =>
        referenceCrc32c(source.subarray(offset, offset + length));

      it('ArrayBuffer', () => {
        const ab = source.slice().buffer;
        expect(impl.crc32cRange(ab, 5, 1000)).toBe(want(5, 1000));
      });

      it('SharedArrayBuffer, bare and through a view', () => {
        const sab = new SharedArrayBuffer(SIZE);
        new Uint8Array(sab).set(source);
        expect(impl.crc32cRange(sab, 9, 1200)).toBe(want(9, 1200));
        const view = new Uint8Array(sab, 100, 800);
        expect(impl.crc32cRange(view, 3, 700)).toBe(want(103, 700));
        expect(impl.crc32c(view)).toBe(want(100, 800));
      });

      it('Uint8Array with a byteOffset: offsets count from the view start', () => {
        const view = new Uint8Array(source.slice().buffer, 200, 1000);
        expect(impl.crc32cRange(view, 0, 1000)).toBe(want(200, 1000));
        expect(impl.crc32cRange(view, 17, 600)).toBe(want(217, 600));
        expect(() => impl.crc32cRange(view, 0, 1001)).toThrow(RangeError);
      });

      it('DataView and wider typed arrays count bytes', () => {
        const copy = source.slice().buffer;
        expect(impl.crc32cRange(new DataView(copy, 8, 1024), 4, 1000)).toBe(want(12, 1000));
        const f64 = new Float64Array(copy, 16, 100); // 800 bytes
        expect(impl.crc32cRange(f64, 0, 800)).toBe(want(16, 800));
        expect(() => impl.crc32cRange(f64, 0, 801)).toThrow(RangeError);
        const u16 = new Uint16Array(copy, 2, 10);
        expect(impl.crc32cRange(u16, 1, 19)).toBe(want(3, 19));
      });

      it('memory V8 does not own: WebAssembly.Memory, plain and shared', () => {
        // Like an mmap'd external ArrayBuffer, the backing store is a separate
        // reservation rather than a V8 heap allocation.
        for (const memory of [
          new WasmMemory({ initial: 1 }),
          new WasmMemory({ initial: 1, maximum: 2, shared: true }),
        ]) {
          const buffer = memory.buffer;
          new Uint8Array(buffer).set(source, 65536 - SIZE);
          expect(impl.crc32cRange(buffer, 65536 - SIZE + 10, 1400)).toBe(want(10, 1400));
          expect(() => impl.crc32cRange(buffer, 65536, 1)).toThrow(RangeError);
        }
      });

      it('Buffer from the shared pool reads only its own bytes', () => {
        const buf = Buffer.from('123456789');
        expect(buf.byteOffset === 0 && buf.buffer.byteLength === 9).toBe(false);
        expect(impl.crc32c(buf)).toBe(0xe3069283);
        expect(impl.crc32cRange(buf, 0, 9)).toBe(0xe3069283);
      });

      it('a detached buffer reads as empty, never crashes', () => {
        const ab = new ArrayBuffer(64);
        const view = new Uint8Array(ab, 8, 32);
        const dv = new DataView(ab, 4, 40);
        const wide = new Float64Array(ab, 0, 8);
        structuredClone(ab, { transfer: [ab] });
        expect(impl.crc32cRange(dv, 0, 0)).toBe(0);
        expect(() => impl.crc32cRange(dv, 0, 1)).toThrow(RangeError);
        expect(() => impl.crc32cRange(wide, 0, 1)).toThrow(RangeError);
        expect(ab.byteLength).toBe(0);
        expect(impl.crc32cRange(ab, 0, 0)).toBe(0);
        expect(() => impl.crc32cRange(ab, 0, 1)).toThrow(RangeError);
        expect(impl.crc32c(view)).toBe(0);
        expect(() => impl.crc32cRange(view, 0, 1)).toThrow(RangeError);
      });
    });
  }
});
