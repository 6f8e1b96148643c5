import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonPath, PACKAGE_ROOT } from './helpers.js';

// Every other test runs whatever addon node-gyp-build finds; after a C edit
// without a rebuild they would pass against the old code. Fail loudly instead.
describe('the loaded addon', () => {
  it('is newer than every C source it is built from', () => {
    const addon = addonPath();
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
