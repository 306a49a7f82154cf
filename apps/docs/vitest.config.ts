import { defineConfig } from 'vitest/config';

/**
 * The docs' browser tests: build the site (or reuse a fresh build), serve it on
 * 127.0.0.1 and drive Debian's chromium with playwright-core.
 */
export default defineConfig({
  test: {
    name: '@backprop/docs',
    include: ['test/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 420_000,
    // One browser, one server: run the files one after another.
    fileParallelism: false,
  },
});
