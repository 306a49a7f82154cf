// The module exports exactly the functions WasmExports declares: every one the backend calls is
// there (in both builds), and no helper the kernels share inside the module leaks out.
import { describe, expect, it } from 'vitest';
import type { WasmExports } from './exports.js';
import { wasmModule, wasmThreadsModule } from './module.js';

// `satisfies` makes the compiler hold this list to WasmExports: no name missing, none extra.
const declared = {
  heapBase: true, gemm: true, gemmScratchBytes: true, add_f32: true, sub_f32: true, mul_f32: true,
  div_f32: true, maximum_f32: true, minimum_f32: true, addScalar_f32: true, mulScalar_f32: true,
  maximumScalar_f32: true, minimumScalar_f32: true, powScalar_f32: true, neg_f32: true, exp_f32: true,
  log_f32: true, log1p_f32: true, sqrt_f32: true, square_f32: true, abs_f32: true, sign_f32: true,
  relu_f32: true, sigmoid_f32: true, tanh_f32: true, leakyRelu_f32: true, reluBackward_f32: true,
  sigmoidBackward_f32: true, tanhBackward_f32: true, leakyReluBackward_f32: true, softmax_f32: true,
  logSoftmax_f32: true, softmaxBackward_f32: true, biasColumnsActivate_f32: true, biasAdd_f32: true,
  biasGradChunks_f64: true, biasGradSum_f32: true, reduce_f32: true, argMax_f32: true, oneHot: true,
  cast: true, conv2d_f32: true, conv2dWinograd_f32: true, conv2dBackwardInput_f32: true,
  conv2dBackwardFilter_f32: true, conv2dBackwardFilterSparse_f32: true, sumChunks_f32: true,
  nonZeroCount_f32: true, allFinite_f32: true, maxPool_f32: true, maxPoolBackward_f32: true,
  sumPool_f32: true, sumPoolBackward_f32: true, affineResample_f32: true, softmaxCrossEntropy_f32: true,
  sigmoidCrossEntropy_f32: true, sgdUpdate_f32: true, momentumUpdate_f32: true, adamUpdate_f32: true,
  rmspropUpdate_f32: true,
} satisfies Record<keyof WasmExports, true>;

const functionExports = (module: WebAssembly.Module): string[] =>
  WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort();

describe('the module\'s exports', () => {
  it('are the functions WasmExports declares, in the single-thread and the threads build', () => {
    const want = Object.keys(declared).sort();
    expect(functionExports(wasmModule())).toEqual(want);
    expect(functionExports(wasmThreadsModule())).toEqual(want);
  });
});
