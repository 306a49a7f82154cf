import { BackpropError, type FloatDataType, type Loss, type Registry, shapeToString, sizeOfShape, Tensor, type TypedArray } from '@backprop/tensor';
import type { Reading } from './readback.js';

/** Host-side data: a flat array with the shape of the whole set, (N, …sample). */
export interface HostData {
  values: Float32Array | Float64Array | ArrayLike<number>;
  shape: readonly number[];
}

/** Data accepted by fit / evaluate / predict: a tensor or host values. */
export type DataLike = Tensor | HostData;

/** One batch of a stream: inputs `x` and, for `fit` and `evaluate`, targets `y` (as in-memory data: integer labels or rows). */
export interface DataBatch {
  x: DataLike;
  y?: DataLike;
}

/**
 * A dataset that yields batches, for data larger than memory: each iteration
 * (`[Symbol.asyncIterator]()`, or `[Symbol.iterator]()`) is one pass, one epoch of `fit`.
 * The batches decide the batch size and the order. `sampleCount` and `batchCount`, when
 * given, are passed to `onTrainBegin` for progress.
 */
export type BatchIterable = (AsyncIterable<DataBatch> | Iterable<DataBatch>) & { readonly sampleCount?: number; readonly batchCount?: number };

/** Whether `data` is a stream of batches rather than one in-memory set. */
export function isBatchIterable(data: unknown): data is BatchIterable {
  if (typeof data !== 'object' || data === null || data instanceof Tensor || Array.isArray(data) || ArrayBuffer.isView(data)) return false;
  return Symbol.asyncIterator in data || Symbol.iterator in data;
}

/** A dataset normalised to a flat host array with a per-sample size. */
export interface HostSet {
  values: Float32Array | Float64Array;
  count: number;
  sampleShape: number[];
  sampleSize: number;
}

/** `data` as a host set; a tensor is read back (with the driver's read: see readback.ts). */
export function* hostSet(where: string, name: string, data: DataLike): Reading<HostSet> {
  if (!(data instanceof Tensor)) return fromHost(where, name, data);
  const [values] = yield [data];
  return fromTensorValues(where, name, values, data.shape);
}

/** `x` as inputs of a model: a host set whose samples have the model's input shape. */
export function* inputSet(where: string, name: string, data: DataLike, inputShape: readonly number[]): Reading<HostSet> {
  const set = yield* hostSet(where, name, data);
  if (set.sampleShape.length !== inputShape.length || set.sampleShape.some((d, i) => d !== inputShape[i])) {
    throw new BackpropError(
      where,
      `${name} has samples of shape ${shapeToString(set.sampleShape)} but the model expects ${shapeToString(inputShape)} (input shape [batch, ${inputShape.join(', ')}])`,
    );
  }
  return set;
}

/** `y` as targets of a model's outputs (`toTargets`): integer labels become one-hot rows. */
export function* targetSet(where: string, name: string, data: DataLike, outputShape: readonly number[]): Reading<HostSet> {
  return toTargets(where, yield* hostSet(where, name, data), outputShape);
}

/**
 * The loss's value checks on a whole target set (`Loss.checkTargets`: finite, in
 * range, class rows), run once when the data enters `fit`/`evaluate` instead of on
 * every batch. Row indices in its errors are sample indices.
 */
export function checkTargetValues(loss: Loss, targets: HostSet): void {
  loss.checkTargets?.({ values: targets.values, shape: [targets.count, ...targets.sampleShape] });
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
  const sampleSize = sizeOfShape(sampleShape);
  if (shape[0] * sampleSize !== values.length) {
    throw new BackpropError(where, `${name} has ${values.length} values but shape ${shapeToString(shape)} needs ${shape[0] * sampleSize}`);
  }
  // NaN or ±Infinity in the data would otherwise come out as NaN predictions or losses
  // with nothing pointing back at the sample that caused them.
  const bad = firstNonFinite(values);
  if (bad >= 0) {
    const sample = sampleSize > 0 ? Math.floor(bad / sampleSize) : 0;
    throw new BackpropError(where, `${name} value ${bad} (sample ${sample}) is ${values[bad]}; data must be finite numbers`);
  }
  return { values, count: shape[0], sampleShape, sampleSize };
}

/** Index of the first NaN or ±Infinity, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    // v - v is 0 for every finite number and NaN for NaN and ±Infinity: one test, no call.
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

/** x and y have the same number of samples, and at least one: a mean over nothing would report a loss of 0. */
export function checkCounts(where: string, xName: string, x: HostSet, yName: string, y: HostSet): void {
  if (y.count !== x.count) throw new BackpropError(where, `${xName} has ${x.count} samples but ${yName} has ${y.count}`);
  if (x.count === 0) throw new BackpropError(where, `${xName} has no samples (shape [0, …]); give at least one`);
}

/** A plain object (an options bag, a config), not null and not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Samples [from, to) of a set, sharing its values. */
export function sliceSet(set: HostSet, from: number, to: number): HostSet {
  return { ...set, values: set.values.subarray(from * set.sampleSize, to * set.sampleSize), count: to - from };
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
  const k = sizeOfShape(outputShape);
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

/** One batch: the tensor and the host values it was made from (in the model's dtype). */
export interface Batch {
  tensor: Tensor;
  values: Float32Array | Float64Array;
}

/**
 * Samples `indices[start..end)` (or `start..end` in order when `indices` is null) as
 * one batch. Returns the host values with the tensor, so a caller that needs them
 * (targets, to count correct predictions) keeps them in its own frame. `scratch` is
 * the caller's reusable buffer: the returned values are a view of it (or of the set)
 * and stay valid until the caller's next gather with the same scratch.
 */
export function gatherBatch(
  registry: Registry,
  set: HostSet,
  indices: Int32Array | null,
  start: number,
  end: number,
  dtype: FloatDataType,
  scratch: { buffer?: Float32Array | Float64Array },
): Batch {
  const n = end - start;
  const size = n * set.sampleSize;
  let view: Float32Array | Float64Array;
  if (indices === null && (dtype === 'float64') === set.values instanceof Float64Array) {
    // In order and already in the dtype: the set's own values, no copy.
    view = set.values.subarray(start * set.sampleSize, end * set.sampleSize);
  } else {
    let buffer = scratch.buffer;
    if (!buffer || buffer.length < size || (dtype === 'float64') !== buffer instanceof Float64Array) {
      buffer = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
      scratch.buffer = buffer;
    }
    view = buffer.subarray(0, size);
    if (indices === null) {
      view.set(set.values.subarray(start * set.sampleSize, end * set.sampleSize));
    } else {
      for (let i = 0; i < n; i++) {
        const src = indices[start + i] * set.sampleSize;
        view.set(set.values.subarray(src, src + set.sampleSize), i * set.sampleSize);
      }
    }
  }
  return { tensor: registry.makeTensor(view, [n, ...set.sampleShape], dtype), values: view };
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
