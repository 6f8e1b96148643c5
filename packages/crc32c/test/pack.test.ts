import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from './helpers.js';

// Packs the package as it would be published, installs the tarball the way a
// user's `npm i` meets it (dependencies' install scripts not run), and uses it.
const PNPM = ['-y', 'pnpm@10.34.9'];
const prebuildDir = join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
const work = mkdtempSync(join(tmpdir(), 'qwp-crc32c-pack-'));

function run(cmd: string, args: string[], cwd: string, timeout: number): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, QWP_CRC32C_PORTABLE: undefined, QWP_CRC32C_JS: undefined },
  });
}

function newestMtime(paths: string[]): number {
  return Math.max(...paths.map((p) => statSync(p).mtimeMs));
}

/**
 * Builds prebuilds/ when it is missing or older than the C sources. The build
 * runs in a copy of the sources so it never replaces build/Release, which
 * other test files (and packages) have loaded; the result is renamed into
 * place, so a process that mapped the old prebuild keeps its copy.
 */
function ensurePrebuild(): void {
  const sourceFiles = [
    'binding.c',
    'binding.gyp',
    'package.json',
    ...readdirSync(join(PACKAGE_ROOT, 'src'))
      .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
      .map((f) => `src/${f}`),
  ];
  const built = existsSync(prebuildDir)
    ? readdirSync(prebuildDir).filter((f) => f.endsWith('.node'))
    : [];
  const fresh =
    built.length > 0 &&
    newestMtime(built.map((f) => join(prebuildDir, f))) >=
      newestMtime(sourceFiles.map((f) => join(PACKAGE_ROOT, f)));
  if (fresh) return;
  const copy = join(work, 'src-copy');
  mkdirSync(join(copy, 'src'), { recursive: true });
  for (const f of sourceFiles) copyFileSync(join(PACKAGE_ROOT, f), join(copy, f));
  const bin = join(PACKAGE_ROOT, 'node_modules', '.bin');
  execFileSync(join(bin, 'prebuildify'), ['--napi', '--strip'], {
    cwd: copy,
    timeout: 120_000,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PREBUILD_NODE_GYP: join(bin, 'node-gyp') },
  });
  const outDir = join(copy, 'prebuilds', `${process.platform}-${process.arch}`);
  mkdirSync(prebuildDir, { recursive: true });
  for (const f of readdirSync(outDir)) {
    copyFileSync(join(outDir, f), join(prebuildDir, `${f}.tmp`));
    renameSync(join(prebuildDir, `${f}.tmp`), join(prebuildDir, f));
  }
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('packed tarball', () => {
  it('installs without scripts into a fresh project and computes a CRC', () => {
    ensurePrebuild();
    run('npx', ['tsc', '-p', 'tsconfig.build.json'], PACKAGE_ROOT, 60_000);
    const packed = run('npx', [...PNPM, 'pack', '--pack-destination', work], PACKAGE_ROOT, 60_000);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tgz, `pnpm pack printed: ${packed}`).toBeDefined();

    const listing = run('tar', ['tzf', join(work, tgz!)], work, 10_000).split('\n');
    for (const f of [
      'binding.gyp',
      'binding.c',
      'src/crc32c.h',
      'src/crc32c_x86.c',
      'dist/index.js',
    ]) {
      expect(listing).toContain(`package/${f}`);
    }
    expect(
      listing.some((f) => f.startsWith(`package/prebuilds/${process.platform}-${process.arch}/`)),
    ).toBe(true);
    expect(listing.some((f) => f.includes('/test/'))).toBe(false);

    const app = join(work, 'app');
    run('mkdir', ['-p', app], work, 5_000);
    writeFileSync(join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}\n');
    run(
      'npm',
      ['install', '--ignore-scripts', '--no-audit', '--no-fund', join(work, tgz!)],
      app,
      90_000,
    );
    const installed = join(app, 'node_modules', '@qwp', 'crc32c');
    expect(existsSync(join(installed, 'build'))).toBe(false); // so the prebuild is what loads

    const esm = run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { crc32c, crc32cRange, implementation, nativeLoadError, selfCheck } from '@qwp/crc32c';" +
          "const b = Buffer.from('123456789');" +
          'console.log(JSON.stringify({ crc: crc32c(b), range: crc32cRange(b.buffer, b.byteOffset, 9),' +
          ' impl: implementation(), ok: selfCheck().ok, loadError: nativeLoadError()?.message ?? null }));',
      ],
      app,
      20_000,
    );
    const r = JSON.parse(esm.trim().split('\n').at(-1)!);
    // The prebuild loaded: no fallback to the 'js' kernel.
    expect(r).toMatchObject({ crc: 0xe3069283, range: 0xe3069283, ok: true, loadError: null });
    expect(r.impl).not.toBe('js');

    // The package is ESM only: require() works where Node can load ESM
    // synchronously (20.19+), and fails with ERR_REQUIRE_ESM before that.
    const cjs = run(
      process.execPath,
      [
        '-e',
        "try { console.log(require('@qwp/crc32c').crc32c(Buffer.from('123456789'))) }" +
          ' catch (e) { console.log(e.code) }',
      ],
      app,
      20_000,
    );
    const requireModule = (process.features as { require_module?: boolean }).require_module;
    expect(cjs.trim().split('\n').at(-1)).toBe(
      requireModule ? String(0xe3069283) : 'ERR_REQUIRE_ESM',
    );
  }, 180_000);
});
