import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portable } from '../src/index.js';
import { addonPath, PACKAGE_ROOT } from './helpers.js';

// Copies of the package holding the compiled JS beside the real node_modules
// (for node-gyp-build), with the native build where a user's install may
// leave it, or nowhere.
const work = mkdtempSync(join(tmpdir(), 'qwp-crc32c-load-'));
let dist = '';
beforeAll(() => {
  dist = join(work, 'dist');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', dist], {
    cwd: PACKAGE_ROOT,
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}, 90_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A package copy named `name`, with `addon` copied to `addonAt` when given. */
function copy(name: string, addonAt?: string): string {
  const root = join(work, name);
  mkdirSync(root);
  cpSync(dist, join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"name":"copy","private":true,"type":"module"}\n');
  symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(root, 'node_modules'));
  if (addonAt !== undefined) {
    mkdirSync(join(root, addonAt), { recursive: true });
    copyFileSync(addonPath(), join(root, addonAt, 'crc32c.node'));
  }
  return root;
}

/** Bytes both sides compute from: a fixed LCG over shared memory. */
const LCG_BYTES = `
  const n = 100003;
  const bytes = new Uint8Array(new SharedArrayBuffer(n + 64));
  for (let i = 0, s = 1; i < bytes.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bytes[i] = s >>> 24;
  }`;

/** The CRCs the child reports, computed with `m` (the package's exports). */
const CASES = `
  const cases = (m) => ({
    check: m.crc32c(Buffer.from('123456789')),
    shared: m.crc32cRange(bytes.buffer, 7, n),
    view: m.crc32cRange(new Uint8Array(bytes.buffer, 13, n), 3, n - 10, 0x1234),
    dataView: m.crc32cRange(new DataView(bytes.buffer, 5, 4000), 1, 3999),
    wide: m.crc32cRange(new Float64Array(bytes.buffer, 8, 1000), 0, 8000),
    chained: m.crc32c(bytes.subarray(777, n), m.crc32c(bytes.subarray(0, 777))),
    whole: m.crc32c(bytes.subarray(0, n)),
  });`;

function importIn(root: string): Record<string, unknown> {
  const script = `
    const m = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
    ${LCG_BYTES}
    ${CASES}
    const thrown = (f) => { try { f(); return 'nothing'; } catch (e) { return \`\${e.name} \${e.code}\`; } };
    const e = m.nativeLoadError();
    console.log(JSON.stringify({
      impl: m.implementation(),
      names: m.implementations().map((k) => k.name),
      portable: m.portable.name,
      crcs: cases(m),
      badRange: thrown(() => m.crc32cRange(bytes, 0, n + 65)),
      badData: thrown(() => m.crc32c('123')),
      selfCheck: m.selfCheck(),
      loadError: e ? { name: e.constructor.name, code: e.code, message: e.message, cause: e.cause instanceof Error, typed: e instanceof m.Crc32cLoadError } : null,
    }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, QWP_CRC32C_JS: undefined, QWP_CRC32C_PORTABLE: undefined },
  });
  return JSON.parse(out.trim());
}

/** The same CRCs from this process's addon (its portable kernel). */
function expectedCrcs(): Record<string, number> {
  const run = new Function('m', `${LCG_BYTES}\n${CASES}\nreturn cases(m);`) as (
    m: unknown,
  ) => Record<string, number>;
  return run({ crc32c: portable.crc32c, crc32cRange: portable.crc32cRange });
}

describe('where the addon is found', () => {
  it('a local build in build/Release loads when there is no prebuild', () => {
    const root = copy('local-build', join('build', 'Release'));
    expect(readdirSync(root)).not.toContain('prebuilds');
    const out = importIn(root);
    expect(out).toMatchObject({ crcs: expectedCrcs(), loadError: null });
    expect(out.impl).not.toBe('js');
    expect(out.names).toContain('portable');
  });

  it("with neither a prebuild nor a build, the import works and every call runs the 'js' kernel", () => {
    const out = importIn(copy('nothing'));
    expect(out.loadError).toMatchObject({
      name: 'Crc32cLoadError',
      code: 'ERR_QWP_CRC32C_LOAD',
      cause: true,
      typed: true,
    });
    expect((out.loadError as { message: string }).message).toContain(
      `${process.platform}-${process.arch}`,
    );
    expect(out).toMatchObject({ impl: 'js', names: ['js'], portable: 'js' });
    const crcs = expectedCrcs();
    expect(crcs.check).toBe(0xe3069283);
    expect(out.crcs).toEqual(crcs);
    expect(out.badRange).toBe('Crc32cRangeError ERR_QWP_CRC32C_OUT_OF_RANGE');
    expect(out.badData).toBe('Crc32cTypeError ERR_QWP_CRC32C_INVALID_ARG_TYPE');
    expect(out.selfCheck).toEqual({ ok: true, implementation: 'js', details: 'js: ok' });
  });
});
