import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Crc32cImplementation,
  Crc32cRangeError,
  Crc32cTypeError,
  implementations,
  nativeLoadError,
} from '../src/index.js';
import { LONG_RUN, prng, testSeed } from './helpers.js';

// The 'js' kernel against the addon's kernels: the same CRC on every kind of
// memory, and the same outcome (value, or error class, code and message) for
// any arguments at all. Every other test file also runs 'js' through
// implementations(); this one compares it with native results directly.

const all = implementations();
const js = all.find((k) => k.name === 'js')!;
const natives = all.filter((k) => k !== js);

// Resizable and growable buffers are ES2024; the project's lib is ES2023.
const Resizable = ArrayBuffer as unknown as new (
  length: number,
  options: { maxByteLength: number },
) => ArrayBuffer & { resize(length: number): void };
const Growable = SharedArrayBuffer as unknown as new (
  length: number,
  options: { maxByteLength: number },
) => SharedArrayBuffer & { grow(length: number): void };

/** Fills `buffer` with bytes from `seed`. */
function fill(buffer: ArrayBufferLike, seed: number): void {
  const next = prng(seed);
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
}

/**
 * Memory of kind `kind` holding `size` bytes (rounded to the element size),
 * `skew` bytes into its buffer, and what it reads as (a copy, for the
 * expected value). Made fresh on each call.
 */
function memory(
  kind: number,
  size: number,
  skew: number,
  seed: number,
): ArrayBufferLike | ArrayBufferView {
  const shared = kind % 2 === 1;
  const make = (n: number) => {
    const b = shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n);
    fill(b, seed);
    return b;
  };
  switch (kind >> 1) {
    case 0:
      return make(size);
    case 1:
      return new Uint8Array(make(size + skew + 5), skew, size);
    case 2:
      return new DataView(make(size + skew + 5), skew, size);
    case 3:
      return new Uint16Array(make(2 * (size + skew) + 8), 2 * skew, size >> 1);
    case 4:
      return new Float64Array(make(8 * (skew + 1) + size), 8 * skew, size >> 3);
    case 5:
      return new BigInt64Array(make(8 * skew + size + 8), 8 * skew, size >> 3);
    case 6: {
      // Length-tracking views over memory that changed size after they were made.
      if (shared) {
        const g = new Growable(skew + 1, { maxByteLength: skew + size + 1 });
        const view = new Uint8Array(g, skew);
        g.grow(skew + size + 1);
        fill(g, seed);
        return view;
      }
      const r = new Resizable(skew + 2 * size + 1, { maxByteLength: skew + 2 * size + 1 });
      fill(r, seed);
      const view = new Uint8Array(r, skew);
      r.resize(skew + size);
      return view;
    }
    default:
      return shared
        ? new Uint8ClampedArray(make(size + skew), skew)
        : Buffer.from(make(size + skew), skew, size);
  }
}

/** The same bytes, copied into a fresh Uint8Array at offset 0 of its own buffer. */
function bytesOf(m: ArrayBufferLike | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(m)) return new Uint8Array(m.buffer, m.byteOffset, m.byteLength).slice();
  return new Uint8Array(m).slice();
}

const seed = testSeed(4242);

describe("the 'js' kernel", () => {
  it('exists beside the addon, listed first', () => {
    expect(all[0]).toBe(js);
    expect(nativeLoadError()).toBeUndefined();
    expect(natives.map((k) => k.name)).toContain('portable');
  });

  it(
    `gives every native kernel's CRC on every kind of memory, chained or whole (seed ${seed})`,
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 15 }),
          fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 70_000 })),
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.integer(),
          fc.tuple(
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.double({ min: 0, max: 1, noNaN: true }),
          ),
          (kind, size, skew, initial, fillSeed, [a, b]) => {
            const m = memory(kind, size, skew, fillSeed);
            const total = bytesOf(m).length;
            const offset = Math.floor(a * total);
            const length = Math.floor(b * (total - offset));
            const split = offset + Math.floor(a * length);
            const got = js.crc32cRange(m, offset, length, initial);
            const chained = js.crc32cRange(
              m,
              split,
              offset + length - split,
              js.crc32cRange(m, offset, split - offset, initial),
            );
            for (const k of natives) {
              const want = k.crc32cRange(m, offset, length, initial);
              expect(got, `${k.name}, kind ${kind}`).toBe(want);
            }
            expect(chained).toBe(got);
            if (m instanceof Uint8Array) {
              expect(js.crc32c(m, initial)).toBe(natives[0]!.crc32c(m, initial));
            }
          },
        ),
        { seed, numRuns: LONG_RUN ? 5_000 : 400 },
      );
    },
    LONG_RUN ? 300_000 : 20_000,
  );

  it('handles the lengths around its 16-byte blocks at every start', () => {
    const data = new Uint8Array(200);
    fill(data.buffer, 9);
    const portable = natives[0]!;
    for (let offset = 0; offset < 17; offset++) {
      for (let length = 0; offset + length <= data.length; length++) {
        const want = portable.crc32cRange(data, offset, length, 0x5a5a5a5a);
        if (js.crc32cRange(data, offset, length, 0x5a5a5a5a) !== want) {
          expect.fail(`offset ${offset} length ${length}`);
        }
      }
    }
  });
});

