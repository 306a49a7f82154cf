import type { DataType } from '../dtype.js';
import { BackpropError, shapeToString } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { assertDtype, assertPositiveInt, assertRank, assertTensor, describe } from './validate.js';

function normaliseAxes(op: string, x: Tensor, axes: number | readonly number[] | undefined): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -x.rank || a >= x.rank) {
      throw new BackpropError(op, `axis ${describe(a)} is out of range for shape ${shapeToString(x.shape)}`);
    }
    out.add(a < 0 ? a + x.rank : a);
  }
  return [...out].sort((p, q) => p - q);
}

function reduce(op: 'sum' | 'max', x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  assertTensor(op, 'x', x);
  const list = normaliseAxes(op, x, axes);
  if (list.length === 0) {
    // Reducing over no axis (e.g. a scalar input) is the identity.
    return x.registry.runKernel('cast', { x }, { dtype: x.dtype });
  }
  if (op === 'max' && list.some((a) => x.shape[a] === 0)) {
    throw new BackpropError(op, `cannot take the max over an empty axis of shape ${shapeToString(x.shape)}`);
  }
  return x.registry.runKernel(op, { x }, { axes: list, keepDims });
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduce('sum', x, axes, keepDims);
}

export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduce('max', x, axes, keepDims);
}

export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const list = normaliseAxes('mean', x, axes);
  const count = list.reduce((p, a) => p * x.shape[a], 1);
  return x.registry.scope(() => {
    const total = reduce('sum', x, list, keepDims);
    return x.registry.runKernel('mulScalar', { x: total }, { scalar: 1 / count });
  });
}

/** Index of the first maximum along `axis` (int32). */
export function argMax(x: Tensor, axis = -1): Tensor {
  assertTensor('argMax', 'x', x);
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
  assertTensor('oneHot', 'indices', indices);
  assertRank('oneHot', 'indices', indices, 1, '(batch)');
  assertPositiveInt('oneHot', 'depth', depth);
  assertDtype('oneHot', dtype);
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
