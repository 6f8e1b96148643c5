import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fallocate,
  fsyncDir,
  madvise,
  mappingStats,
  mmap,
  msync,
  munmap,
  pageSize,
  tryLock,
  unlock,
} from '../src/index.js';
import { seed, tempDir } from './helpers.js';

const RUNS = process.env.QWP_TEST_LONG === '1' ? 20_000 : 500;
const PAGE = pageSize();
let fd: number;
let cleanup: () => void;

beforeAll(() => {
  const t = tempDir();
  cleanup = t.cleanup;
  fd = openSync(join(t.dir, 'fuzz.bin'), 'w+');
  fallocate(fd, 0, 8 * PAGE);
});
afterAll(() => {
  closeSync(fd);
  cleanup();
});

/** Asserts a thrown value is one of the documented error shapes. */
function expectTypedError(err: unknown): void {
  expect(err).toBeInstanceOf(Error);
  const code = (err as { code?: unknown }).code;
  expect(typeof code).toBe('string');
  if (err instanceof TypeError || err instanceof RangeError) {
    expect(code).toMatch(/^ERR_/);
  } else if (code !== 'ERR_QWP_FILES_INVALID_STATE') {
    expect(code).toMatch(/^E[A-Z]+$/);
    expect((err as { errno?: unknown }).errno).toBeLessThan(0);
    expect(typeof (err as { syscall?: unknown }).syscall).toBe('string');
  }
}

// Numbers near the edges, plus anything at all.
const edgy = fc.oneof(
  fc.constantFrom(0, 1, -1, PAGE, 8 * PAGE, 8 * PAGE + 1, 2 ** 31, 2 ** 53, Number.NaN, -0, 0.5),
  fc.integer({ min: -2 * PAGE, max: 16 * PAGE }),
  fc.double(),
  fc.anything(),
);

// fds: ours, or values that cannot be an fd this process has open (never lock or map a stranger's).
const fdLike = fc.oneof(
  fc.constant(-1),
  fc.integer({ min: 1_000_000, max: 2 ** 31 - 1 }),
  fc.integer({ max: -1 }),
  fc.double().filter((d) => !Number.isInteger(d) || d < 0 || d >= 1_000_000),
  fc.anything().filter((v) => typeof v !== 'number'),
);

