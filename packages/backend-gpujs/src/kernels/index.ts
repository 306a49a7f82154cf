import type { KernelConfig, KernelName } from '@backprop/tensor';
import type { GpujsBackend } from '../backend.js';
import { activationKernels } from './activations.js';
import { convKernels } from './conv2d.js';
import { elementwiseKernels } from './elementwise.js';
import { headKernels } from './heads.js';
import { linalgKernels } from './matMul.js';
import { poolKernels } from './pool.js';
import { reduceKernels } from './reduce.js';
import { resampleKernels } from './resample.js';
import { updateKernels } from './updates.js';

/** Every kernel of the gpujs backend (one per name in KERNEL_NAMES). */
export const gpujsKernels: readonly KernelConfig<KernelName, GpujsBackend>[] = [
  ...elementwiseKernels,
  ...activationKernels,
  ...linalgKernels,
  ...reduceKernels,
  ...convKernels,
  ...poolKernels,
  ...resampleKernels,
  ...headKernels,
  ...updateKernels,
];
