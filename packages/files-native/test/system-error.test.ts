import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsyncDir } from '../src/index.js';
import { runChild, tempDir } from './helpers.js';

const LONG_RUN = process.env.QWP_TEST_LONG === '1';

function thrownBy(fn: () => void): Error & { code?: string; path?: unknown; syscall?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('system errors from the addon', () => {
  it('quote at most 4 KiB of a long path in the message but keep the whole path', () => {
    const path = `/${'x'.repeat(100_000)}`;
    const err = thrownBy(() => fsyncDir(path));
    expect(err.code).toBe('ENAMETOOLONG');
    expect(err.syscall).toBe('open');
    expect(err.path).toBe(path);
    expect(err.message.length).toBeLessThan(4200);
    expect(err.message).toMatch(/^ENAMETOOLONG: name too long, open '\/x+\.\.\.'$/);
  });

  it('never cut a multi-byte character in the quoted path', () => {
    // 2-byte characters after one ASCII byte: byte 4096 is a continuation byte.
    const path = `/${'é'.repeat(3000)}`;
    const err = thrownBy(() => fsyncDir(path));
    expect(err.path).toBe(path);
    expect(err.message).not.toContain('\ufffd');
    expect(err.message).toMatch(/^ENAMETOOLONG: name too long, open '\/é+\.\.\.'$/);
  });

  it('keep a short path whole, as the caller spelled it', () => {
    const { dir, cleanup } = tempDir();
    try {
      const missing = join(dir, 'missing-\ud800');
      const err = thrownBy(() => fsyncDir(missing));
      expect(err.code).toBe('ENOENT');
      expect(err.path).toBe(missing);
    } finally {
      cleanup();
    }
  });

  it.runIf(LONG_RUN)(
    'a path near V8 string limit fails with ENAMETOOLONG instead of aborting the process',
    () => {
      const r = runChild(
        `const p = 'x'.repeat(2 ** 29 - 40);
         try { b.fsyncDir(p); } catch (e) { console.log(e.code, e.path === p); }`,
      );
      expect(r.signal).toBeNull();
      expect(r.stdout.trim()).toBe('ENAMETOOLONG true');
    },
    120_000,
  );
});
