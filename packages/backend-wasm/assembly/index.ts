// The module's exports: plain functions over byte offsets into the imported linear memory
// (no AssemblyScript-managed object ever crosses the boundary). One file per kernel family.
// Exported by name: exactly what src/exports.ts's WasmExports declares (src/exports.test.ts
// checks), not the helpers the kernels share inside the module (activate_f32, im2col, col2imAdd,
// biasRowsActivate_f32).
export { heapBase } from './layout';
export { gemm, gemmScratchBytes } from './gemm';
export {
  add_f32, sub_f32, mul_f32, div_f32, maximum_f32, minimum_f32,
  addScalar_f32, mulScalar_f32, maximumScalar_f32, minimumScalar_f32, powScalar_f32, square_f32,
} from './elementwise';
export { neg_f32, sqrt_f32, abs_f32, sign_f32, exp_f32, log_f32, log1p_f32 } from './unary';
export {
  relu_f32, reluBackward_f32, leakyRelu_f32, leakyReluBackward_f32,
  sigmoid_f32, sigmoidBackward_f32, tanh_f32, tanhBackward_f32,
} from './activations';
export { softmax_f32, logSoftmax_f32, softmaxBackward_f32 } from './softmax';
export { biasColumnsActivate_f32 } from './matmul';
export { biasAdd_f32, biasGradChunks_f64, biasGradSum_f32 } from './bias';
export { reduce_f32, argMax_f32 } from './reduce';
export { oneHot } from './onehot';
export { cast } from './cast';
export {
  conv2d_f32, conv2dWinograd_f32, conv2dBackwardInput_f32, conv2dBackwardFilter_f32, conv2dBackwardFilterSparse_f32,
  sumChunks_f32, nonZeroCount_f32, allFinite_f32,
} from './conv';
export { maxPool_f32, maxPoolBackward_f32, sumPool_f32, sumPoolBackward_f32 } from './pool';
export { affineResample_f32 } from './resample';
export { softmaxCrossEntropy_f32, sigmoidCrossEntropy_f32 } from './heads';
export { sgdUpdate_f32, momentumUpdate_f32, adamUpdate_f32, rmspropUpdate_f32 } from './updates';
