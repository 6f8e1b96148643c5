// npm's install step for this addon; it never fails the install. A prebuild
// (prebuilds/<platform>-<arch>/) or an earlier build that loads is used as
// is; otherwise node-gyp compiles the C sources; when that fails too (no
// Python, make or C compiler), this prints what is missing and exits 0,
// because the package works without its addon (see WITHOUT below).
// The same file ships in @qwp/crc32c and @qwp/files-native; only WITHOUT differs.
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const WITHOUT =
  'importing it works, and so does everything that maps no file; the calls that need the ' +
  'addon (mmap, flock, ...) throw AddonLoadError, so @qwp/sender runs in memory mode and ' +
  'refuses sf_dir with StoreAndForwardUnavailableError';

const root = join(__dirname, '..');
const { name } = require(join(root, 'package.json'));
const platform = `${process.platform}-${process.arch}`;

/** Undefined when a build for this platform loads, else the reason it does not. */
function loadProblem() {
  try {
    require('node-gyp-build')(root);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

/** How to run node-gyp: npm names its bundled copy in npm_config_node_gyp. */
function nodeGypCommand() {
  const bundled = process.env.npm_config_node_gyp;
  if (bundled) return { cmd: process.execPath, args: [bundled], shell: false };
  try {
    return {
      cmd: process.execPath,
      args: [require.resolve('node-gyp/bin/node-gyp.js')],
      shell: false,
    };
  } catch {
    return { cmd: 'node-gyp', args: [], shell: process.platform === 'win32' };
  }
}

const fromSource = process.env.npm_config_build_from_source === 'true';
if (!fromSource && loadProblem() === undefined) process.exit(0);

const gyp = nodeGypCommand();
const build = spawnSync(gyp.cmd, [...gyp.args, 'rebuild'], {
  cwd: root,
  stdio: 'inherit',
  shell: gyp.shell,
  windowsHide: true,
});
const problem =
  build.error !== undefined
    ? `node-gyp could not start (${build.error.message})`
    : build.status !== 0
      ? `node-gyp rebuild exited with ${build.status ?? build.signal} (it needs Python 3, make and a C compiler)`
      : loadProblem();
if (problem === undefined) process.exit(0);

console.warn(
  `${name}: no build for ${platform} loads here and the source build failed: ${problem}.\n` +
    `${name}: the install goes on without the addon: ${WITHOUT}.\n` +
    `${name}: to get it, install Python 3, make and a C compiler, then run \`npm rebuild ${name}\`.`,
);
