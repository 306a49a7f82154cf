export { gpujsBackend, type GpujsPluginOptions } from './plugin.js';
export {
  GpujsBackend,
  GpujsData,
  GpujsKernelError,
  createGpujsBackend,
  MAX_KERNEL_ARRAY_ARGS,
  type GpujsBackendOptions,
  type Program,
} from './backend.js';
export { gpujsKernels } from './kernels/index.js';
export {
  AUTO_ORDER,
  GPUJS_MODES,
  GpujsModeError,
  availableModes,
  resolveMode,
  whyUnavailable,
  whyUnavailableAsync,
  type GpujsConcreteMode,
  type GpujsMode,
} from './modes.js';
export { installNodeWebGPU, type NodeWebGPUOptions } from './node-webgpu.js';
