import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The sender where neither native addon can load (no prebuild for the
// platform, no compiler): a temporary node_modules holds copies of the
// workspace packages' package.json and dist/, the two addon packages with
// neither prebuilds/ nor build/. Memory mode must work end to end there, and
// SF mode must refuse to start with an error that says why.

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'qwp-sender-no-addons-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const WORKSPACE = ['crc32c', 'files-native', 'qwp-wire', 'segment-log', 'sender', 'test-server'];

function layOut(root: string): void {
  for (const name of WORKSPACE) {
    const from = join(PACKAGES, name);
    const to = join(root, 'node_modules', '@qwp', name);
    if (!existsSync(join(from, 'dist', 'index.js'))) {
      throw new Error(`${from}/dist is missing: build the workspace first`);
    }
    mkdirSync(to, { recursive: true });
    copyFileSync(join(from, 'package.json'), join(to, 'package.json'));
    cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true });
    // node-gyp-build for the addon packages; nothing of @qwp inside (they resolve to the copies).
    if (name === 'crc32c' || name === 'files-native') {
      symlinkSync(join(from, 'node_modules'), join(to, 'node_modules'));
    }
  }
  symlinkSync(
    realpathSync(join(PACKAGES, 'sender', 'node_modules', 'ws')),
    join(root, 'node_modules', 'ws'),
  );
}

const CHILD = `
import { nativeLoadError as crcError, implementation } from '@qwp/crc32c';
import { nativeLoadError as filesError } from '@qwp/files-native';
import { Sender } from '@qwp/sender';
import { startTestServer } from '@qwp/test-server';

const server = await startTestServer();
const report = { crc: implementation(), crcMissing: crcError() !== undefined, filesMissing: filesError() !== undefined };
const sender = await Sender.fromConfig('ws::addr=127.0.0.1:' + server.port + ';auto_flush_rows=100;');
for (let i = 0; i < 1000; i++) {
  sender.table('t').symbol('s', 'v' + (i % 7)).intColumn('i', i).at(1000 + i, 'us');
}
await sender.drain(10000);
report.mode = sender.stats().mode;
await sender.close();
report.rows = server.rows('t').length;
report.sum = server.rows('t').reduce((a, r) => a + Number(r.i), 0);
try {
  await Sender.fromConfig('ws::addr=127.0.0.1:' + server.port + ';sf_dir=' + process.argv[2] + ';');
  report.sf = 'opened';
} catch (err) {
  report.sf = { name: err.name, code: err.code, message: err.message, cause: err.cause?.name };
}
await server.close();
console.log(JSON.stringify(report));
`;

describe('without the native addons', () => {
  it('memory mode sends every row; SF mode refuses to start and says why', () => {
    layOut(work);
    writeFileSync(join(work, 'child.mjs'), CHILD);
    const out = execFileSync(process.execPath, [join(work, 'child.mjs'), join(work, 'sf')], {
      cwd: work,
      encoding: 'utf8',
      timeout: 30_000,
    });
    const report = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(report.crc).toBe('js');
    expect(report.crcMissing).toBe(true);
    expect(report.filesMissing).toBe(true);
    expect(report.mode).toBe('memory');
    expect(report.rows).toBe(1000);
    expect(report.sum).toBe((999 * 1000) / 2);
    expect(report.sf.name).toBe('StoreAndForwardUnavailableError');
    expect(report.sf.code).toBe('ERR_QWP_SF_UNAVAILABLE');
    expect(report.sf.message).toContain(`${process.platform}-${process.arch}`);
    expect(report.sf.message).toMatch(/memory mode/);
    expect(existsSync(join(work, 'sf'))).toBe(false); // nothing was created
  });
});
