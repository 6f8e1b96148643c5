import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a user meets: every published package packed as `npm publish` would
// pack it, installed from the tarballs with npm into an empty project, and
// used there by scripts that know nothing of this repository. Three installs:
//   1. scripts off (pnpm's default, `npm i --ignore-scripts`): the prebuilds
//      inside the tarballs must load;
//   2. prebuilds removed, scripts on: the install script compiles the addons;
//   3. prebuilds removed, scripts on, no C compiler: the install still
//      succeeds, memory mode works, SF mode says what is missing.

const PACKAGES_DIR = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const PUBLISHED = [
  'crc32c',
  'files-native',
  'qwp-wire',
  'segment-log',
  'test-server',
  'sender',
  'cli',
];
const NATIVE = ['crc32c', 'files-native'];
const PLATFORM = `${process.platform}-${process.arch}`;
const ROWS = 1000;
const NPM_TIMEOUT = 240_000;

const work = mkdtempSync(join(tmpdir(), 'qwp-install-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeout = 60_000,
  env: NodeJS.ProcessEnv = {},
): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      timeout,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout}\n${e.stderr}`, {
      cause: err,
    });
  }
}

/** The last stdout line of a fixture script, parsed; `node` is the command that runs Node. */
function runJson(
  app: string,
  script: string,
  args: (string | number)[],
  node: string[] = [process.execPath],
): Record<string, unknown> {
  const [cmd, ...pre] = node;
  const out = run(cmd!, [...pre, join(app, script), ...args.map(String)], app, 120_000);
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

const tarballs: Record<string, string> = {};
/** The same tarballs with prebuilds/ taken out of the native packages. */
const withoutPrebuilds: Record<string, string> = {};

function listing(tgz: string): string[] {
  return run('tar', ['tzf', tgz], work).trim().split('\n');
}

beforeAll(() => {
  const packs = join(work, 'packs');
  for (const name of PUBLISHED) {
    const dir = join(packs, name);
    mkdirSync(dir, { recursive: true });
    run('npx', ['-y', 'pnpm@10.34.9', 'pack', '--pack-destination', dir], join(PACKAGES_DIR, name));
    const [tgz] = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    tarballs[name] = join(dir, tgz!);
    withoutPrebuilds[name] = tarballs[name]!;
  }
  for (const name of NATIVE) {
    const unpacked = join(work, 'unpacked', name);
    mkdirSync(unpacked, { recursive: true });
    run('tar', ['xzf', tarballs[name]!, '-C', unpacked], work);
    rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
    const out = join(work, 'stripped', `${name}.tgz`);
    mkdirSync(join(work, 'stripped'), { recursive: true });
    run('tar', ['czf', out, '-C', unpacked, 'package'], work);
    withoutPrebuilds[name] = out;
  }
}, 180_000);

/** A fresh project with the fixtures, the tarballs installed by npm; returns its directory and npm's output. */
function install(
  name: string,
  from: Record<string, string>,
  options: { scripts: boolean; env?: NodeJS.ProcessEnv; also?: string[] },
): { app: string; output: string } {
  const app = join(work, name);
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' })}\n`,
  );
  cpSync(FIXTURES, app, { recursive: true });
  const args = ['install', '--no-audit', '--no-fund', '--prefer-offline'];
  // Scripts on: --foreground-scripts shows their output, which npm otherwise hides when they succeed.
  args.push(options.scripts ? '--foreground-scripts' : '--ignore-scripts');
  const npm = spawnSync('npm', [...args, ...Object.values(from), ...(options.also ?? [])], {
    cwd: app,
    encoding: 'utf8',
    timeout: NPM_TIMEOUT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const output = `${npm.stdout}${npm.stderr}`;
  if (npm.status !== 0) {
    throw new Error(`npm install in ${app} exited ${npm.status ?? npm.signal}: ${output}`);
  }
  return { app, output };
}

/** Starts the installed `qwp serve` on a free port, runs `body`, stops it; returns rows committed per table. */
async function withServe(
  app: string,
  body: (port: number) => void,
): Promise<Record<string, number>> {
  const dump = join(app, 'rows.jsonl');
  const child = spawn(
    join(app, 'node_modules', '.bin', 'qwp'),
    ['serve', '--port', '0', '--dump', dump],
    { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`qwp serve did not start: ${out}${stderr}`)),
        20_000,
      );
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`qwp serve exited ${code}: ${out}${stderr}`)));
    });
    body(port);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited, stderr).toBe(0);
  const counts: Record<string, number> = {};
  for (const line of readFileSync(dump, 'utf8').split('\n')) {
    if (line === '') continue;
    const { table } = JSON.parse(line) as { table: string };
    counts[table] = (counts[table] ?? 0) + 1;
  }
  return counts;
}

