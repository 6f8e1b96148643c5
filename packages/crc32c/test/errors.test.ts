import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Crc32cErrorCode,
  Crc32cRangeError,
  Crc32cTypeError,
  implementations,
} from '../src/index.js';
import { LONG_RUN, testSeed } from './helpers.js';

const bytes = new Uint8Array(16);
const nonBuffers: unknown[] = [
  undefined,
  null,
  0,
  'abc',
  Symbol('x'),
  10n,
  {},
  [1, 2, 3],
  () => 0,
  { buffer: new ArrayBuffer(4), byteLength: 4 },
];

function expectThrow(
  fn: () => unknown,
  cls: typeof Crc32cTypeError | typeof Crc32cRangeError,
  words: RegExp,
) {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(cls === Crc32cTypeError ? TypeError : RangeError);
  const e = caught as Crc32cTypeError | Crc32cRangeError;
  expect(e.code).toBe(
    cls === Crc32cTypeError ? Crc32cErrorCode.invalidArgType : Crc32cErrorCode.outOfRange,
  );
  expect(e.message).toMatch(words);
}

describe('bad arguments throw typed errors, never crash', () => {
  for (const impl of implementations()) {
    describe(impl.name, () => {
      it('crc32c rejects anything but a Uint8Array', () => {
        for (const v of nonBuffers) {
          expectThrow(() => impl.crc32c(v as Uint8Array), Crc32cTypeError, /crc32c: data/);
        }
        expectThrow(
          () => impl.crc32c(new Uint16Array(4) as never),
          Crc32cTypeError,
          /data must be a Uint8Array or Buffer, got a typed array other than Uint8Array/,
        );
        expectThrow(
          () => impl.crc32c(new ArrayBuffer(4) as never),
          Crc32cTypeError,
          /got an ArrayBuffer/,
        );
        expectThrow(() => impl.crc32c([1, 2] as never), Crc32cTypeError, /got an Array/);
        expectThrow(() => (impl.crc32c as () => number)(), Crc32cTypeError, /nothing/);
      });

      it('crc32cRange rejects non-buffers', () => {
        for (const v of nonBuffers) {
          expectThrow(
            () => impl.crc32cRange(v as ArrayBuffer, 0, 0),
            Crc32cTypeError,
            /crc32cRange: data/,
          );
        }
      });

      it('crc32cRange runs none of the caller JS: Proxies and look-alikes are refused', () => {
        let traps = 0;
        // A handler that is itself a Proxy counts every trap V8 looks up.
        const counting = new Proxy(
          {},
          {
            get: () => {
              traps++;
              return undefined;
            },
          },
        ) as ProxyHandler<object>;
        const lookAlikes: unknown[] = [
          new Proxy(new SharedArrayBuffer(16), counting),
          new Proxy(new Uint8Array(16), counting),
          new Proxy(new ArrayBuffer(16), counting),
          new Proxy({}, { getPrototypeOf: () => SharedArrayBuffer.prototype }),
          Object.create(SharedArrayBuffer.prototype),
          Object.assign(Object.create(SharedArrayBuffer.prototype), { length: 2 ** 31 }),
        ];
        for (const v of lookAlikes) {
          expectThrow(
            () => impl.crc32cRange(v as ArrayBuffer, 0, 0),
            Crc32cTypeError,
            /crc32cRange: data must be an ArrayBuffer, SharedArrayBuffer or ArrayBufferView, got object/,
          );
        }
        expect(traps).toBe(0);
        // Real shared memory still works, subclassed or growable.
        class Shared extends SharedArrayBuffer {}
        const shared = new Shared(16);
        new Uint8Array(shared).set(Uint8Array.from({ length: 16 }, (_, i) => i * 3));
        const want = impl.crc32c(new Uint8Array(shared));
        expect(impl.crc32cRange(shared, 0, 16)).toBe(want);
        // Growable shared memory is ES2024; the project's lib is ES2023.
        const Growable = SharedArrayBuffer as unknown as new (
          length: number,
          options: { maxByteLength: number },
        ) => SharedArrayBuffer & { grow(length: number): void };
        const growable = new Growable(8, { maxByteLength: 16 });
        growable.grow(16);
        new Uint8Array(growable).set(new Uint8Array(shared));
        expect(impl.crc32cRange(growable, 0, 16)).toBe(want);
      });

      it('offset and length must be in-range integers', () => {
        const bad: [number, number, RegExp][] = [
          [-1, 0, /offset/],
          [17, 0, /offset.*\[0, 16\].*17/],
          [0.5, 0, /offset/],
          [Number.NaN, 0, /offset/],
          [Number.POSITIVE_INFINITY, 0, /offset/],
          [2 ** 53, 0, /offset/],
          [0, -1, /length/],
          [0, 17, /length/],
          [10, 7, /length.*\[0, 6\]/],
          [0, 1.5, /length/],
          [0, Number.NaN, /length/],
          [0, Number.MAX_VALUE, /length/],
          [-0.1, 1, /offset/],
        ];
        for (const [offset, length, words] of bad) {
          expectThrow(() => impl.crc32cRange(bytes, offset, length), Crc32cRangeError, words);
        }
        expectThrow(
          () => impl.crc32cRange(bytes, '1' as never, 0),
          Crc32cTypeError,
          /offset must be a number/,
        );
        expectThrow(
          () => impl.crc32cRange(bytes, 0, undefined as never),
          Crc32cTypeError,
          /length/,
        );
        expectThrow(
          () => (impl.crc32cRange as (d: Uint8Array) => number)(bytes),
          Crc32cTypeError,
          /offset/,
        );
        expect(impl.crc32cRange(bytes, 16, 0)).toBe(0);
        expect(impl.crc32cRange(bytes, -0, 16)).toBe(impl.crc32c(bytes));
      });

      it('initial must be an unsigned 32-bit integer or undefined', () => {
        for (const v of [-1, 2 ** 32, 0.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
          expectThrow(() => impl.crc32c(bytes, v), Crc32cRangeError, /initial/);
          expectThrow(() => impl.crc32cRange(bytes, 0, 1, v), Crc32cRangeError, /initial/);
        }
        for (const v of [null, '1', {}, 1n]) {
          expectThrow(() => impl.crc32c(bytes, v as never), Crc32cTypeError, /initial/);
        }
        expect(impl.crc32c(bytes, undefined)).toBe(impl.crc32c(bytes));
        expect(impl.crc32c(bytes, 0xffffffff)).toBeTypeOf('number');
      });
    });
  }
});

/** Detaches `buffer` (every view over it then has length 0). */
function detach(buffer: ArrayBuffer): void {
  structuredClone(buffer, { transfer: [buffer] });
}

// Resizable buffers are ES2024; the project's lib is ES2023.
const Resizable = ArrayBuffer as unknown as new (
  length: number,
  options: { maxByteLength: number },
) => ArrayBuffer & { resize(length: number): void };

/** Values a hostile or careless caller might pass, made fresh for each run. */
function hostile(kind: number, size: number): unknown {
  switch (kind) {
    case 0:
      return new Proxy(new SharedArrayBuffer(size), {});
    case 1:
      return new Proxy(new Uint8Array(size), { get: () => size });
    case 2: {
      const view = new Uint8Array(new ArrayBuffer(size + 8), 8);
      detach(view.buffer);
      return view;
    }
    case 3: {
      // A view left out of bounds by shrinking its resizable buffer.
      const rab = new Resizable(size + 16, { maxByteLength: 2 * size + 16 });
      const view = new DataView(rab, 16, size);
      rab.resize(8);
      return view;
    }
    case 4: {
      const rab = new Resizable(size, { maxByteLength: 2 * size + 1 });
      const tracking = new Uint8Array(rab);
      rab.resize(2 * size + 1);
      return tracking;
    }
    case 5: {
      // valueOf that detaches: the addon must never call it.
      const view = new Uint8Array(size);
      return {
        valueOf() {
          detach(view.buffer);
          return 0;
        },
        view,
      };
    }
    default:
      return Object.assign(Object.create(SharedArrayBuffer.prototype), { length: size });
  }
}

describe('random arguments (seeded fuzz)', () => {
  const seed = testSeed(7100);
  const numbers = fc.oneof(
    fc.integer({ min: -5, max: 80 }),
    fc.double(),
    fc.constantFrom(Number.NaN, -0, 2 ** 32, 2 ** 53, Number.MAX_SAFE_INTEGER, -(2 ** 31)),
  );
  const datas = fc.oneof(
    fc.uint8Array({ maxLength: 70 }),
    fc.integer({ min: 0, max: 70 }).map((n) => new ArrayBuffer(n)),
    fc.integer({ min: 0, max: 70 }).map((n) => new SharedArrayBuffer(n)),
    fc.integer({ min: 0, max: 8 }).map((n) => new DataView(new ArrayBuffer(n * 8), n)),
    fc.integer({ min: 0, max: 8 }).map((n) => new BigInt64Array(n)),
    fc.tuple(fc.nat(6), fc.integer({ min: 0, max: 300 })).map(([k, n]) => hostile(k, n)),
    fc.anything(),
  );
  const arg = fc.oneof(
    numbers,
    fc.tuple(fc.nat(6), fc.integer({ min: 0, max: 300 })).map(([k, n]) => hostile(k, n)),
    fc.anything(),
  );

  it(
    `returns a uint32 or throws Crc32cTypeError/Crc32cRangeError (seed ${seed})`,
    () => {
      fc.assert(
        fc.property(datas, arg, arg, arg, fc.integer({ min: 0, max: 4 }), (d, a, b, c, argc) => {
          for (const impl of implementations()) {
            const all = [d, a, b, c].slice(0, argc);
            for (const call of [
              () => (impl.crc32cRange as (...x: unknown[]) => number)(...all),
              () => (impl.crc32c as (...x: unknown[]) => number)(...all.slice(0, 2)),
            ]) {
              try {
                const r = call();
                expect(Number.isInteger(r) && r >= 0 && r <= 0xffffffff).toBe(true);
              } catch (err) {
                if (!(err instanceof Crc32cTypeError || err instanceof Crc32cRangeError)) throw err;
              }
            }
          }
        }),
        { seed, numRuns: LONG_RUN ? 20_000 : 1_000 },
      );
    },
    LONG_RUN ? 300_000 : 20_000,
  );
});
