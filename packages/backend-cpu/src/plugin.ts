import type { Plugin } from '@backprop/tensor';
import { CpuBackend } from './backend.js';
import { cpuKernels } from './kernels/index.js';

/** Installs the 'cpu' backend and all of its kernels: `registry.use(cpuBackend)`. */
export const cpuBackend: Plugin = {
  name: '@backprop/backend-cpu',
  install(registry) {
    registry.registerBackend('cpu', () => new CpuBackend(), { priority: 1 });
    for (const kernel of cpuKernels) registry.registerKernel(kernel);
  },
};