function installed(app: string, name: string): string {
  return join(app, 'node_modules', '@qwp', name);
}

describe('the packed tarballs', () => {
  it('hold dist with types, and the native packages their sources, install script and prebuilds', () => {
    for (const name of PUBLISHED) {
      const files = listing(tarballs[name]!);
      expect(files, name).toContain('package/dist/index.js');
      expect(files, name).toContain('package/dist/index.d.ts');
      expect(files, name).toContain('package/README.md');
      expect(
        files.filter((f) => f.includes('/test/') || /\.test\./.test(f)),
        name,
      ).toEqual([]);
      expect(
        files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
        name,
      ).toEqual([]);
      const manifest = JSON.parse(
        run('tar', ['xzf', tarballs[name]!, '-O', 'package/package.json'], work),
      );
      expect(manifest.engines.node, name).toBe('^20.19.0 || >=22.12.0');
      expect(JSON.stringify(manifest.dependencies ?? {}), name).not.toContain('workspace:');
      // publishConfig.exports repeats the workspace's exports without `source`:
      // the two maps must not drift apart (a subpath added to one only).
      const local = JSON.parse(readFileSync(join(PACKAGES_DIR, name, 'package.json'), 'utf8'));
      const withoutSource = JSON.parse(
        JSON.stringify(local.exports, (k, v) => (k === 'source' ? undefined : v)),
      );
      expect(manifest.exports, `${name} published exports`).toEqual(withoutSource);
      for (const [path, target] of Object.entries(manifest.exports) as [string, unknown][]) {
        if (path === './package.json') continue;
        const t = target as { types: string; default: string };
        // TypeScript takes the first condition that matches: types before default.
        const keys = Object.keys(t);
        expect(keys.indexOf('types'), `${name} ${path}`).toBeGreaterThanOrEqual(0);
        expect(keys.indexOf('types'), `${name} ${path}`).toBeLessThan(keys.indexOf('default'));
        // Every condition resolves to a packed file: a `source` condition
        // left in would send a user running with --conditions=source to a
        // .ts file the tarball does not hold.
        for (const [condition, file] of Object.entries(t)) {
          expect(files, `${name} ${path} ${condition}`).toContain(`package/${file.slice(2)}`);
        }
      }
    }
    for (const name of NATIVE) {
      const files = listing(tarballs[name]!);
      expect(files, name).toContain('package/binding.gyp');
      expect(files, name).toContain('package/scripts/install.cjs');
      expect(
        files.some((f) => f.startsWith(`package/prebuilds/${PLATFORM}/`)),
        name,
      ).toBe(true);
      expect(
        listing(withoutPrebuilds[name]!).some((f) => f.includes('/prebuilds/')),
        name,
      ).toBe(false);
    }
  });
});

