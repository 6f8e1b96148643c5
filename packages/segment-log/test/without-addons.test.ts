import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { implementations } from '@qwp/crc32c';
import { afterAll, describe, expect, it } from 'vitest';

// Memory mode where neither addon can load (no prebuild for the platform, no
// compiler). A temporary directory holds node_modules/@qwp/{crc32c, qwp-wire,
// files-native,segment-log}: each package's package.json and dist/ (built by
// the test task, as for the other child tests), crc32c and files-native with
// their own node_modules (for node-gyp-build) but neither prebuilds/ nor
// build/, so segment-log's dist/ imports copies whose addons cannot load.

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'qwp-seglog-no-addons-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function layOut(root: string): void {
  for (const name of ['crc32c', 'files-native', 'qwp-wire', 'segment-log']) {
    const from = join(PACKAGES, name);
    const to = join(root, 'node_modules', '@qwp', name);
    if (!existsSync(join(from, 'dist', 'index.js'))) {
      throw new Error(`${from}/dist is missing: run \`npx tsc -p tsconfig.build.json\` there`);
    }
    mkdirSync(to, { recursive: true });
    copyFileSync(join(from, 'package.json'), join(to, 'package.json'));
    cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true });
    if (name === 'crc32c' || name === 'files-native') {
      symlinkSync(join(from, 'node_modules'), join(to, 'node_modules'));
    }
  }
}

const CHILD = `
import { mkdirSync } from 'node:fs';
import * as crc from '@qwp/crc32c';
import * as files from '@qwp/files-native';
import { SegmentManager, SegmentRing } from '@qwp/segment-log';

const platform = process.platform + '-' + process.arch;
const loadError = (e) => e === undefined ? null : { code: e.code, platform: e.message.includes(platform) };
const payload = (i) => {
  const p = new Uint8Array(1 + ((i * 37) % 300));
  for (let k = 0; k < p.length; k++) p[k] = (i * 7 + k) & 0xff;
  return p;
};
const report = {
  crc: { implementation: crc.implementation(), error: loadError(crc.nativeLoadError()) },
  files: { error: loadError(files.nativeLoadError()) },
};

const manager = new SegmentManager({ segmentSize: 4096, autoService: false });
const ring = new SegmentRing({ segments: [manager.createFirst(0)], provider: manager });
const fsns = [];
for (let i = 0; i < 200; i++) fsns.push(ring.tryAppend(payload(i)));
report.appended = fsns.every((f, i) => f === i);
report.segments = ring.sealedSegments.length + 1;

const reader = ring.reader(0);
let read = 0;
let mismatches = 0;
while (reader.next()) {
  const got = reader.payload();
  const want = payload(reader.fsn);
  if (reader.fsn !== read || got.length !== want.length || got.some((b, k) => b !== want[k])) mismatches++;
  read++;
}
report.read = read;
report.mismatches = mismatches;

// Frame 0 as stored (crc, length, 1-byte payload), for the parent to check with a native kernel.
const first = ring.sealedSegments[0];
report.firstFrame = Buffer.from(first.bytes.subarray(24, 24 + 9)).toString('hex');
// A flipped payload bit must fail the frame's CRC check.
first.bytes[24 + 8] ^= 1;
try {
  ring.reader(0).next();
  report.corrupt = 'not noticed';
} catch (e) {
  report.corrupt = e.code;
}
first.bytes[24 + 8] ^= 1;

report.trimmed = ring.acknowledge(199);
manager.service();
report.pending = manager.pendingReleases;
ring.close();
manager.close();

// SF mode needs the files addon: the first segment fails with its reason.
const dir = process.argv[2];
mkdirSync(dir, { recursive: true });
try {
  new SegmentManager({ dir, segmentSize: 4096, autoService: false }).createFirst(0);
  report.sf = 'created';
} catch (e) {
  const codes = [];
  for (let c = e; c instanceof Error; c = c.cause) codes.push(c.code);
  report.sf = codes;
}
console.log(JSON.stringify(report));
`;

describe('memory mode without the native addons', () => {
  it('appends, reads back through ring.reader() and CRC-checks frames with the js kernel', {
    timeout: 60_000,
  }, () => {
    layOut(work);
    writeFileSync(join(work, 'main.mjs'), CHILD);
    const env = { ...process.env, QWP_CRC32C_JS: undefined, QWP_CRC32C_PORTABLE: undefined };
    const out = execFileSync(process.execPath, [join(work, 'main.mjs'), join(work, 'slot')], {
      cwd: work,
      encoding: 'utf8',
      timeout: 30_000,
      env,
    });
    const report = JSON.parse(out.trim());

    // Neither addon loaded: the reasons name the platform.
    expect(report.crc).toEqual({
      implementation: 'js',
      error: { code: 'ERR_QWP_CRC32C_LOAD', platform: true },
    });
    expect(report.files).toEqual({ error: { code: 'ERR_QWP_FILES_LOAD', platform: true } });

    expect(report.appended).toBe(true);
    expect(report.segments).toBeGreaterThan(5); // rotations happened
    expect(report.read).toBe(200);
    expect(report.mismatches).toBe(0);
    expect(report.corrupt).toBe('ERR_QWP_SF_CORRUPT');
    expect(report.trimmed).toBeGreaterThan(0);
    expect(report.pending).toBe(0);

    // The js kernel wrote the CRC a native kernel computes over length ‖ payload.
    const frame = Buffer.from(report.firstFrame, 'hex');
    const native = implementations().find((k) => k.name === 'portable')!;
    expect(frame.readUInt32LE(4)).toBe(1);
    expect(frame.readUInt32LE(0)).toBe(native.crc32cRange(frame, 4, 5));

    // SF mode fails with the files addon's reason in its cause chain, never silently.
    expect(Array.isArray(report.sf)).toBe(true);
    expect(report.sf).toContain('ERR_QWP_FILES_LOAD');
  });
});