describe('random arguments never crash the process', () => {
  it('mmap returns a buffer (which munmap then empties) or throws a typed error', () => {
    const before = mappingStats();
    let mapped = 0;
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(fd), fdLike),
        edgy,
        edgy,
        fc.oneof(fc.constantFrom('r', 'rw'), fc.anything()),
        (f, offset, length, mode) => {
          let buf: ArrayBuffer | undefined;
          try {
            buf = mmap(f as number, offset as number, length as number, mode as 'r');
          } catch (err) {
            expectTypedError(err);
            return;
          }
          mapped++;
          expect(buf.byteLength).toBe(length);
          munmap(buf);
          expect(buf.byteLength).toBe(0);
        },
      ),
      { seed, numRuns: RUNS },
    );
    const after = mappingStats();
    expect(after.mapped - before.mapped).toBe(mapped);
    expect(after.unmappedByCall - before.unmappedByCall).toBe(mapped);
  });

  it('msync and madvise on a live mapping succeed in range or throw a typed error', () => {
    const buf = mmap(fd, 0, 8 * PAGE, 'rw');
    try {
      fc.assert(
        fc.property(edgy, edgy, fc.anything(), (offset, length, extra) => {
          const inRange =
            Number.isInteger(offset) &&
            Number.isInteger(length) &&
            (offset as number) >= 0 &&
            (length as number) >= 0 &&
            (offset as number) + (length as number) <= 8 * PAGE;
          // [call, whether its last argument is valid]
          const calls: [() => void, boolean][] = [
            [() => msync(buf, offset as number, length as number, false), true],
            [() => msync(buf, offset as number, length as number, true), true],
            [() => madvise(buf, offset as number, length as number, 'normal'), true],
            [
              () => msync(buf, offset as number, length as number, extra as boolean),
              typeof extra === 'boolean',
            ],
            [
              () => madvise(buf, offset as number, length as number, extra as 'normal'),
              ['normal', 'random', 'sequential', 'willneed', 'dontneed'].includes(extra as string),
            ],
          ];
          for (const [call, validLast] of calls) {
            let failure: unknown;
            try {
              call();
            } catch (err) {
              expectTypedError(err);
              failure = err;
            }
            // Fails both ways: an in-range call must succeed, any other must throw.
            expect(failure === undefined).toBe(inRange && validLast);
          }
        }),
        { seed, numRuns: RUNS },
      );
      expect(buf.byteLength).toBe(8 * PAGE);
    } finally {
      munmap(buf);
    }
  });

  it('hostile buffers and arguments: typed errors, no caller JS runs, the mapping stays live', () => {
    const buf = mmap(fd, 0, 8 * PAGE, 'rw');
    let ran = 0;
    // valueOf/toString that would unmap under the addon's feet if it were ever called.
    const sneaky = {
      valueOf() {
        ran++;
        munmap(buf);
        return 0;
      },
      toString() {
        ran++;
        return '0';
      },
    };
    const detached = new ArrayBuffer(PAGE);
    structuredClone(detached, { transfer: [detached] });
    const counting = new Proxy(
      {},
      {
        get: () => {
          ran++;
          return undefined;
        },
      },
    ) as ProxyHandler<object>;
    const buffers = fc.constantFrom<unknown>(
      buf,
      new Proxy(buf, counting),
      new Uint8Array(buf),
      new DataView(buf, PAGE),
      detached,
      new ArrayBuffer(PAGE),
      new SharedArrayBuffer(PAGE),
      Object.create(ArrayBuffer.prototype),
    );
    const odd = fc.constantFrom<unknown>(sneaky, new Proxy({}, counting), 1n, -0);
    const args = fc.oneof(edgy, odd);
    // Never an fd of someone else's file in this process (see fdLike).
    const fds = fc.oneof(fc.constant(fd), fdLike, odd);
    try {
      fc.assert(
        fc.property(buffers, args, args, args, fds, (b, offset, length, extra, someFd) => {
          ran = 0; // fast-check itself probes generated values (e.g. for a clone method)
          for (const call of [
            () => msync(b as ArrayBuffer, offset as number, length as number, extra as boolean),
            () => madvise(b as ArrayBuffer, offset as number, length as number, extra as 'normal'),
            () => mmap(someFd as number, offset as number, length as number, 'r'),
            () => fallocate(someFd as number, offset as number, PAGE),
            () => tryLock(someFd as number),
            () => unlock(someFd as number),
            () => fsyncDir(extra as string),
            () => munmap(b === buf ? (offset as ArrayBuffer) : (b as ArrayBuffer)),
          ]) {
            let result: unknown;
            try {
              result = call();
            } catch (err) {
              expectTypedError(err);
              continue;
            }
            if (result instanceof ArrayBuffer) munmap(result);
          }
          expect(ran).toBe(0);
          expect(buf.byteLength).toBe(8 * PAGE);
        }),
        { seed, numRuns: RUNS },
      );
    } finally {
      munmap(buf);
    }
  });

  it('fallocate, tryLock and unlock with random values', () => {
    fc.assert(
      fc.property(edgy, edgy, fdLike, (offset, length, someFd) => {
        for (const call of [
          // Small lengths only; no Number(length): coercing {toString: 0} throws in the test itself.
          () =>
            fallocate(
              fd,
              offset as number,
              typeof length === 'number' ? Math.min(length, PAGE) : (length as number),
            ),
          () => fallocate(someFd as number, 0, PAGE),
          () => tryLock(someFd as number),
          () => unlock(someFd as number),
        ]) {
          try {
            call();
          } catch (err) {
            expectTypedError(err);
          }
        }
      }),
      { seed, numRuns: RUNS },
    );
  });
});
