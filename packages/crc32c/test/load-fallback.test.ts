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

function importIn(root: string): Record<string, unknown> {
  const script = `
    try {
      const m = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
      console.log(JSON.stringify({ crc: m.crc32c(Buffer.from('123456789')), impl: m.implementation() }));
    } catch (e) {
      console.log(JSON.stringify({ name: e.constructor.name, code: e.code, message: e.message, cause: e.cause instanceof Error }));
    }`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(out.trim());
}

describe('where the addon is found', () => {
  it('a local build in build/Release loads when there is no prebuild', () => {
    const root = copy('local-build', join('build', 'Release'));
    expect(readdirSync(root)).not.toContain('prebuilds');
    expect(importIn(root)).toMatchObject({ crc: 0xe3069283 });
  });

  it('with neither a prebuild nor a build, importing throws Crc32cLoadError with the cause', () => {
    const out = importIn(copy('nothing'));
    expect(out.name).toBe('Crc32cLoadError');
    expect(out.code).toBe('ERR_CRC32C_LOAD');
    expect(out.message).toContain(`${process.platform}-${process.arch}`);
    expect(out.cause).toBe(true);
  });
});
