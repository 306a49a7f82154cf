import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared';

export default mergeConfig(sharedConfig, defineProject({ test: { name: 'system-deps', testTimeout: 60_000 } }));
