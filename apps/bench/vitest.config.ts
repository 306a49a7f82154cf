import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared';

export default mergeConfig(
  sharedConfig,
  defineProject({
    test: {
      name: 'bench',
      // The smoke run spawns one child per library and task, one after another.
      testTimeout: 600_000,
    },
  }),
);
