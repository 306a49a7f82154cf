import { defineConfig } from 'vitest/config';

/**
 * Every package's vitest config extends this. Workspace packages resolve to their
 * TypeScript sources through the private `backprop-source` export condition, so a
 * package's tests run alone without building its dependencies first. Published
 * tarballs do not contain `src/`, and no consumer sets that condition.
 */
export const sharedConfig = defineConfig({
  resolve: { conditions: ['backprop-source'] },
  ssr: { resolve: { conditions: ['backprop-source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
