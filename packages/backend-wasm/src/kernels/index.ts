import type { KernelConfig, KernelName } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';
import { activationKernels } from './activations.js';
import { affineResample } from './affineResample.js';
import { argMax } from './argMax.js';
import { biasKernels } from './bias.js';
import { cast } from './cast.js';
import { conv2d } from './conv2d.js';
import { conv2dBackwardFilter } from './conv2dBackwardFilter.js';
import { conv2dBackwardInput } from './conv2dBackwardInput.js';
import { elementwiseKernels } from './elementwise.js';
import { headKernels } from './heads.js';
import { matMul } from './matMul.js';
import { oneHot } from './oneHot.js';
import { poolKernels } from './pool.js';
import { reduceKernels } from './reduce.js';
import { softmaxKernels } from './softmax.js';
import { updateKernels } from './updates.js';

/** Every kernel of the wasm backend (one per name in KERNEL_NAMES). */
export const wasmKernels: readonly KernelConfig<KernelName, WasmBackend>[] = [
  ...elementwiseKernels,
  cast,
  ...activationKernels,
  ...softmaxKernels,
  matMul,
  ...biasKernels,
  ...reduceKernels,
  argMax,
  oneHot,
  conv2d,
  conv2dBackwardFilter,
  conv2dBackwardInput,
  ...poolKernels,
  affineResample,
  ...headKernels,
  ...updateKernels,
] as unknown as readonly KernelConfig<KernelName, WasmBackend>[];