describe('npm install of the tarballs into a fresh project', () => {
  it('scripts off: the prebuilds load, the basic and SF examples reach `qwp serve`, require() and types work', {
    timeout: 300_000,
  }, async () => {
    // @types/node: what a TypeScript project on Node has, for the type check below.
    const { app } = install('app-prebuilt', tarballs, {
      scripts: false,
      also: ['@types/node@^20.19.0'],
    });
    for (const name of NATIVE) expect(existsSync(join(installed(app, name), 'build'))).toBe(false);

    let sf: Record<string, unknown> = {};
    const counts = await withServe(app, (port) => {
      expect(runJson(app, 'basic.mjs', [port, ROWS])).toEqual({ sent: ROWS });
      sf = runJson(app, 'sf.mjs', [port, ROWS, join(app, 'sf')]);
    });
    expect(sf.error).toBeNull();
    expect(sf.sent).toBe(ROWS);
    expect(sf.crc32c).not.toBe('js');
    expect(String(sf.filesNative)).toContain(join(installed(app, 'files-native'), 'prebuilds'));
    expect(existsSync(join(app, 'sf', 'install-sf'))).toBe(true);
    expect(counts).toEqual({ install_basic: ROWS, install_sf: ROWS });

    // Node 20.19+ and 22.12+ require() ES modules without a flag.
    expect(runJson(app, 'require.cjs', [])).toEqual({
      sender: 'function',
      crc: 0xe3069283,
      port: 9123,
    });

    // TypeScript in the user's project finds every package's declarations through `exports`.
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['types.ts'],
      }),
    );
    const tsc = join(PACKAGES_DIR, '..', 'node_modules', 'typescript', 'bin', 'tsc');
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], app, 120_000);
  });

  it('prebuilds removed, scripts on: the install script compiles both addons from source', {
    timeout: 300_000,
  }, async () => {
    const { app, output } = install('app-source', withoutPrebuilds, { scripts: true });
    for (const name of NATIVE) {
      const release = join(installed(app, name), 'build', 'Release');
      expect(
        readdirSync(release).filter((f) => f.endsWith('.node')),
        `${name}: ${output}`,
      ).toHaveLength(1);
      expect(existsSync(join(installed(app, name), 'prebuilds'))).toBe(false);
    }
    let sf: Record<string, unknown> = {};
    const counts = await withServe(app, (port) => {
      sf = runJson(app, 'sf.mjs', [port, ROWS, join(app, 'sf')]);
    });
    expect(sf.error).toBeNull();
    expect(sf.crc32c).not.toBe('js');
    expect(String(sf.filesNative)).toContain(join(installed(app, 'files-native'), 'build'));
    expect(counts).toEqual({ install_sf: ROWS });
  });

  it('prebuilds removed, no C compiler: the install succeeds, memory mode works, SF mode says what is missing', {
    timeout: 300_000,
  }, async () => {
    const { app, output } = install('app-no-compiler', withoutPrebuilds, {
      scripts: true,
      // What a machine without a compiler looks like to node-gyp's make.
      env: { CC: 'qwp-no-such-cc', CXX: 'qwp-no-such-cxx' },
    });
    for (const name of NATIVE) {
      expect(output).toContain(`@qwp/${name}: no build for ${PLATFORM} loads here`);
      expect(output).toContain(`run \`npm rebuild @qwp/${name}\``);
    }
    let sf: Record<string, unknown> = {};
    const counts = await withServe(app, (port) => {
      expect(runJson(app, 'basic.mjs', [port, ROWS])).toEqual({ sent: ROWS });
      sf = runJson(app, 'sf.mjs', [port, ROWS, join(app, 'sf')]);
    });
    expect(counts).toEqual({ install_basic: ROWS });
    expect(sf.crc32c).toBe('js');
    const error = sf.error as { code: string; message: string };
    expect(error.code).toBe('ERR_QWP_SF_UNAVAILABLE');
    expect(error.message).toContain('@qwp/files-native');
    expect(error.message).toContain('@qwp/crc32c');
    expect(existsSync(join(app, 'sf', 'install-sf'))).toBe(false);
  });
});

