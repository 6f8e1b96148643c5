import { describe, expect, it } from 'vitest';
import { runChild, tempDir } from './helpers.js';

// Finalizers run in a later turn of the event loop; --expose-gc lets the child force them.
const drainFinalizers = `
async function drain() {
  for (let i = 0; i < 5; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
}
`;

describe('garbage collection of mappings', () => {
  it('a buffer unmapped by munmap is never unmapped again when collected', () => {
    const { dir, cleanup } = tempDir();
    try {
      const result = runChild(
        `${drainFinalizers}
        (async () => {
          const page = b.pageSize();
          const fd = fs.openSync(process.argv[1] + '/a.bin', 'w+');
          b.fallocate(fd, 0, 64 * page);
          const before = b.stats();
          let first = b.mmap(fd, 0, 64 * page, true);
          b.munmap(first);
          first = null;
          // Same length: the kernel usually hands back the address just freed,
          // so a second unmap of the first region would unmap this one.
          const second = new Uint8Array(b.mmap(fd, 0, 64 * page, true));
          second.fill(0x5a);
          await drain();
          let sum = 0;
          for (let i = 0; i < second.length; i += 512) sum += second[i];
          const after = b.stats();
          console.log(JSON.stringify({
            sum, expected: 0x5a * (second.length / 512),
            mapped: after.mapped - before.mapped,
            byCall: after.unmappedByCall - before.unmappedByCall,
            byGc: after.unmappedByGc - before.unmappedByGc,
            released: after.released - before.released,
          }));
          b.munmap(second.buffer);
        })();
        `,
        [dir],
        ['--expose-gc'],
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const out = JSON.parse(result.stdout);
      expect(out.sum).toBe(out.expected);
      expect(out.mapped).toBe(2);
      expect(out.byCall).toBe(1);
      expect(out.byGc).toBe(0);
      expect(out.released).toBe(1);
    } finally {
      cleanup();
    }
  });

  it('a buffer that is dropped without munmap is unmapped once by its finalizer', () => {
    const { dir, cleanup } = tempDir();
    try {
      const result = runChild(
        `${drainFinalizers}
        (async () => {
          const page = b.pageSize();
          const fd = fs.openSync(process.argv[1] + '/b.bin', 'w+');
          b.fallocate(fd, 0, page);
          const before = b.stats();
          for (let i = 0; i < 50; i++) new Uint8Array(b.mmap(fd, 0, page, true))[i] = i + 1;
          await drain();
          const after = b.stats();
          const bytes = fs.readFileSync(process.argv[1] + '/b.bin');
          console.log(JSON.stringify({
            mapped: after.mapped - before.mapped,
            byCall: after.unmappedByCall - before.unmappedByCall,
            byGc: after.unmappedByGc - before.unmappedByGc,
            released: after.released - before.released,
            last: bytes[49],
          }));
        })();
        `,
        [dir],
        ['--expose-gc'],
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const out = JSON.parse(result.stdout);
      expect(out.mapped).toBe(50);
      expect(out.byCall).toBe(0);
      expect(out.byGc).toBe(50);
      expect(out.released).toBe(50);
      expect(out.last).toBe(50);
    } finally {
      cleanup();
    }
  });
});
