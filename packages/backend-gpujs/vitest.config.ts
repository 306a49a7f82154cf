import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared';

export default mergeConfig(
  sharedConfig,
  defineProject({
    test: {
      name: 'backend-gpujs',
      // Each test file in its own process: headless-gl and Dawn (webgpu) cannot share one.
      pool: 'forks',
      testTimeout: 600_000,
    },
  }),
);