/** What a call did: its value, or its error's class, code and message. */
function outcome(call: () => number): string {
  try {
    return `returned ${call()}`;
  } catch (err) {
    if (!(err instanceof Crc32cTypeError || err instanceof Crc32cRangeError)) throw err;
    return `${err.constructor.name} ${err.code}: ${err.message}`;
  }
}

/** Unusual arguments, made fresh for each kernel: proxies, detached and out-of-bounds views, look-alikes. */
function oddArgument(kind: number, size: number): unknown {
  switch (kind) {
    case 0:
      return new Proxy(new SharedArrayBuffer(size), {});
    case 1:
      return new Proxy(new Uint8Array(size), { get: () => size });
    case 2: {
      const view = new Uint8Array(new ArrayBuffer(size + 8), 8);
      structuredClone(view.buffer, { transfer: [view.buffer] });
      return view;
    }
    case 3: {
      const dv = new DataView(new ArrayBuffer(size + 8), 4);
      structuredClone(dv.buffer, { transfer: [dv.buffer] });
      return dv;
    }
    case 4: {
      const rab = new Resizable(size + 16, { maxByteLength: 2 * size + 16 });
      const view = new Uint8Array(rab, 16, size);
      rab.resize(8);
      return view;
    }
    case 5:
      return Object.create(SharedArrayBuffer.prototype);
    case 6:
      return Object.defineProperty(new Uint8Array(size), 'length', { value: size + 100 });
    case 7:
      return new Uint8ClampedArray(size);
    case 8:
      return [1, 2, 3];
    case 9:
      return new Proxy([1, 2], {});
    default:
      return new DataView(new ArrayBuffer(size));
  }
}

describe('argument checks: exactly what the addon throws', () => {
  const numbers = fc.oneof(
    fc.integer({ min: -5, max: 80 }),
    fc.double(),
    fc.constantFrom(Number.NaN, -0, 2 ** 32, 2 ** 53, 1e-7, 1e21, 0.1, -(2 ** 31)),
  );
  type Recipe = { odd: [number, number] } | { value: unknown };
  const recipe: fc.Arbitrary<Recipe> = fc.oneof(
    numbers.map((value) => ({ value })),
    fc.tuple(fc.nat(10), fc.integer({ min: 0, max: 64 })).map((odd) => ({ odd })),
    fc.uint8Array({ maxLength: 70 }).map((value) => ({ value })),
    fc.anything().map((value) => ({ value })),
  );
  const build = (r: Recipe) => ('odd' in r ? oddArgument(...r.odd) : r.value);
  const portable = natives.find((k) => k.name === 'portable')!;

  it(
    `same value or same error for random arguments (seed ${seed})`,
    () => {
      fc.assert(
        fc.property(fc.array(recipe, { maxLength: 4 }), (recipes) => {
          const calls = (k: Crc32cImplementation) => [
            () => (k.crc32cRange as (...x: unknown[]) => number)(...recipes.map(build)),
            () => (k.crc32c as (...x: unknown[]) => number)(...recipes.slice(0, 2).map(build)),
          ];
          const want = calls(portable).map(outcome);
          expect(calls(js).map(outcome)).toEqual(want);
        }),
        { seed, numRuns: LONG_RUN ? 50_000 : 3_000 },
      );
    },
    LONG_RUN ? 300_000 : 20_000,
  );

  it('formats bad numbers as the C side does (%.17g)', () => {
    const bytes = new Uint8Array(4);
    for (const v of [0.1, -1, 1e-7, 123.456, 2 ** 32, 1e21, 1e300, -1e-300, 5e-324, Number.NaN]) {
      for (const [fn, call] of [
        ['initial', (k: Crc32cImplementation) => () => k.crc32c(bytes, v)],
        ['offset', (k: Crc32cImplementation) => () => k.crc32cRange(bytes, v, 0)],
        ['length', (k: Crc32cImplementation) => () => k.crc32cRange(bytes, 0, v)],
      ] as const) {
        expect(outcome(call(js)), `${fn} ${v}`).toBe(outcome(call(portable)));
      }
    }
  });
});
