import type { DataType, TypedArray } from './dtype.js';
import type { DataId, KernelAttrs, KernelInputs, KernelName, KernelOutput } from './kernels.js';

export interface BackendMemory {
  /** Live storage buffers held by the backend. */
  numDataBuffers: number;
  /** Bytes held by those buffers. */
  numBytes: number;
}

/**
 * Storage half of a backend. The compute half is its kernels, registered separately
 * by name (see `KernelConfig`), so a backend can be extended kernel by kernel.
 */
export interface Backend {
  readonly name: string;
  /** The kernel spec version this backend implements (`SPEC_VERSION`). */
  readonly specVersion: number;
  /** Takes ownership of a copy of `values`. */
  write(values: TypedArray, shape: readonly number[], dtype: DataType): DataId;
  /**
   * Whether `readSync` can work. A backend whose device can only be read
   * asynchronously (WebGPU: buffers are mapped with a promise) sets it to false:
   * `Tensor.dataSync()` then throws a clear error and `await Tensor.data()` is the
   * way to read; ops that check values on the host skip those checks (each op
   * documents which). Absent means true.
   */
  readonly canReadSync?: boolean;
  /** A fresh copy of the data; the caller may keep and mutate it. Throws where `canReadSync` is false. */
  readSync(dataId: DataId): TypedArray;
  /** A fresh copy of the data once every kernel writing it has run. Works on every backend. */
  read(dataId: DataId): Promise<TypedArray>;
  disposeData(dataId: DataId): void;
  memory(): BackendMemory;
  /** Frees everything the backend holds (GPU contexts, pools). */
  dispose(): void;
}

export interface KernelArgs<K extends KernelName, B extends Backend = Backend> {
  inputs: KernelInputs<K>;
  attrs: KernelAttrs<K>;
  backend: B;
}

export type KernelFunc<K extends KernelName, B extends Backend = Backend> = (
  args: KernelArgs<K, B>,
) => KernelOutput<K>;

export interface KernelConfig<K extends KernelName = KernelName, B extends Backend = Backend> {
  kernelName: K;
  backendName: string;
  kernelFunc: KernelFunc<K, B>;
}

/** Helper for backend authors: keeps the kernel's types tied to its name. */
export function defineKernel<K extends KernelName, B extends Backend>(
  config: KernelConfig<K, B>,
): KernelConfig<K, B> {
  return config;
}
