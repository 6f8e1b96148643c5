import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonPath } from '../src/index.js';

/** The package root, where node-gyp-build looks for the addon. */
export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Seed for randomised tests: QWP_TEST_SEED overrides the fixed default. */
export const seed = Number(process.env.QWP_TEST_SEED ?? 20261123);

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix = 'qwp-files-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Makes `root` a copy of the package as an install with no native build
 * leaves it: the compiled JS in root/dist, a package.json and the real
 * node_modules (for node-gyp-build), neither prebuilds/ nor build/.
 * Children import root/dist/index.js.
 */
export function compiledCopy(root: string): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(root, 'dist')], {
    cwd: packageRoot,
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  writeFileSync(join(root, 'package.json'), '{"name":"copy","private":true,"type":"module"}\n');
  symlinkSync(join(packageRoot, 'node_modules'), join(root, 'node_modules'));
}

/** Copies the loaded addon into `root`/build/Release, where a local build puts it. */
export function addLocalBuild(root: string): void {
  mkdirSync(join(root, 'build', 'Release'), { recursive: true });
  copyFileSync(addonPath(), join(root, 'build', 'Release', 'files_native.node'));
}

/**
 * CommonJS prelude for child processes and workers: loads the raw addon as
 * `b` (the TypeScript layer cannot run in a plain `node -e`).
 */
export const prelude = `
const { createRequire } = require('node:module');
const fs = require('node:fs');
const b = createRequire(${JSON.stringify(join(packageRoot, 'package.json'))})('node-gyp-build')(${JSON.stringify(packageRoot)});
`;

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `prelude + script` in a child node (args become process.argv[1..]) and waits, bounded. */
export function runChild(
  script: string,
  args: string[] = [],
  nodeFlags: string[] = [],
): ChildResult {
  const result = spawnSync(
    process.execPath,
    [...nodeFlags, '-e', prelude + script, '--', ...args],
    {
      encoding: 'utf8',
      timeout: 15_000,
    },
  );
  if (result.error) throw result.error;
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

/**
 * Starts `prelude + script` in a child that keeps running; resolves once the
 * child prints `ready` on stdout. The caller must kill it.
 */
export function startChild(
  script: string,
  args: string[] = [],
): Promise<import('node:child_process').ChildProcess> {
  const child = spawn(process.execPath, ['-e', prelude + script, '--', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not get ready in time: ${err}`));
    }, 10_000);
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited early with ${code}: ${err}`));
    });
  });
}

/** Resolves when the child has exited (kill it first). */
export function exited(child: import('node:child_process').ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

const MOUNT_FAILED = 97;

/**
 * Runs `command` (which finds the mount at `dir`, e.g. as an argument) in a
 * private mount namespace with a 256 KiB tmpfs mounted on `dir`; the mount
 * vanishes with the namespace. Returns null when this machine will not let
 * us mount (no unshare, no user namespaces).
 */
export function inSmallTmpfs(
  dir: string,
  command: string[],
): { status: number | null; stdout: string; stderr: string } | null {
  const unshare = process.getuid?.() === 0 ? ['-m'] : ['-r', '-m'];
  const shell = `mount -t tmpfs -o size=256k tmpfs "$1" || exit ${MOUNT_FAILED}; shift; exec "$@"`;
  const result = spawnSync('unshare', [...unshare, 'sh', '-c', shell, 'sh', dir, ...command], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (
    result.error ||
    result.status === MOUNT_FAILED ||
    (result.status !== 0 && result.stdout === '')
  ) {
    return null;
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
