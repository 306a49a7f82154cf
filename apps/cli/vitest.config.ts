import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared';

export default mergeConfig(
  sharedConfig,
  defineProject({
    test: {
      name: 'cli',
      globalSetup: ['./test/global-setup.ts'],
      // The tests spawn the built binary, which trains on 2 cores: run files one at a time.
      fileParallelism: false,
      testTimeout: 120_000,
    },
  }),
);
