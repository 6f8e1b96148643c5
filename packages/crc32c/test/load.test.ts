import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { implementation, implementations } from '../src/index.js';
import { PACKAGE_ROOT } from './helpers.js';

// Worker and child scripts are plain CommonJS: they load the addon exactly as
// src/binding.ts does (node-gyp-build on the package root) and report which
// kernels it has and what they compute.
const probe = `
const nodeGypBuild = require(${JSON.stringify(createRequire(import.meta.url).resolve('node-gyp-build', { paths: [PACKAGE_ROOT] }))});
const b = nodeGypBuild(${JSON.stringify(PACKAGE_ROOT)});
const data = Buffer.from('123456789');
const big = new Uint8Array(new SharedArrayBuffer(100000));
for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
let thrown = '';
try { b.implementations[0].crc32cRange(data, 0, 10); } catch (e) { thrown = e.code; }
const report = {
  names: b.implementations.map((i) => i.name),
  checks: b.implementations.map((i) => i.crc32c(data)),
  big: b.implementations.map((i) => i.crc32cRange(big, 1, 99999)),
  thrown,
};
`;

function inWorker(): Promise<{ names: string[]; checks: number[]; big: number[]; thrown: string }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(`${probe}\nrequire('worker_threads').parentPort.postMessage(report);`, {
      eval: true,
    });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

describe('loading', () => {
  it('loads and computes inside worker_threads, several at once and again after exit', async () => {
    // The workers load the addon only: every kernel but 'js'.
    const native = implementations().filter((k) => k.name !== 'js');
    const expectedBig = native[0]!.crc32cRange(
      Uint8Array.from({ length: 100000 }, (_, i) => (i * 7) & 0xff),
      1,
      99999,
    );
    for (let round = 0; round < 2; round++) {
      const reports = await Promise.all([inWorker(), inWorker()]);
      for (const r of reports) {
        expect(r.names).toEqual(native.map((i) => i.name));
        expect(r.checks).toEqual(native.map(() => 0xe3069283));
        expect(r.big).toEqual(native.map(() => expectedBig));
        expect(r.thrown).toBe('ERR_QWP_CRC32C_OUT_OF_RANGE');
      }
    }
    // The main thread's copy still works after the workers' environments are gone.
    expect(implementations().at(-1)!.crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  describe('QWP_CRC32C_PORTABLE and QWP_CRC32C_JS', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
      vi.resetModules();
    });

    // A fresh copy of the module reads the variables again; the addon stays loaded.
    // Returns the name it reports and the kernel whose functions it exports.
    async function loadedDefault(
      value: string | undefined,
      js: string | undefined = undefined,
    ): Promise<[string, string]> {
      vi.stubEnv('QWP_CRC32C_PORTABLE', value);
      vi.stubEnv('QWP_CRC32C_JS', js);
      vi.resetModules();
      const fresh = await import('../src/index.js');
      const used = fresh
        .implementations()
        .find((k) => k.crc32c === fresh.crc32c && k.crc32cRange === fresh.crc32cRange);
      return [fresh.implementation(), used?.name ?? 'none'];
    }

    it('=1 makes the portable kernel the default at load; anything else the fastest', async () => {
      const fastest = implementations().at(-1)!.name;
      expect(await loadedDefault('1')).toEqual(['portable', 'portable']);
      expect(await loadedDefault(undefined)).toEqual([fastest, fastest]);
      expect(await loadedDefault('0')).toEqual([fastest, fastest]);
    });

    it("QWP_CRC32C_JS=1 makes 'js' the default, over QWP_CRC32C_PORTABLE too; the addon still loads", async () => {
      const fastest = implementations().at(-1)!.name;
      expect(await loadedDefault(undefined, '1')).toEqual(['js', 'js']);
      expect(await loadedDefault('1', '1')).toEqual(['js', 'js']);
      expect(await loadedDefault(undefined, '0')).toEqual([fastest, fastest]);
      vi.stubEnv('QWP_CRC32C_JS', '1');
      vi.resetModules();
      const fresh = await import('../src/index.js');
      expect(fresh.nativeLoadError()).toBeUndefined();
      expect(fresh.implementations().map((k) => k.name)).toEqual(
        implementations().map((k) => k.name),
      );
      expect(fresh.crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    });
  });

  it('implementation() names the kernel in use here', () => {
    const names = implementations().map((i) => i.name);
    expect(names).toContain(implementation());
    if (process.env.QWP_CRC32C_JS === '1') expect(implementation()).toBe('js');
    else if (process.env.QWP_CRC32C_PORTABLE === '1') expect(implementation()).toBe('portable');
    else expect(implementation()).toBe(names.at(-1));
  });
});
