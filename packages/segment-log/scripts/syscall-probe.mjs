// Shows that appending to a segment makes no syscall. Run under strace from
// packages/segment-log after building dist/:
//   strace -f -o /tmp/st.txt node scripts/syscall-probe.mjs
//   awk '/QWP-MARK-START/{on=1;next} /QWP-MARK-END/{on=0} on' /tmp/st.txt
// and compare the main thread's lines between the two marker stat() calls
// (5000 appends of 512 bytes) with what V8's own GC/compiler threads do.
// test/no-syscall.test.ts runs it so. `--with-syscall` adds one fstat inside
// the window, to show that test can fail.
import { fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlot } from '@qwp/segment-log';

const withSyscall = process.argv.includes('--with-syscall');
const dir = mkdtempSync(join(tmpdir(), 'qwp-syscall-probe-'));
const slot = openSlot({ sfDir: dir, senderId: 'probe', segmentSize: 4 << 20, autoService: false });
const payload = new Uint8Array(512).fill(1);
for (let i = 0; i < 3000; i++) slot.ring.tryAppend(payload); // warm the JIT up first
await new Promise((r) => setTimeout(r, 200)); // let the optimizing compiler finish and free its memory
const mark = (name) => {
  try {
    statSync(`/${name}`);
  } catch {
    // ENOENT is expected: the stat call itself is the marker in the trace.
  }
};
mark('QWP-MARK-START');
for (let i = 0; i < 5000; i++) {
  slot.ring.tryAppend(payload);
  if (withSyscall && i === 2500) fstatSync(0);
}
mark('QWP-MARK-END');
console.log(`appended ${slot.ring.nextFsn} frames`);
slot.close();
rmSync(dir, { recursive: true, force: true });
