import { type DataType, type TypedArray } from '../dtype.js';
import { BackpropError, shapeToString } from '../errors.js';
import { createRandom } from '../random.js';
import { defaultRegistry, type Registry } from '../registry.js';
import { sizeOfShape, type Tensor } from '../tensor.js';
import { assertDtype, describe } from './validate.js';

export interface CreationOptions {
  dtype?: DataType;
  /** Defaults to the default registry. */
  registry?: Registry;
}

function assertShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new BackpropError(op, `shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
}

function flatten(values: unknown, out: number[]): void {
  if (Array.isArray(values)) for (const v of values) flatten(v, out);
  else out.push(values as number);
}

function inferShape(values: unknown): number[] {
  const shape: number[] = [];
  let v = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

/**
 * `tensor([1, 2, 3, 4], [2, 2])`, `tensor([[1, 2], [3, 4]])` or from a typed array.
 * Values are copied.
 */
export function tensor(
  values: TypedArray | ArrayLike<number> | number | unknown[],
  shape?: readonly number[],
  options: CreationOptions = {},
): Tensor {
  const dtype = options.dtype ?? (values instanceof Float64Array ? 'float64' : values instanceof Int32Array ? 'int32' : 'float32');
  assertDtype('tensor', dtype);
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof values === 'number') {
    flat = [values];
    inferred = [];
  } else if (ArrayBuffer.isView(values)) {
    flat = values as unknown as ArrayLike<number>;
    inferred = [flat.length];
  } else if (Array.isArray(values)) {
    inferred = inferShape(values);
    const out: number[] = [];
    flatten(values, out);
    flat = out;
  } else {
    throw new BackpropError('tensor', `values must be a number, an array or a typed array, got ${describe(values)}`);
  }
  const finalShape = shape ?? inferred;
  assertShape('tensor', finalShape);
  if (sizeOfShape(finalShape) !== flat.length) {
    throw new BackpropError(
      'tensor',
      `shape ${shapeToString(finalShape)} needs ${sizeOfShape(finalShape)} values, got ${flat.length}`,
    );
  }
  for (let i = 0; i < flat.length; i++) {
    if (typeof flat[i] !== 'number') {
      throw new BackpropError('tensor', `value ${i} is not a number (${describe(flat[i])})`);
    }
  }
  return (options.registry ?? defaultRegistry).makeTensor(flat, finalShape, dtype);
}

export function scalar(value: number, options: CreationOptions = {}): Tensor {
  return tensor([value], [], options);
}

export function fill(shape: readonly number[], value: number, options: CreationOptions = {}): Tensor {
  assertShape('fill', shape);
  const dtype = options.dtype ?? 'float32';
  assertDtype('fill', dtype);
  const size = sizeOfShape(shape);
  const values = dtype === 'float64' ? new Float64Array(size) : dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  if (value !== 0) values.fill(value);
  return (options.registry ?? defaultRegistry).makeTensor(values, shape, dtype);
}

export function zeros(shape: readonly number[], options: CreationOptions = {}): Tensor {
  return fill(shape, 0, options);
}

export function ones(shape: readonly number[], options: CreationOptions = {}): Tensor {
  return fill(shape, 1, options);
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype, registry: t.registry });
}

export interface RandomOptions extends CreationOptions {
  seed?: number;
}

export function randomNormal(
  shape: readonly number[],
  mean = 0,
  stddev = 1,
  options: RandomOptions = {},
): Tensor {
  assertShape('randomNormal', shape);
  const rng = createRandom(options.seed ?? Date.now());
  const values = new Float64Array(sizeOfShape(shape));
  for (let i = 0; i < values.length; i++) values[i] = rng.normal(mean, stddev);
  return (options.registry ?? defaultRegistry).makeTensor(values, shape, options.dtype ?? 'float32');
}

export function randomUniform(
  shape: readonly number[],
  low = 0,
  high = 1,
  options: RandomOptions = {},
): Tensor {
  assertShape('randomUniform', shape);
  const rng = createRandom(options.seed ?? Date.now());
  const values = new Float64Array(sizeOfShape(shape));
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform(low, high);
  return (options.registry ?? defaultRegistry).makeTensor(values, shape, options.dtype ?? 'float32');
}
