// Builds the native packages' prebuilds for every Linux target this machine
// has a compiler for, into packages/<name>/prebuilds/<platform>-<arch>/, the
// files `npm pack` ships and node-gyp-build picks at run time (file names
// <package>.node, <package>.musl.node):
//   linux-x64   glibc  the host build (`pnpm build` makes it too)
//   linux-x64   musl   with musl-gcc (Debian: musl-tools)
//   linux-arm64 glibc  with aarch64-linux-gnu-gcc (Debian: gcc-aarch64-linux-gnu)
// A target whose compiler is missing is skipped and named; targets no Linux
// compiler here can make (macOS, Windows, linux-arm64 musl) are built by
// .github/workflows/prebuilds.yml on their own runners.
// Usage: node scripts/prebuilds.mjs [--only crc32c|files-native]
//        node scripts/prebuilds.mjs --check   (before a release: fails unless
//        both packages hold the three Linux prebuilds above)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.includes('--only') ? process.argv.at(-1) : undefined;
const PACKAGES = ['crc32c', 'files-native'].filter((p) => only === undefined || p === only);

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Each target: prebuildify flags and the environment that picks its compiler. */
const TARGETS = [
  { name: 'linux-x64 glibc', needs: 'cc', arch: 'x64', libc: 'glibc', env: {} },
  {
    name: 'linux-x64 musl',
    needs: 'musl-gcc',
    arch: 'x64',
    libc: 'musl',
    env: { CC: 'musl-gcc', LINK: 'musl-gcc' },
  },
  {
    name: 'linux-arm64 glibc',
    needs: 'aarch64-linux-gnu-gcc',
    arch: 'arm64',
    libc: 'glibc',
    stripBin: 'aarch64-linux-gnu-strip',
    env: {
      CC: 'aarch64-linux-gnu-gcc',
      CXX: 'aarch64-linux-gnu-g++',
      LINK: 'aarch64-linux-gnu-gcc',
      AR: 'aarch64-linux-gnu-ar',
    },
  },
];

if (process.argv.includes('--check')) {
  const missing = [];
  for (const pkg of PACKAGES) {
    for (const [dir, file] of [
      ['linux-x64', `@qwp+${pkg}.node`],
      ['linux-x64', `@qwp+${pkg}.musl.node`],
      ['linux-arm64', `@qwp+${pkg}.node`],
    ]) {
      if (!existsSync(join(root, 'packages', pkg, 'prebuilds', dir, file))) {
        missing.push(`packages/${pkg}/prebuilds/${dir}/${file}`);
      }
    }
  }
  for (const m of missing) console.error(`missing prebuild: ${m}`);
  process.exit(missing.length === 0 ? 0 : 1);
}

if (platform() !== 'linux' || arch() !== 'x64') {
  console.error(
    `scripts/prebuilds.mjs cross-builds from linux-x64 only (this is ${platform()}-${arch()})`,
  );
  process.exit(1);
}

// prebuildify runs node-gyp outside npm, which would not pass npm's config on.
const nodedir = execFileSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).trim();
const work = mkdtempSync(join(tmpdir(), 'qwp-prebuilds-'));
const skipped = [];
try {
  for (const pkg of PACKAGES) {
    const dir = join(root, 'packages', pkg);
    const bin = join(dir, 'node_modules', '.bin');
    for (const target of TARGETS) {
      if (!has(target.needs)) {
        skipped.push(`${pkg} ${target.name}: ${target.needs} not found`);
        continue;
      }
      // A copy of the sources, so build/ (which running tests load) is never replaced.
      const copy = join(work, `${pkg}-${target.arch}-${target.libc}`);
      mkdirSync(copy, { recursive: true });
      for (const f of readdirSync(dir)) {
        if (f === 'binding.gyp' || f === 'binding.c' || f === 'package.json') {
          copyFileSync(join(dir, f), join(copy, f));
        }
      }
      cpSync(join(dir, 'src'), join(copy, 'src'), {
        recursive: true,
        filter: (s) => !/\.(ts|js)$/.test(s),
      });
      // glibc builds stay untagged, as `pnpm build` makes them; node-gyp-build
      // prefers a file tagged musl on musl and never picks one on glibc.
      const args = ['--napi', '--strip', '--arch', target.arch];
      if (target.libc === 'musl') args.push('--libc', 'musl', '--tag-libc');
      if (target.stripBin) args.push('--strip-bin', target.stripBin);
      execFileSync(join(bin, 'prebuildify'), args, {
        cwd: copy,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          ...target.env,
          PREBUILD_NODE_GYP: join(bin, 'node-gyp'),
          // Node's headers where npm's config names them (offline machines).
          ...(nodedir === '' || nodedir === 'undefined' ? {} : { npm_config_nodedir: nodedir }),
        },
      });
      const out = join(copy, 'prebuilds', `linux-${target.arch}`);
      const dest = join(dir, 'prebuilds', `linux-${target.arch}`);
      mkdirSync(dest, { recursive: true });
      for (const f of readdirSync(out)) {
        copyFileSync(join(out, f), join(dest, f));
        console.log(`built packages/${pkg}/prebuilds/linux-${target.arch}/${f}`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
for (const s of skipped) console.log(`skipped ${s}`);
