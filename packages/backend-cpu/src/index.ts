export { cpuBackend, cpuBackendWithOptions, cpuBackendWithThreads, createCpuBackend } from './plugin.js';
export { CpuBackend, CpuData, type CpuOutput } from './backend.js';
export { PARALLEL_MIN_FLOPS, type ConvAlgorithm, type CpuBackendOptions } from './options.js';
export { cpuKernels } from './kernels/index.js';
