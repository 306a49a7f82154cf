import type { KernelConfig, KernelName } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import { activationKernels } from './activations.js';
import { affineResample } from './affineResample.js';
import { biasKernels } from './bias.js';
import { conv2d } from './conv2d.js';
import { conv2dBackwardFilter } from './conv2dBackwardFilter.js';
import { conv2dBackwardInput } from './conv2dBackwardInput.js';
import { elementwiseKernels } from './elementwise.js';
import { headKernels } from './heads.js';
import { matMul } from './matMul.js';
import { oneHot } from './oneHot.js';
import { poolKernels } from './pool.js';
import { reduceKernels } from './reduce.js';
import { updateKernels } from './updates.js';

/** Every kernel of the CPU backend (one per name in KERNEL_NAMES). */
export const cpuKernels: readonly KernelConfig<KernelName, CpuBackend>[] = [
  ...elementwiseKernels,
  ...activationKernels,
  matMul,
  ...biasKernels,
  ...reduceKernels,
  oneHot,
  conv2d,
  conv2dBackwardFilter,
  conv2dBackwardInput,
  ...poolKernels,
  affineResample,
  ...headKernels,
  ...updateKernels,
] as unknown as readonly KernelConfig<KernelName, CpuBackend>[];
