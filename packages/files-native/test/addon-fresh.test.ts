import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonPath } from '../src/index.js';
import { packageRoot } from './helpers.js';

// Every other test runs whatever addon node-gyp-build finds; after a C edit
// without a rebuild they would pass against the old code. Fail loudly instead.
describe('the loaded addon', () => {
  it('is newer than every C source it is built from', () => {
    const sources = [
      'binding.gyp',
      ...readdirSync(join(packageRoot, 'src'))
        .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
        .map((f) => join('src', f)),
    ];
    const built = statSync(addonPath()).mtimeMs;
    const newer = sources.filter((f) => statSync(join(packageRoot, f)).mtimeMs > built);
    expect(
      newer,
      `${addonPath()} is older than these; run \`pnpm run build\` in the package`,
    ).toEqual([]);
  });
});
