import { BackpropError, shapeToString } from '../errors.js';
import { computeConv2DInfo, type Shape4 } from '../geometry.js';
import type { FusedActivation } from '../kernels.js';
import { assertTensorShape } from '../limits.js';
import type { Tensor } from '../tensor.js';
import { FUSED_ACTIVATIONS } from './linalg.js';
import { checkFiniteNumber, checkFloatTensor, checkIntPair, checkOneOf, checkOptions, checkRank, checkSameDtype, checkTensor } from '../validation.js';

export type Pair = number | readonly [number, number];
export type { Shape4 };

export interface Conv2DOptions {
  /** Stride S (Z_S in the paper), default 1. */
  strides?: Pair;
  /** Zero padding P on each side (Z_P in the paper), default 0. */
  pad?: Pair;
  bias?: Tensor;
  activation?: FusedActivation;
  alpha?: number;
}

function geometry(op: string, options: { strides?: Pair; pad?: Pair }): { strides: [number, number]; pad: [number, number] } {
  const { strides = 1, pad = 0 } = checkOptions(op, options);
  return { strides: checkIntPair(op, 'stride', strides, 'positive'), pad: checkIntPair(op, 'padding', pad, 'non-negative') };
}

/** Y = act(X ⋆ K + b): cross-correlation, NCHW, apps/docs/math/convolution.md (fixes E18/E19). */
export function conv2d(x: Tensor, filter: Tensor, options: Conv2DOptions = {}): Tensor {
  const op = 'conv2d';
  checkTensor(op, 'x', x);
  checkTensor(op, 'filter', filter);
  checkRank(op, 'x', x, 4, '(batch, channels, height, width)');
  checkRank(op, 'filter', filter, 4, '(filters, channels, kernelHeight, kernelWidth)');
  checkFloatTensor(op, 'x', x);
  checkSameDtype(op, x, filter, 'x', 'filter');
  const { strides, pad } = geometry(op, options);
  const { outShape } = computeConv2DInfo(x.shape, filter.shape, strides, pad, op);
  // Padding or many filters can make the output far larger than the input.
  assertTensorShape(op, outShape, x.dtype, 'output shape');
  const { bias, activation = 'linear', alpha = 0.01 } = options;
  checkOneOf(op, 'activation', activation, FUSED_ACTIVATIONS);
  checkFiniteNumber(op, 'alpha', alpha);
  if (bias !== undefined) {
    checkTensor(op, 'bias', bias);
    checkSameDtype(op, x, bias, 'x', 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== outShape[1]) {
      throw new BackpropError(op, `bias must have shape [${outShape[1]}] (one per filter), got ${shapeToString(bias.shape)}`);
    }
  }
  return x.registry.runKernel(op, { x, filter, bias }, { strides, pad, activation, alpha });
}

function checkDy(op: string, dy: Tensor, expected: Readonly<Shape4>): void {
  checkTensor(op, 'dy', dy);
  checkRank(op, 'dy', dy, 4);
  if (dy.shape.some((d, i) => d !== expected[i])) {
    throw new BackpropError(op, `dy must have the forward output's shape ${shapeToString(expected)}, got ${shapeToString(dy.shape)}`);
  }
}

/** ∂K = Σ_n X̃ ⋆ G↑S (no rotation, apps/docs/math/convolution.md and E36). */
export function conv2dBackwardFilter(
  x: Tensor,
  dy: Tensor,
  filterShape: readonly number[],
  options: { strides?: Pair; pad?: Pair } = {},
): Tensor {
  const op = 'conv2dBackwardFilter';
  checkTensor(op, 'x', x);
  checkRank(op, 'x', x, 4, '(batch, channels, height, width)');
  checkFloatTensor(op, 'x', x);
  // filterShape is the output's shape: check it as one before any kernel allocates it.
  assertTensorShape(op, filterShape, x.dtype, 'filterShape');
  if (filterShape.length !== 4) throw new BackpropError(op, `filterShape must have 4 entries, got ${shapeToString(filterShape)}`);
  const { strides, pad } = geometry(op, options);
  checkDy(op, dy, computeConv2DInfo(x.shape, filterShape, strides, pad, op).outShape);
  checkSameDtype(op, x, dy, 'x', 'dy');
  return x.registry.runKernel(op, { x, dy }, { strides, pad, filterShape: [...filterShape] as Shape4 });
}

/** ∂X = crop(pad(G↑S) ⋆ rot180(K)) (apps/docs/math/convolution.md). */
export function conv2dBackwardInput(
  dy: Tensor,
  filter: Tensor,
  inputShape: readonly number[],
  options: { strides?: Pair; pad?: Pair } = {},
): Tensor {
  const op = 'conv2dBackwardInput';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'filter', filter);
  checkFloatTensor(op, 'filter', filter);
  checkRank(op, 'filter', filter, 4, '(filters, channels, kernelHeight, kernelWidth)');
  // inputShape is the output's shape: check it as one before any kernel allocates it.
  assertTensorShape(op, inputShape, filter.dtype, 'inputShape');
  if (inputShape.length !== 4) throw new BackpropError(op, `inputShape must have 4 entries, got ${shapeToString(inputShape)}`);
  const { strides, pad } = geometry(op, options);
  checkDy(op, dy, computeConv2DInfo(inputShape, filter.shape, strides, pad, op).outShape);
  checkSameDtype(op, dy, filter, 'dy', 'filter');
  return dy.registry.runKernel(op, { dy, filter }, { strides, pad, inputShape: [...inputShape] as Shape4 });
}
