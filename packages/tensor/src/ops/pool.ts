import { BackpropError, shapeToString } from '../errors.js';
import { computePool2DInfo } from '../geometry.js';
import { assertTensorShape } from '../limits.js';
import type { Tensor } from '../tensor.js';
import type { Pair, Shape4 } from './conv.js';
import { checkFloatTensor, checkIntPair, checkOptions, checkRank, checkSameDtype, checkSameShape, checkTensor } from '../validation.js';

export interface PoolOptions {
  /** Window k_h × k_w. */
  poolSize: Pair;
  /** Stride S_p; defaults to the window size (apps/docs/math/pooling.md). */
  strides?: Pair;
}

interface Geometry {
  poolSize: [number, number];
  strides: [number, number];
}

function geometry(op: string, options: PoolOptions): Geometry {
  const { poolSize: size, strides } = checkOptions(op, options, undefined, { required: true, expected: 'an object with a poolSize' });
  if (size === undefined) throw new BackpropError(op, 'poolSize is required');
  const poolSize = checkIntPair(op, 'pool size', size, 'positive');
  return { poolSize, strides: strides === undefined ? poolSize : checkIntPair(op, 'stride', strides, 'positive') };
}

function forward(op: 'maxPool' | 'avgPool' | 'l2Pool', x: Tensor, options: PoolOptions): Tensor {
  checkTensor(op, 'x', x);
  checkRank(op, 'x', x, 4, '(batch, channels, height, width)');
  checkFloatTensor(op, 'x', x);
  const g = geometry(op, options);
  computePool2DInfo(x.shape, g.poolSize, g.strides, op);
  return x.registry.runKernel(op, { x }, g);
}

function checkDy(op: string, dy: Tensor, inputShape: readonly number[], g: Geometry): void {
  checkTensor(op, 'dy', dy);
  checkFloatTensor(op, 'dy', dy);
  const expected = computePool2DInfo(inputShape, g.poolSize, g.strides, op).outShape;
  if (dy.rank !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new BackpropError(op, `dy must have the forward output's shape ${shapeToString(expected)}, got ${shapeToString(dy.shape)}`);
  }
}

export const maxPool = (x: Tensor, options: PoolOptions): Tensor => forward('maxPool', x, options);
export const avgPool = (x: Tensor, options: PoolOptions): Tensor => forward('avgPool', x, options);
export const l2Pool = (x: Tensor, options: PoolOptions): Tensor => forward('l2Pool', x, options);

/** Routes each dy to the first maximum of its window; overlaps accumulate. */
export function maxPoolBackward(dy: Tensor, x: Tensor, options: PoolOptions): Tensor {
  const op = 'maxPoolBackward';
  checkTensor(op, 'x', x);
  checkRank(op, 'x', x, 4);
  const g = geometry(op, options);
  checkDy(op, dy, x.shape, g);
  checkSameDtype(op, dy, x, 'dy', 'x');
  return dy.registry.runKernel(op, { dy, x }, g);
}

export function avgPoolBackward(dy: Tensor, inputShape: readonly number[], options: PoolOptions): Tensor {
  const op = 'avgPoolBackward';
  checkTensor(op, 'dy', dy);
  // inputShape is the output's shape: check it as one before any kernel allocates it.
  assertTensorShape(op, inputShape, dy.dtype, 'inputShape');
  if (inputShape.length !== 4) throw new BackpropError(op, `inputShape must have 4 entries, got ${shapeToString(inputShape)}`);
  const g = geometry(op, options);
  checkDy(op, dy, inputShape, g);
  return dy.registry.runKernel(op, { dy }, { ...g, inputShape: [...inputShape] as Shape4 });
}

/** dx += dy · x / y, 0 where y = 0. */
export function l2PoolBackward(dy: Tensor, x: Tensor, y: Tensor, options: PoolOptions): Tensor {
  const op = 'l2PoolBackward';
  checkTensor(op, 'x', x);
  checkTensor(op, 'y', y);
  checkRank(op, 'x', x, 4);
  const g = geometry(op, options);
  checkDy(op, dy, x.shape, g);
  checkSameShape(op, dy, y, 'dy', 'y');
  checkSameDtype(op, dy, x, 'dy', 'x');
  checkSameDtype(op, x, y, 'x', 'y');
  return dy.registry.runKernel(op, { dy, x, y }, g);
}
