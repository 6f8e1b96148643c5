import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonPath, fallocate, mmap, msync, munmap, pageSize } from './native.js';

/** What `selfCheck` found. */
export interface SelfCheckResult {
  ok: boolean;
  details: string;
}

function pattern(i: number): number {
  return (i * 31 + 7) & 0xff;
}

/**
 * Proves the addon works on this machine: maps a fresh temp file read-write,
 * writes a pattern, unmaps (checking the buffer is then empty), maps it again
 * read-only and reads the pattern back. Never throws; a failure (an addon
 * that cannot load included) is reported in `details` with the error's code
 * and message.
 */
export function selfCheck(): SelfCheckResult {
  const dir = mkdtempSync(join(tmpdir(), 'qwp-files-self-check-'));
  let fd = -1;
  try {
    const page = pageSize();
    const length = 2 * page;
    fd = openSync(join(dir, 'check.bin'), 'w+');
    fallocate(fd, 0, length);
    const written = mmap(fd, 0, length, 'rw');
    const view = new Uint8Array(written);
    for (let i = 0; i < length; i++) view[i] = pattern(i);
    msync(written, 0, length, true);
    munmap(written);
    if (view.length !== 0 || written.byteLength !== 0) {
      return { ok: false, details: 'munmap left the buffer readable' };
    }
    const reread = new Uint8Array(mmap(fd, 0, length, 'r'));
    for (let i = 0; i < length; i++) {
      if (reread[i] !== pattern(i)) {
        return { ok: false, details: `byte ${i} read back as ${reread[i]}, wrote ${pattern(i)}` };
      }
    }
    munmap(reread.buffer as ArrayBuffer);
    return {
      ok: true,
      details: `mapped, wrote, unmapped and re-read ${length} bytes (page size ${page}) with ${addonPath()}`,
    };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { ok: false, details: `${e.code ?? e.name}: ${e.message}` };
  } finally {
    if (fd >= 0) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
