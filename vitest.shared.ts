import { defineConfig } from 'vitest/config';

// Tests resolve sibling workspace packages to their TypeScript sources (the
// `source` export condition), so a package's tests never wait on, or go stale
// against, another package's dist/.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
