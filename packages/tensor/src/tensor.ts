import type { Backend } from './backend.js';
import type { DataType, TypedArray } from './dtype.js';
import { BackpropError, DisposedTensorError, shapeToString } from './errors.js';
import type { DataId, TensorInfo } from './kernels.js';
import type { Registry } from './registry.js';

/**
 * Storage shared by a tensor and its reshaped views. The backend buffer is freed
 * when the last tensor referring to it is disposed.
 */
export interface Storage {
  readonly dataId: DataId;
  readonly backend: Backend;
  readonly backendName: string;
  refCount: number;
}

let nextTensorId = 0;

export function sizeOfShape(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/**
 * An n-dimensional array on a backend. Tensors are immutable to users; only the
 * in-place optimizer kernels write into parameter tensors.
 */
export class Tensor implements TensorInfo {
  readonly id = nextTensorId++;
  readonly shape: readonly number[];
  readonly size: number;
  private disposed = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, …) instead. */
  constructor(
    /** @internal */ readonly storage: Storage,
    shape: readonly number[],
    readonly dtype: DataType,
    /** The registry (engine) that created this tensor. */
    readonly registry: Registry,
  ) {
    this.shape = Object.freeze(shape.slice());
    this.size = sizeOfShape(shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get dataId(): DataId {
    this.assertLive('dataId');
    return this.storage.dataId;
  }

  get backendName(): string {
    return this.storage.backendName;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal Throws a clear error when a disposed tensor is used. */
  assertLive(where: string): void {
    if (this.disposed) {
      throw new DisposedTensorError(
        where,
        `tensor #${this.id} with shape ${shapeToString(this.shape)} was disposed and cannot be used again`,
      );
    }
  }

  /**
   * Whether `dataSync()` (and `arraySync`, `scalarSync`) can read this tensor: false on
   * backends whose device is read asynchronously only (gpu.js webgpu mode). `await
   * data()` works everywhere.
   */
  get canReadSync(): boolean {
    return this.storage.backend.canReadSync !== false;
  }

  /**
   * A copy of the values, synchronously. Throws on backends without synchronous
   * readback (`canReadSync` false, e.g. WebGPU): use `await t.data()` there.
   */
  dataSync(): TypedArray {
    this.assertLive('dataSync');
    if (!this.canReadSync) {
      throw new BackpropError(
        'dataSync',
        `backend '${this.backendName}' cannot read synchronously (its device is read asynchronously, as WebGPU is); use \`await tensor.data()\``,
      );
    }
    return this.storage.backend.readSync(this.storage.dataId);
  }

  /** A copy of the values; on GPU backends this waits for the device. Works on every backend. */
  async data(): Promise<TypedArray> {
    this.assertLive('data');
    return this.storage.backend.read(this.storage.dataId);
  }

  /** Nested JS arrays (for printing and tests). */
  arraySync(): unknown {
    return nest(Array.from(this.dataSync()), this.shape);
  }

  /** Nested JS arrays, read asynchronously (works on every backend). */
  async array(): Promise<unknown> {
    return nest(Array.from(await this.data()), this.shape);
  }

  /** The single value of a size-1 tensor. */
  scalarSync(): number {
    if (this.size !== 1) {
      throw new BackpropError('scalarSync', `expected a tensor with one element, got shape ${shapeToString(this.shape)}`);
    }
    return this.dataSync()[0];
  }

  /** A view with a new shape over the same storage (no copy). One dimension may be -1. */
  reshape(shape: readonly number[]): Tensor {
    this.assertLive('reshape');
    const resolved = resolveReshape('reshape', this.shape, shape);
    this.storage.refCount++;
    return this.registry.trackTensor(new Tensor(this.storage, resolved, this.dtype, this.registry));
  }

  /** Frees the tensor; disposing twice is harmless. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.registry.releaseTensor(this);
  }

  toString(): string {
    if (this.disposed) return `Tensor(disposed, ${shapeToString(this.shape)})`;
    if (!this.canReadSync) return `Tensor(${shapeToString(this.shape)}, ${this.dtype}) on '${this.backendName}' (read it with await tensor.data())`;
    return `Tensor(${shapeToString(this.shape)}, ${this.dtype}) ${JSON.stringify(this.arraySync())}`;
  }
}

/** Flat values → nested arrays of `shape` (a number for rank 0). */
function nest(values: number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  const build = (dim: number, offset: number): unknown[] => {
    const n = shape[dim];
    const stride = sizeOfShape(shape.slice(dim + 1));
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      out.push(dim === shape.length - 1 ? values[offset + i] : build(dim + 1, offset + i * stride));
    }
    return out;
  };
  return build(0, 0);
}

export function resolveReshape(where: string, from: readonly number[], to: readonly number[]): number[] {
  if (!Array.isArray(to)) {
    throw new BackpropError(where, `shape must be an array of integers (one may be -1), got ${to === null ? 'null' : typeof to}`);
  }
  const size = sizeOfShape(from);
  const inferred = to.filter((d) => d === -1).length;
  if (inferred > 1) throw new BackpropError(where, `at most one dimension may be -1, got ${shapeToString(to)}`);
  for (const d of to) {
    if (d !== -1 && !(Number.isInteger(d) && d >= 0)) {
      throw new BackpropError(where, `dimensions must be non-negative integers, got ${shapeToString(to)}`);
    }
  }
  const known = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = to.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  if (sizeOfShape(out) !== size || out.some((d) => !Number.isInteger(d))) {
    throw new BackpropError(where, `cannot reshape ${shapeToString(from)} (${size} elements) to ${shapeToString(to)}`);
  }
  return out;
}
