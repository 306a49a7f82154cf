import type { DataType } from '../dtype.js';
import { BackpropError, shapeToString } from '../errors.js';
import { assertTensorShape } from '../limits.js';
import type { Tensor } from '../tensor.js';
import { checkBoolean, checkDtype, checkPositiveInt, checkRank, checkTensor, describeValue } from '../validation.js';

/**
 * Sorted, unique, non-negative axes. `undefined` and `null` mean every axis (`null` as
 * in TensorFlow.js's `sum(x, null, keepDims)`).
 */
function normaliseAxes(op: string, x: Tensor, axes: number | readonly number[] | null | undefined): number[] {
  if (axes === undefined || axes === null) return x.shape.map((_, i) => i);
  if (typeof axes !== 'number' && !Array.isArray(axes)) {
    throw new BackpropError(op, `axes must be an integer or an array of integers, got ${describeValue(axes)}`);
  }
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -x.rank || a >= x.rank) {
      throw new BackpropError(op, `axis ${describeValue(a)} is out of range for shape ${shapeToString(x.shape)}`);
    }
    out.add(a < 0 ? a + x.rank : a);
  }
  return [...out].sort((p, q) => p - q);
}

/**
 * The shape left after reducing `axes`. A reduction is smaller than its input except
 * over an empty axis ([0, 40000, 40000] summed over axis 0 is [40000, 40000]), so the
 * result is checked against the tensor size limit like any output.
 */
function checkReducedShape(op: string, x: Tensor, axes: readonly number[], keepDims: boolean): void {
  const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  assertTensorShape(op, shape, x.dtype, 'output shape');
}

function reduce(op: 'sum' | 'max', x: Tensor, axes: number | readonly number[] | null | undefined, keepDims: boolean): Tensor {
  checkTensor(op, 'x', x);
  checkBoolean(op, 'keepDims', keepDims);
  const list = normaliseAxes(op, x, axes);
  if (list.length === 0) {
    // Reducing over no axis (e.g. a scalar input) is the identity.
    return x.registry.runKernel('cast', { x }, { dtype: x.dtype });
  }
  if (op === 'max' && list.some((a) => x.shape[a] === 0)) {
    throw new BackpropError(op, `cannot take the max over an empty axis of shape ${shapeToString(x.shape)}`);
  }
  checkReducedShape(op, x, list, keepDims);
  return x.registry.runKernel(op, { x }, { axes: list, keepDims });
}

/** Sum over `axes` (all when omitted or null). */
export function sum(x: Tensor, axes?: number | readonly number[] | null, keepDims = false): Tensor {
  return reduce('sum', x, axes, keepDims);
}

export function max(x: Tensor, axes?: number | readonly number[] | null, keepDims = false): Tensor {
  return reduce('max', x, axes, keepDims);
}

/** Mean over `axes` (all when omitted or null). The mean over an empty axis is an error, not NaN. */
export function mean(x: Tensor, axes?: number | readonly number[] | null, keepDims = false): Tensor {
  checkTensor('mean', 'x', x);
  checkBoolean('mean', 'keepDims', keepDims);
  const list = normaliseAxes('mean', x, axes);
  if (list.some((a) => x.shape[a] === 0)) {
    throw new BackpropError('mean', `cannot take the mean over an empty axis of shape ${shapeToString(x.shape)}`);
  }
  const count = list.reduce((p, a) => p * x.shape[a], 1);
  return x.registry.scope(() => {
    const total = reduce('sum', x, list, keepDims);
    return x.registry.runKernel('mulScalar', { x: total }, { scalar: 1 / count });
  });
}

/** Index of the first maximum along `axis` (int32). */
export function argMax(x: Tensor, axis = -1): Tensor {
  checkTensor('argMax', 'x', x);
  // null would mean "every axis" to normaliseAxes; argMax takes exactly one.
  if (typeof axis !== 'number') throw new BackpropError('argMax', `axis must be an integer, got ${describeValue(axis)}`);
  const [a] = normaliseAxes('argMax', x, axis);
  if (x.shape[a] === 0) throw new BackpropError('argMax', `axis ${a} of shape ${shapeToString(x.shape)} is empty`);
  return x.registry.runKernel('argMax', { x }, { axis: a });
}

/**
 * Integer labels (N) → one-hot rows (N, depth). Labels outside [0, depth) are an error.
 *
 * The label check reads the labels on the host, so it runs where the backend can read
 * synchronously (`indices.canReadSync`: every backend but gpu.js webgpu). Where it cannot,
 * `oneHot` stays synchronous and does not check: the rows of out-of-range labels are not
 * defined by the kernel spec (gpu.js gives all-zero rows). Labels that start on the host
 * are checked there on every backend (`toOneHot(array)` in @backprop/losses, the integer
 * labels given to `Sequential.fit`/`evaluate`).
 */
export function oneHot(indices: Tensor, depth: number, dtype: DataType = 'float32'): Tensor {
  checkTensor('oneHot', 'indices', indices);
  checkRank('oneHot', 'indices', indices, 1, '(batch)');
  checkPositiveInt('oneHot', 'depth', depth);
  checkDtype('oneHot', dtype);
  // (N) labels become (N, depth) values: a large depth is a large output.
  assertTensorShape('oneHot', [indices.shape[0], depth], dtype, 'output shape');
  if (indices.canReadSync) assertLabels('oneHot', indices.dataSync(), depth);
  return indices.registry.runKernel('oneHot', { indices }, { depth, dtype });
}

/** Throws unless every label is an integer in [0, depth), naming the first bad one. */
function assertLabels(op: string, labels: ArrayLike<number>, depth: number): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= depth) {
      throw new BackpropError(op, `label ${i} is ${label}, outside [0, ${depth})`);
    }
  }
}
