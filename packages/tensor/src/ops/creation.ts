import { type DataType, type TypedArray } from '../dtype.js';
import { BackpropError, shapeToString } from '../errors.js';
import { assertTensorShape } from '../limits.js';
import { createRandom, type Random } from '../random.js';
import { defaultRegistry, type Registry } from '../registry.js';
import { sizeOfShape, type Tensor } from '../tensor.js';
import { checkDtype, checkFiniteNumber, checkOptions, describeValue } from '../validation.js';

export interface CreationOptions {
  dtype?: DataType;
  /** Defaults to the default registry. */
  registry?: Registry;
}

/**
 * Checks the options every creation function takes and returns the registry and dtype
 * to use. Runs before anything is allocated.
 */
function resolveOptions(op: string, options: CreationOptions | undefined, dtype: DataType | undefined): { registry: Registry; dtype: DataType } {
  const { registry = defaultRegistry, dtype: given } = checkOptions(op, options) as CreationOptions;
  // Duck-typed, not instanceof, so a registry from another copy of this package works.
  if (registry === null || typeof registry !== 'object' || typeof (registry as Registry).makeTensor !== 'function') {
    throw new BackpropError(op, `registry must be a Registry, got ${describeValue(registry)}`);
  }
  return { registry, dtype: checkDtype(op, given ?? dtype ?? 'float32') };
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
  const { registry, dtype } = resolveOptions(
    'tensor',
    options,
    values instanceof Float64Array ? 'float64' : values instanceof Int32Array ? 'int32' : 'float32',
  );
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
    throw new BackpropError('tensor', `values must be a number, an array or a typed array, got ${describeValue(values)}`);
  }
  const finalShape = shape ?? inferred;
  assertTensorShape('tensor', finalShape, dtype);
  if (sizeOfShape(finalShape) !== flat.length) {
    throw new BackpropError(
      'tensor',
      `shape ${shapeToString(finalShape)} needs ${sizeOfShape(finalShape)} values, got ${flat.length}`,
    );
  }
  for (let i = 0; i < flat.length; i++) {
    if (typeof flat[i] !== 'number') {
      throw new BackpropError('tensor', `value ${i} is not a number (${describeValue(flat[i])})`);
    }
  }
  return registry.makeTensor(flat, finalShape, dtype);
}

export function scalar(value: number, options: CreationOptions = {}): Tensor {
  return tensor([value], [], options);
}

export function fill(shape: readonly number[], value: number, options: CreationOptions = {}): Tensor {
  return filled('fill', shape, value, options);
}

export function zeros(shape: readonly number[], options: CreationOptions = {}): Tensor {
  return filled('zeros', shape, 0, options);
}

export function ones(shape: readonly number[], options: CreationOptions = {}): Tensor {
  return filled('ones', shape, 1, options);
}

/** `fill` under the name of the function the caller used, so errors name it. */
function filled(op: string, shape: readonly number[], value: number, options: CreationOptions): Tensor {
  const { registry, dtype } = resolveOptions(op, options, undefined);
  // Checked before the typed array below is allocated.
  assertTensorShape(op, shape, dtype);
  // NaN and ±Infinity are values like any other here; a string would become NaN silently.
  if (typeof value !== 'number') throw new BackpropError(op, `value must be a number, got ${describeValue(value)}`);
  const size = sizeOfShape(shape);
  const values = dtype === 'float64' ? new Float64Array(size) : dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  if (value !== 0) values.fill(value);
  return registry.makeTensor(values, shape, dtype);
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
  // NaN or infinite parameters would fill the tensor with NaN without a word.
  checkFiniteNumber('randomNormal', 'mean', mean);
  checkFiniteNumber('randomNormal', 'stddev', stddev);
  return random('randomNormal', shape, options, (rng) => rng.normal(mean, stddev));
}

export function randomUniform(
  shape: readonly number[],
  low = 0,
  high = 1,
  options: RandomOptions = {},
): Tensor {
  checkFiniteNumber('randomUniform', 'low', low);
  checkFiniteNumber('randomUniform', 'high', high);
  return random('randomUniform', shape, options, (rng) => rng.uniform(low, high));
}

function random(op: string, shape: readonly number[], options: RandomOptions, sample: (rng: Random) => number): Tensor {
  const { registry, dtype } = resolveOptions(op, options, undefined);
  // Checked before the Float64Array below is allocated.
  assertTensorShape(op, shape, dtype);
  const seed = options.seed ?? Date.now();
  checkFiniteNumber(op, 'seed', seed);
  const rng = createRandom(seed);
  const values = new Float64Array(sizeOfShape(shape));
  for (let i = 0; i < values.length; i++) values[i] = sample(rng);
  return registry.makeTensor(values, shape, dtype);
}
