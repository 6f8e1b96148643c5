import { describe, expect, it } from 'vitest';
import { crc32c, crc32cRange, implementation, implementations, portable } from '../src/index.js';
import { referenceCrc32c } from './helpers.js';

const fill = (n: number, f: (i: number) => number) =>
  Uint8Array.from({ length: n }, (_, i) => f(i));

const VECTORS: [string, Uint8Array, number][] = [
  ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
  ['32 zero bytes', fill(32, () => 0), 0x8a9136aa],
  ['32 0xff bytes', fill(32, () => 0xff), 0x62a8ab43],
  ['0..31 ascending', fill(32, (i) => i), 0x46dd794e],
  ['31..0 descending', fill(32, (i) => 31 - i), 0x113fdb5c],
];

describe('check values', () => {
  it('the bitwise reference itself gives the published values', () => {
    for (const [, bytes, want] of VECTORS) expect(referenceCrc32c(bytes)).toBe(want);
  });

  for (const impl of implementations()) {
    for (const [label, bytes, want] of VECTORS) {
      it(`${impl.name}: ${label}`, () => {
        expect(impl.crc32c(bytes)).toBe(want);
        expect(impl.crc32cRange(bytes, 0, bytes.length)).toBe(want);
        expect(impl.crc32cRange(bytes.buffer, 0, bytes.length)).toBe(want);
      });
    }
  }

  it('the default exports give the check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32cRange(Buffer.from('xx123456789'), 2, 9)).toBe(0xe3069283);
  });

  it('empty input returns the initial value unchanged', () => {
    for (const impl of implementations()) {
      expect(impl.crc32c(new Uint8Array(0))).toBe(0);
      expect(impl.crc32c(new Uint8Array(0), 0xdeadbeef)).toBe(0xdeadbeef);
      expect(impl.crc32cRange(new ArrayBuffer(0), 0, 0, 7)).toBe(7);
    }
  });
});

describe('implementation selection', () => {
  it("lists 'js' first, then the addon's portable kernel, and uses the last (fastest) by default", () => {
    const all = implementations();
    expect(all.map((k) => k.name).slice(0, 2)).toEqual(['js', 'portable']);
    expect(portable).toBe(all[1]);
    if (process.env.QWP_CRC32C_PORTABLE !== '1' && process.env.QWP_CRC32C_JS !== '1') {
      expect(implementation()).toBe(all[all.length - 1]!.name);
    }
  });

  it('offers the hardware kernels this CPU advertises', async () => {
    const names = implementations().map((i) => i.name);
    if (process.arch === 'x64') {
      const { readFileSync } = await import('node:fs');
      let flags = '';
      try {
        flags = readFileSync('/proc/cpuinfo', 'utf8');
      } catch {
        return; // not Linux: nothing to compare against
      }
      if (/\bsse4_2\b/.test(flags)) expect(names).toContain('sse4.2');
      const vp = ['avx512f', 'avx512vl', 'vpclmulqdq', 'pclmulqdq'].every((f) =>
        new RegExp(`\\b${f}\\b`).test(flags),
      );
      if (vp) expect(names).toContain('sse4.2+vpclmulqdq');
      const ymm = ['avx2', 'vpclmulqdq', 'pclmulqdq', 'sse4_2'].every((f) =>
        new RegExp(`\\b${f}\\b`).test(flags),
      );
      if (ymm) expect(names).toContain('avx2+vpclmulqdq');
    }
  });
});

describe('chaining', () => {
  it('crc32c(b, crc32c(a)) equals crc32c(a ‖ b) at every split', () => {
    const data = fill(2000, (i) => (i * 131 + 7) & 0xff);
    for (const impl of implementations()) {
      const whole = impl.crc32c(data);
      for (let split = 0; split <= data.length; split += 37) {
        const a = data.subarray(0, split);
        const b = data.subarray(split);
        expect(impl.crc32c(b, impl.crc32c(a))).toBe(whole);
        expect(
          impl.crc32cRange(data, split, data.length - split, impl.crc32cRange(data, 0, split)),
        ).toBe(whole);
      }
    }
  });
});
