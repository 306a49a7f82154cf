import { BackpropError, type FloatDataType, type Registry, shapeToString, Tensor, type TypedArray } from '@backprop/tensor';

/** Host-side data: a flat array with the shape of the whole set, (N, …sample). */
export interface HostData {
  values: Float32Array | Float64Array | ArrayLike<number>;
  shape: readonly number[];
}

/** Data accepted by fit / evaluate / predict: a tensor or host values. */
export type DataLike = Tensor | HostData;

/** A dataset normalised to a flat host array with a per-sample size. */
export interface HostSet {
  values: Float32Array | Float64Array;
  count: number;
  sampleShape: number[];
  sampleSize: number;
}

export function toHostSet(where: string, name: string, data: DataLike): HostSet {
  if (data instanceof Tensor) return fromTensorValues(where, name, data.dataSync(), data.shape);
  return fromHost(where, name, data);
}

/** `toHostSet` reading a tensor with `await data()` (every backend, WebGPU included). */
export async function toHostSetAsync(where: string, name: string, data: DataLike): Promise<HostSet> {
  if (data instanceof Tensor) return fromTensorValues(where, name, await data.data(), data.shape);
  return fromHost(where, name, data);
}

function fromTensorValues(where: string, name: string, values: TypedArray, shape: readonly number[]): HostSet {
  const floats = values instanceof Int32Array ? Float32Array.from(values) : values;
  return make(where, name, floats, shape);
}

function fromHost(where: string, name: string, data: DataLike): HostSet {
  if (!data || typeof data !== 'object' || !('values' in data) || !('shape' in data)) {
    throw new BackpropError(where, `${name} must be a Tensor or { values, shape }, got ${describeData(data)}`);
  }
  const raw: unknown = data.values;
  // Any typed array (MNIST pixels come as Uint8Array) or an array of numbers; a string
  // or an array of strings would otherwise become NaNs (or silently parsed numbers).
  const numeric = ArrayBuffer.isView(raw) && !(raw instanceof DataView) && !(raw instanceof BigInt64Array) && !(raw instanceof BigUint64Array);
  if (!numeric && !(Array.isArray(raw) && raw.every((v) => typeof v === 'number'))) {
    throw new BackpropError(where, `${name}.values must be a typed array or an array of numbers, got ${describeData(raw)}`);
  }
  const values = raw instanceof Float32Array || raw instanceof Float64Array ? raw : Float64Array.from(raw as ArrayLike<number>);
  return make(where, name, values, data.shape);
}

function make(where: string, name: string, values: Float32Array | Float64Array, shape: readonly number[]): HostSet {
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    throw new BackpropError(where, `${name}.shape must be an array of non-negative integers, got ${describeData(shape)}`);
  }
  if (shape.length < 1) throw new BackpropError(where, `${name} needs a batch dimension, got shape ${shapeToString(shape)}`);
  const sampleShape = shape.slice(1);
  const sampleSize = sampleShape.reduce((p, d) => p * d, 1);
  if (shape[0] * sampleSize !== values.length) {
    throw new BackpropError(where, `${name} has ${values.length} values but shape ${shapeToString(shape)} needs ${shape[0] * sampleSize}`);
  }
  // NaN or ±Infinity in the data would otherwise come out as NaN predictions or losses
  // with nothing pointing back at the sample that caused them.
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) {
      const sample = sampleSize > 0 ? Math.floor(i / sampleSize) : 0;
      throw new BackpropError(where, `${name} value ${i} (sample ${sample}) is ${v}; data must be finite numbers`);
    }
  }
  return { values, count: shape[0], sampleShape, sampleSize };
}

function describeData(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const bad = value.findIndex((v) => typeof v !== 'number');
    return bad < 0 ? `an array of ${value.length} numbers` : `an array whose element ${bad} is ${JSON.stringify(value[bad]) ?? typeof value[bad]}`;
  }
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value === 'string' ? `the string ${JSON.stringify(value.slice(0, 20))}` : String(value);
}

/**
 * Makes targets match the model output (N, K): integer labels (N) or (N, 1) for
 * K > 1 classes become one-hot rows; anything else must already have shape (N, K).
 */
export function toTargets(where: string, targets: HostSet, outputShape: readonly number[]): HostSet {
  const k = outputShape.reduce((p, d) => p * d, 1);
  if (targets.sampleSize === k && targets.sampleShape.length === outputShape.length) return targets;
  if (targets.sampleSize === 1 && outputShape.length === 1 && k > 1) {
    const oneHot = new Float32Array(targets.count * k);
    for (let n = 0; n < targets.count; n++) {
      const label = targets.values[n];
      if (!Number.isInteger(label) || label < 0 || label >= k) {
        throw new BackpropError(where, `label ${n} is ${label}, outside the ${k} classes [0, ${k})`);
      }
      oneHot[n * k + label] = 1;
    }
    return { values: oneHot, count: targets.count, sampleShape: [k], sampleSize: k };
  }
  throw new BackpropError(
    where,
    `targets of shape [${targets.count}, ${targets.sampleShape.join(', ')}] do not match the model output [batch, ${outputShape.join(', ')}]; give one-hot rows or integer labels`,
  );
}

/** Copies samples `indices[start..end)` into one batch tensor. */
export function gatherBatch(
  registry: Registry,
  set: HostSet,
  indices: Int32Array | null,
  start: number,
  end: number,
  dtype: FloatDataType,
  scratch: { buffer?: Float32Array | Float64Array },
): Tensor {
  const n = end - start;
  const size = n * set.sampleSize;
  let buffer = scratch.buffer;
  if (!buffer || buffer.length < size || (dtype === 'float64') !== buffer instanceof Float64Array) {
    buffer = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
    scratch.buffer = buffer;
  }
  const view = buffer.subarray(0, size);
  if (indices === null) {
    view.set(set.values.subarray(start * set.sampleSize, end * set.sampleSize));
  } else {
    for (let i = 0; i < n; i++) {
      const src = indices[start + i] * set.sampleSize;
      view.set(set.values.subarray(src, src + set.sampleSize), i * set.sampleSize);
    }
  }
  return registry.makeTensor(view, [n, ...set.sampleShape], dtype);
}

/** Index of the maximum of row `n` of a flat (N, K) array. */
export function argMaxRow(values: ArrayLike<number>, n: number, k: number): number {
  let best = 0;
  let bestValue = values[n * k];
  for (let j = 1; j < k; j++) {
    const v = values[n * k + j];
    if (v > bestValue) {
      bestValue = v;
      best = j;
    }
  }
  return best;
}

/**
 * Correct predictions in a batch: argmax agreement for K > 1 classes, otherwise a
 * threshold at `threshold` (0.5 on probabilities, 0 on logits).
 */
export function countCorrect(predictions: ArrayLike<number>, targets: ArrayLike<number>, n: number, k: number, threshold: number): number {
  let correct = 0;
  if (k === 1) {
    for (let i = 0; i < n; i++) if (predictions[i] > threshold === targets[i] > 0.5) correct++;
    return correct;
  }
  for (let i = 0; i < n; i++) if (argMaxRow(predictions, i, k) === argMaxRow(targets, i, k)) correct++;
  return correct;
}
