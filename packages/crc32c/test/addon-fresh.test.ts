import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from './helpers.js';

// Every other test runs whatever addon node-gyp-build finds; after a C edit
// without a rebuild they would pass against the old code. Fail loudly instead.
describe('the loaded addon', () => {
  it('is newer than every C source it is built from', () => {
    const nodeGypBuild = createRequire(join(PACKAGE_ROOT, 'package.json'))('node-gyp-build') as {
      path(dir: string): string;
    };
    const addon = nodeGypBuild.path(PACKAGE_ROOT);
    const sources = [
      'binding.c',
      'binding.gyp',
      ...readdirSync(join(PACKAGE_ROOT, 'src'))
        .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
        .map((f) => join('src', f)),
    ];
    const built = statSync(addon).mtimeMs;
    const newer = sources.filter((f) => statSync(join(PACKAGE_ROOT, f)).mtimeMs > built);
    expect(newer, `${addon} is older than these; run \`pnpm run build\` in the package`).toEqual(
      [],
    );
  });
});
