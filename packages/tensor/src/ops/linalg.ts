import { BackpropError, shapeToString } from '../errors.js';
import type { FusedActivation } from '../kernels.js';
import { matMulDims } from '../geometry.js';
import { assertTensorShape } from '../limits.js';
import type { Tensor } from '../tensor.js';
import { checkBoolean, checkFiniteNumber, checkFloatTensor, checkOptions, checkRank, checkSameDtype, checkOneOf, checkTensor } from '../validation.js';

export interface MatMulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** Added to every row of the product (length = its column count). */
  bias?: Tensor;
  /** Applied after the bias, fused into the same kernel. */
  activation?: FusedActivation;
  /** Slope for `leakyRelu`. */
  alpha?: number;
}

/** The activations matMul and conv2d apply in the same kernel, after the bias. */
export const FUSED_ACTIVATIONS: readonly FusedActivation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'leakyRelu'];

/** C = op(A)·op(B) + bias, then the activation (apps/docs/math/dense.md: Z = X·Wᵀ + b is `matMul(x, w, {transposeB: true, bias})`). */
export function matMul(a: Tensor, b: Tensor, options: MatMulOptions = {}): Tensor {
  const op = 'matMul';
  checkTensor(op, 'a', a);
  checkTensor(op, 'b', b);
  checkRank(op, 'a', a, 2);
  checkRank(op, 'b', b, 2);
  checkFloatTensor(op, 'a', a);
  checkSameDtype(op, a, b);
  const { transposeA = false, transposeB = false, bias, activation = 'linear', alpha = 0.01 } = checkOptions(op, options) as MatMulOptions;
  // Attributes go to the kernel as they are: a truthy string would transpose silently.
  checkBoolean(op, 'transposeA', transposeA);
  checkBoolean(op, 'transposeB', transposeB);
  checkOneOf(op, 'activation', activation, FUSED_ACTIVATIONS);
  checkFiniteNumber(op, 'alpha', alpha);
  const { m, k: kA, kB, n } = matMulDims(a.shape, b.shape, transposeA, transposeB);
  if (kA !== kB) {
    throw new BackpropError(
      op,
      `inner dimensions differ: ${transposeA ? 'aᵀ' : 'a'} is ${m}×${kA} and ${transposeB ? 'bᵀ' : 'b'} is ${kB}×${n}`,
    );
  }
  // (m, k)·(k, n) can be far larger than both inputs.
  assertTensorShape(op, [m, n], a.dtype, 'output shape');
  if (bias !== undefined) {
    checkTensor(op, 'bias', bias);
    checkSameDtype(op, a, bias, 'a', 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== n) {
      throw new BackpropError(op, `bias must have shape [${n}], got ${shapeToString(bias.shape)}`);
    }
  }
  return a.registry.runKernel(op, { a, b, bias }, { transposeA, transposeB, activation, alpha });
}

/** x + bias along axis 1 of (N, C) or (N, C, H, W). */
export function biasAdd(x: Tensor, bias: Tensor): Tensor {
  const op = 'biasAdd';
  checkTensor(op, 'x', x);
  checkTensor(op, 'bias', bias);
  checkFloatTensor(op, 'x', x);
  checkSameDtype(op, x, bias, 'x', 'bias');
  if (x.rank < 2) throw new BackpropError(op, `x must have rank ≥ 2, got shape ${shapeToString(x.shape)}`);
  if (bias.rank !== 1 || bias.shape[0] !== x.shape[1]) {
    throw new BackpropError(op, `bias must have shape [${x.shape[1]}] (x's axis 1), got ${shapeToString(bias.shape)}`);
  }
  return x.registry.runKernel(op, { x, bias }, {});
}

/** Σ of dy over every axis but 1: the bias gradient (apps/docs/math/convolution.md, apps/docs/math/dense.md). */
export function biasGrad(dy: Tensor): Tensor {
  checkTensor('biasGrad', 'dy', dy);
  checkFloatTensor('biasGrad', 'dy', dy);
  if (dy.rank < 2) throw new BackpropError('biasGrad', `dy must have rank ≥ 2, got shape ${shapeToString(dy.shape)}`);
  return dy.registry.runKernel('biasGrad', { dy }, {});
}
