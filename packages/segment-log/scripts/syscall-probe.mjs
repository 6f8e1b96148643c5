// Shows that appending to a segment makes no syscall. Run under strace from
// packages/segment-log after building dist/:
//   strace -f -o /tmp/st.txt node scripts/syscall-probe.mjs
//   awk '/QWP-MARK-START/{on=1;next} /QWP-MARK-END/{on=0} on' /tmp/st.txt
// and compare the main thread's lines between the two marker stat() calls
// (5000 appends of 512 bytes) with what V8's own GC/compiler threads do.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlot } from '@qwp/segment-log';

const dir = mkdtempSync(join(tmpdir(), 'qwp-syscall-probe-'));
const slot = openSlot({ sfDir: dir, senderId: 'probe', segmentSize: 4 << 20, autoService: false });
const payload = new Uint8Array(512).fill(1);
for (let i = 0; i < 3000; i++) slot.ring.tryAppend(payload); // warm the JIT up first
await new Promise((r) => setTimeout(r, 200)); // let the optimizing compiler finish and free its memory
const mark = (name) => {
  try {
    statSync(`/${name}`);
  } catch {}
};
mark('QWP-MARK-START');
for (let i = 0; i < 5000; i++) slot.ring.tryAppend(payload);
mark('QWP-MARK-END');
console.log(`appended ${slot.ring.nextFsn} frames`);
slot.close();
rmSync(dir, { recursive: true, force: true });
