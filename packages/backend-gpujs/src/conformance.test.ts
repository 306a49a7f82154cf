// Conformance in the modes that need nothing native: always run, in every environment.
// headlessgl and webgpu run in their own files (test/*.test.ts), each in its own process.
import { describeBackendConformance } from '@backprop/tensor/testing';
import { gpujsBackend } from './index.js';
import { yieldBetweenTests } from '../test/suites.js';

yieldBetweenTests();

for (const mode of ['cpu', 'webasm'] as const) {
  describeBackendConformance(`backend-gpujs ${mode} mode`, gpujsBackend({ mode }), { backendName: 'gpujs', dtypes: ['float32'] });
}
