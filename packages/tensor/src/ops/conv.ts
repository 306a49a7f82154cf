import { BackpropError, shapeToString } from '../errors.js';
import { computeConv2DInfo, type Shape4 } from '../geometry.js';
import type { FusedActivation } from '../kernels.js';
import { assertTensorShape } from '../limits.js';
import type { Tensor } from '../tensor.js';
import { assertActivation } from './linalg.js';
import {
  assertFiniteNumber,
  assertFloat,
  assertOptions,
  assertRank,
  assertSameDtype,
  assertTensor,
  pair,
} from './validate.js';

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
  assertOptions(op, options);
  return {
    strides: pair(op, 'stride', options.strides, [1, 1], 'positive'),
    pad: pair(op, 'padding', options.pad, [0, 0], 'non-negative'),
  };
}

/** Y = act(X ⋆ K + b): cross-correlation, NCHW, MATH.md §2.1 (fixes E18/E19). */
export function conv2d(x: Tensor, filter: Tensor, options: Conv2DOptions = {}): Tensor {
  const op = 'conv2d';
  assertTensor(op, 'x', x);
  assertTensor(op, 'filter', filter);
  assertRank(op, 'x', x, 4, '(batch, channels, height, width)');
  assertRank(op, 'filter', filter, 4, '(filters, channels, kernelHeight, kernelWidth)');
  assertFloat(op, 'x', x);
  assertSameDtype(op, x, filter, 'x', 'filter');
  const { strides, pad } = geometry(op, options);
  const { outShape } = computeConv2DInfo(x.shape, filter.shape, strides, pad, op);
  // Padding or many filters can make the output far larger than the input.
  assertTensorShape(op, outShape, x.dtype, 'output shape');
  const { bias, activation = 'linear', alpha = 0.01 } = options;
  assertActivation(op, activation);
  assertFiniteNumber(op, 'alpha', alpha);
  if (bias !== undefined) {
    assertTensor(op, 'bias', bias);
    assertSameDtype(op, x, bias, 'x', 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== outShape[1]) {
      throw new BackpropError(op, `bias must have shape [${outShape[1]}] (one per filter), got ${shapeToString(bias.shape)}`);
    }
  }
  return x.registry.runKernel(op, { x, filter, bias }, { strides, pad, activation, alpha });
}

function checkDy(op: string, dy: Tensor, expected: Readonly<Shape4>): void {
  assertTensor(op, 'dy', dy);
  assertRank(op, 'dy', dy, 4);
  if (dy.shape.some((d, i) => d !== expected[i])) {
    throw new BackpropError(op, `dy must have the forward output's shape ${shapeToString(expected)}, got ${shapeToString(dy.shape)}`);
  }
}

/** ∂K = Σ_n X̃ ⋆ G↑S (no rotation, MATH.md §2.1 and E36). */
export function conv2dBackwardFilter(
  x: Tensor,
  dy: Tensor,
  filterShape: readonly number[],
  options: { strides?: Pair; pad?: Pair } = {},
): Tensor {
  const op = 'conv2dBackwardFilter';
  assertTensor(op, 'x', x);
  assertRank(op, 'x', x, 4, '(batch, channels, height, width)');
  assertFloat(op, 'x', x);
  // filterShape is the output's shape: check it as one before any kernel allocates it.
  assertTensorShape(op, filterShape, x.dtype, 'filterShape');
  if (filterShape.length !== 4) throw new BackpropError(op, `filterShape must have 4 entries, got ${shapeToString(filterShape)}`);
  const { strides, pad } = geometry(op, options);
  checkDy(op, dy, computeConv2DInfo(x.shape, filterShape, strides, pad, op).outShape);
  assertSameDtype(op, x, dy, 'x', 'dy');
  return x.registry.runKernel(op, { x, dy }, { strides, pad, filterShape: [...filterShape] as Shape4 });
}

/** ∂X = crop(pad(G↑S) ⋆ rot180(K)) (MATH.md §2.1). */
export function conv2dBackwardInput(
  dy: Tensor,
  filter: Tensor,
  inputShape: readonly number[],
  options: { strides?: Pair; pad?: Pair } = {},
): Tensor {
  const op = 'conv2dBackwardInput';
  assertTensor(op, 'dy', dy);
  assertTensor(op, 'filter', filter);
  assertFloat(op, 'filter', filter);
  assertRank(op, 'filter', filter, 4, '(filters, channels, kernelHeight, kernelWidth)');
  // inputShape is the output's shape: check it as one before any kernel allocates it.
  assertTensorShape(op, inputShape, filter.dtype, 'inputShape');
  if (inputShape.length !== 4) throw new BackpropError(op, `inputShape must have 4 entries, got ${shapeToString(inputShape)}`);
  const { strides, pad } = geometry(op, options);
  checkDy(op, dy, computeConv2DInfo(inputShape, filter.shape, strides, pad, op).outShape);
  assertSameDtype(op, dy, filter, 'dy', 'filter');
  return dy.registry.runKernel(op, { dy, filter }, { strides, pad, inputShape: [...inputShape] as Shape4 });
}
