import type { Plugin } from '@backprop/tensor';
import { CpuBackend } from './backend.js';
import { cpuKernels } from './kernels/index.js';
import { type CpuBackendOptions, resolveConvAlgorithm } from './options.js';

/** A new CPU backend instance (for `registry.registerBackend` or direct use). */
export function createCpuBackend(options: CpuBackendOptions = {}): CpuBackend {
  return new CpuBackend(options);
}

/**
 * The 'cpu' backend plugin with options, e.g. `registry.use(cpuBackendWithOptions({ threads: 2 }))`
 * or `cpuBackendWithOptions({ convAlgorithm: { forward: 'gemm' } })`. Same plugin name as
 * `cpuBackend`: a registry holds one of them. Bad options throw here, not when the backend starts.
 */
export function cpuBackendWithOptions(options: CpuBackendOptions): Plugin {
  resolveConvAlgorithm(options.convAlgorithm);
  return {
    name: '@backprop/backend-cpu',
    install(registry) {
      registry.registerBackend('cpu', () => new CpuBackend(options), { priority: 1 });
      for (const kernel of cpuKernels) registry.registerKernel(kernel);
    },
  };
}

/**
 * The 'cpu' backend running its heavy kernels (matMul, conv2d and its gradients) on
 * `threads` threads, the calling one included (Node worker_threads; single-threaded
 * where those are unavailable). Results are bit-identical to `cpuBackend`'s.
 */
export function cpuBackendWithThreads(threads: number, options: Omit<CpuBackendOptions, 'threads'> = {}): Plugin {
  return cpuBackendWithOptions({ ...options, threads });
}

/** Installs the 'cpu' backend (single-threaded) and all of its kernels: `registry.use(cpuBackend)`. */
export const cpuBackend: Plugin = cpuBackendWithOptions({});
