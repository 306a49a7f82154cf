export { cpuBackend } from './plugin.js';
export { CpuBackend, CpuData, type CpuOutput } from './backend.js';
export { cpuKernels } from './kernels/index.js';
export { convAlgorithm } from './kernels/direct.js';