// Prebuilds for targets this machine does not run: `node scripts/prebuilds.mjs`
// builds them where the cross compilers are installed (musl-tools,
// gcc-aarch64-linux-gnu); CI's machine has neither, so these run only here
// when asked (arm64) or where musl's loader exists.
const ARM64_NODE = process.env.QWP_TEST_ARM64_NODE;
const ARM64_SYSROOT = process.env.QWP_TEST_ARM64_SYSROOT ?? '/usr/aarch64-linux-gnu';
const MUSL_LOADER = '/lib/ld-musl-x86_64.so.1';

describe('prebuilds for the other Linux targets', () => {
  it.runIf(ARM64_NODE !== undefined)(
    'linux-arm64: an arm64 Node under qemu-aarch64 loads them and runs both examples',
    { timeout: 600_000 },
    async () => {
      for (const name of NATIVE) {
        expect(
          listing(tarballs[name]!).some((f) => f.startsWith('package/prebuilds/linux-arm64/')),
          name,
        ).toBe(true);
      }
      const { app } = install('app-arm64', tarballs, { scripts: false });
      const node = ['qemu-aarch64', '-L', ARM64_SYSROOT, ARM64_NODE!];
      let sf: Record<string, unknown> = {};
      const counts = await withServe(app, (port) => {
        expect(runJson(app, 'basic.mjs', [port, ROWS], node)).toEqual({ sent: ROWS });
        sf = runJson(app, 'sf.mjs', [port, ROWS, join(app, 'sf')], node);
      });
      expect(sf.error).toBeNull();
      expect(sf.crc32c).toBe('armv8-crc');
      expect(String(sf.filesNative)).toContain(
        join(installed(app, 'files-native'), 'prebuilds', 'linux-arm64'),
      );
      expect(counts).toEqual({ install_basic: ROWS, install_sf: ROWS });
    },
  );

  it.runIf(existsSync(MUSL_LOADER) && PLATFORM === 'linux-x64')(
    "linux-x64 musl: they link against musl alone, and musl's loader resolves every libc symbol",
    (ctx) => {
      const found = NATIVE.flatMap((name) =>
        listing(tarballs[name]!).filter((f) =>
          /^package\/prebuilds\/linux-x64\/.*\.musl\.node$/.test(f),
        ),
      );
      if (found.length !== NATIVE.length) ctx.skip();
      for (const name of NATIVE) {
        const dir = join(work, 'musl', name);
        mkdirSync(dir, { recursive: true });
        run('tar', ['xzf', tarballs[name]!, '-C', dir], work);
        const prebuilds = join(dir, 'package', 'prebuilds', 'linux-x64');
        const file = join(prebuilds, readdirSync(prebuilds).find((f) => f.endsWith('.musl.node'))!);
        const needed = run('readelf', ['-d', file], work)
          .split('\n')
          .filter((l) => l.includes('(NEEDED)'));
        expect(needed, name).toEqual([expect.stringContaining('[libc.so]')]);
        // --list relocates the file as dlopen would: only the Node-API symbols,
        // which the node executable provides, may be left unresolved.
        const listed = spawnSync(MUSL_LOADER, ['--list', file], { encoding: 'utf8' });
        const unresolved = `${listed.stdout}${listed.stderr}`
          .split('\n')
          .filter((l) => l.startsWith('Error relocating'));
        expect(unresolved.length, name).toBeGreaterThan(10);
        expect(
          unresolved.filter((l) => !/: napi_[a-z0-9_]+: symbol not found$/.test(l)),
          name,
        ).toEqual([]);
        // node-gyp-build picks it on musl (LIBC is what it reads where /etc/alpine-release is absent).
        const picker = join(PACKAGES_DIR, name, 'node_modules', 'node-gyp-build');
        const picked = run(
          process.execPath,
          [
            '-e',
            `console.log(require(${JSON.stringify(picker)}).path(process.argv[1]))`,
            join(dir, 'package'),
          ],
          work,
          20_000,
          { LIBC: 'musl' },
        );
        expect(picked.trim(), name).toBe(file);
      }
    },
  );
});
