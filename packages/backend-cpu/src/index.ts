export { cpuBackend, cpuBackendWithOptions, cpuBackendWithThreads, createCpuBackend } from './plugin.js';
export { CpuBackend, CpuData, PARALLEL_MIN_FLOPS, type CpuBackendOptions, type CpuOutput } from './backend.js';
export { cpuKernels } from './kernels/index.js';
export { convAlgorithm } from './kernels/direct.js';
