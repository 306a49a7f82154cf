import {
  SPEC_VERSION,
  bytesPerElement,
  type Backend,
  type BackendMemory,
  type DataId,
  type DataType,
  type TensorInfo,
  type TypedArray,
  DisposedTensorError,
} from '@backprop/tensor';
import gpujs from 'gpu.js';
import { GpujsModeError, type GpujsConcreteMode, type GpujsMode, availableModes, resolveMode } from './modes.js';

const { GPU } = gpujs;
/** gpu.js's one WebGPU device per page/process, shared by every gpu.js instance in webgpu mode. */
const WebGPUContext = (gpujs as unknown as { WebGPUContext: { acquire(): Promise<unknown>; destroy(): Promise<void> } }).WebGPUContext;
/** webgpu-mode backends alive (created and not yet torn down) that release the shared device. */
let liveWebGPUBackends = 0;
type GPUInstance = InstanceType<typeof GPU>;

/** What gpu.js hands back from a pipelined kernel: a texture/buffer handle (GPU modes) or a Float32Array (cpu, webasm). */
export interface DeviceTexture {
  toArray(): unknown;
  delete?(): void;
}
export type DeviceHandle = DeviceTexture | Float32Array;
/** webgpu kernels return promises of handles. */
type Pending = Promise<DeviceHandle>;

/**
 * Storage handle of the gpujs backend. Values live on the device as float32 (int32
 * and float64 tensors too: int32 values are exact up to 2^24, float64 values are
 * rounded to float32 on the device; a float64 tensor written from the host keeps its
 * exact host copy for reads until a kernel overwrites it).
 */
export class GpujsData {
  /** The device copy; null for empty tensors and not-yet-uploaded float64 data. */
  handle: DeviceHandle | null = null;
  /** webgpu: the handle once its kernel has run. */
  pending: Pending | null = null;
  /** Exact host values (float64 written from the host), or null. */
  host: TypedArray | null = null;
  live = true;
  constructor(
    readonly size: number,
    readonly dtype: DataType,
  ) {}
  get bytes(): number {
    return this.size * bytesPerElement(this.dtype);
  }
}

/** Thrown when gpu.js fails to compile or run a kernel; names the Backprop kernel and its shapes. */
export class GpujsKernelError extends Error {
  constructor(
    readonly kernel: string,
    readonly detail: string,
    readonly mode: string,
    cause: unknown,
  ) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(`@backprop/backend-gpujs (${mode}): kernel '${kernel}' (${detail}) failed in gpu.js: ${msg}`);
    this.name = 'GpujsKernelError';
    (this as { cause?: unknown }).cause = cause;
  }
}

/** One compiled program: generated JS source with every shape baked in as literals. */
export interface Program {
  /** Backprop kernel name (for errors and the cache key). */
  kernel: string;
  /** Everything the source depends on besides float parameters (shapes, structural attrs). */
  key: string;
  /** Human-readable shapes, for errors. */
  detail: string;
  /** Argument names in call order: data inputs first, then `p` when `params` is given. */
  args: string[];
  /** The kernel body (the statements inside `function (args) { … }`). Use `this.thread.x` as the flat output index. */
  body: string;
  /** Number of output elements (flat 1-D output). */
  size: number;
}

/** Options of `createGpujsBackend`. */
export interface GpujsBackendOptions {
  mode?: GpujsMode;
  /** An already created gpu.js instance to use (its mode must match `mode`). */
  gpu?: GPUInstance;
  /**
   * webgpu: destroy gpu.js's shared WebGPU device when the last webgpu backend is
   * disposed (default true). A live device keeps a Node process running (Dawn polls it)
   * and holds GPU memory; pass false if other gpu.js webgpu code in the page uses it.
   */
  releaseDevice?: boolean;
}

type KernelRun = ((...args: unknown[]) => unknown) & {
  kernel: { constructor: { name: string; mode?: string }; fallbackRequested?: boolean; fallbackReason?: string | null };
  destroy(removeCanvasReferences?: boolean): void;
};

/** Argument arrays with 8 or more inputs break gpu.js's webgpu mode; every program stays below. */
export const MAX_KERNEL_ARRAY_ARGS = 7;

/**
 * gpu.js backend. One gpu.js instance per backend; every kernel is generated as JS
 * source text with its shapes baked in as literals (no argument-bounded loops, so
 * `loopMaxIterations` never truncates a reduction), compiled once per (kernel, shapes,
 * structural attrs) and cached until `dispose()`. Kernels run with
 * `pipeline: true, immutable: true, precision: 'single'`: results stay on the device
 * and each call gets its own output.
 */
export class GpujsBackend implements Backend {
  readonly name = 'gpujs';
  readonly specVersion = SPEC_VERSION;
  readonly mode: GpujsConcreteMode;
  readonly gpu: GPUInstance;
  /** Whether outputs are device textures/buffers (GL and webgpu) or plain arrays (cpu, webasm). */
  readonly onDevice: boolean;
  /** webgpu: every kernel call is a promise and reads are asynchronous only. */
  readonly isAsync: boolean;
  /** False in webgpu mode: WebGPU maps buffers with a promise, so only `await tensor.data()` reads. */
  readonly canReadSync: boolean;

  private readonly kernels = new Map<string, KernelRun>();
  private numBuffers = 0;
  private bytes = 0;
  private disposed = false;
  /** Kernel compilations so far (tests use it to check caching). */
  compiles = 0;

  /** webgpu: resolves once gpu.js has its device; rejects with GpujsModeError when there is no adapter. */
  private readonly deviceReady: Promise<void> | null = null;
  /** webgpu: resolves when `dispose()` has finished tearing down (kernels, gpu.js instance, device). */
  private teardown: Promise<void> = Promise.resolve();
  private readonly releasesDevice: boolean;

  constructor(options: GpujsBackendOptions = {}) {
    this.mode = resolveMode(options.mode ?? 'auto');
    this.onDevice = this.mode !== 'cpu' && this.mode !== 'webasm';
    this.isAsync = this.mode === 'webgpu';
    this.canReadSync = !this.isAsync;
    this.releasesDevice = this.isAsync && options.releaseDevice !== false;
    this.gpu = options.gpu ?? new GPU({ mode: this.mode });
    if (this.isAsync) {
      if (this.releasesDevice) liveWebGPUBackends++;
      // navigator.gpu can exist with no adapter behind it (headless Chromium without
      // --enable-unsafe-webgpu): then every read rejects with a GpujsModeError saying so.
      this.deviceReady = WebGPUContext.acquire().then(
        () => undefined,
        (error: unknown) => {
          throw new GpujsModeError('webgpu', `gpu.js could not get a WebGPU device: ${(error as Error).message}`, availableModes());
        },
      );
      this.deviceReady.catch(() => undefined);
    }
  }

  // ---- Backend interface ------------------------------------------------------------

  write(values: TypedArray, shape: readonly number[], dtype: DataType): DataId {
    void shape;
    const data = this.track(new GpujsData(values.length, dtype));
    if (values.length === 0) return data;
    if (dtype === 'float64') {
      data.host = Float64Array.from(values);
      return data;
    }
    const f32 = dtype === 'int32' && !(values instanceof Int32Array) ? Float32Array.from(values, Math.trunc) : Float32Array.from(values);
    this.upload(data, f32);
    return data;
  }

  readSync(dataId: DataId): TypedArray {
    const data = this.check(dataId);
    if (data.host) return convert(data.host, data.dtype);
    if (data.size === 0) return convert(new Float32Array(0), data.dtype);
    if (this.isAsync) {
      throw new Error(
        `@backprop/backend-gpujs (${this.mode}): synchronous reads are impossible in webgpu mode (WebGPU readback is asynchronous); use \`await tensor.data()\``,
      );
    }
    return convert(this.handleToArray(data.handle as DeviceHandle, data.size), data.dtype);
  }

  async read(dataId: DataId): Promise<TypedArray> {
    const data = this.check(dataId);
    if (data.host || data.size === 0) return this.readSync(data);
    const handle = data.handle ?? (await (data.pending as Pending));
    const raw = handle instanceof Float32Array ? handle : await (handle.toArray() as Promise<Float32Array> | Float32Array);
    return convert((raw as Float32Array).subarray(0, data.size), data.dtype);
  }

  disposeData(dataId: DataId): void {
    const data = dataId as GpujsData;
    if (!data.live) return;
    data.live = false;
    this.numBuffers--;
    this.bytes -= data.bytes;
    this.release(data);
  }

  memory(): BackendMemory {
    return { numDataBuffers: this.numBuffers, numBytes: this.bytes };
  }

  /**
   * Destroys every cached kernel and the gpu.js instance (GL context, wasm modules).
   * webgpu: after every queued device operation has run; and when this was the last
   * webgpu backend (and `releaseDevice` is not false), gpu.js's shared WebGPU device
   * too, so a Node process using Dawn exits on its own. `whenDisposed()` resolves then.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const kernels = [...this.kernels.values()];
    this.kernels.clear();
    const destroy = async (): Promise<void> => {
      for (const k of kernels) {
        try {
          k.destroy(true);
        } catch {
          // already gone
        }
      }
      await Promise.resolve(this.gpu.destroy()).catch(() => undefined);
    };
    if (!this.isAsync) {
      void destroy();
      return;
    }
    this.teardown = this.queue.then(destroy).then(async () => {
      if (!this.releasesDevice) return;
      // Counted at teardown time: a backend created meanwhile shares the device and keeps it.
      if (--liveWebGPUBackends === 0) await WebGPUContext.destroy().catch(() => undefined);
    });
  }

  /** Resolves when `dispose()` has finished (webgpu tears down after its queue drains; immediate elsewhere). */
  whenDisposed(): Promise<void> {
    return this.teardown;
  }

  // ---- helpers for kernels ------------------------------------------------------------

  /** The storage of a tensor, checked live. */
  check(info: TensorInfo | DataId): GpujsData {
    const data = ((info as TensorInfo).dataId ?? info) as GpujsData;
    if (!data.live) throw new DisposedTensorError('@backprop/backend-gpujs', 'the tensor was disposed; its values are gone');
    return data;
  }

  /** Number of compiled kernels currently cached. */
  get numKernels(): number {
    return this.kernels.size;
  }

  /**
   * Runs `program` on `inputs` (plus an optional float parameter vector passed as the
   * last argument `p`) and returns a new storage with `program.size` elements.
   */
  run(program: Program, inputs: readonly (TensorInfo | GpujsData)[], dtype: DataType, params?: readonly number[]): GpujsData {
    const out = this.track(new GpujsData(program.size, dtype));
    if (program.size === 0) return out;
    this.runInto(out, program, inputs, params);
    return out;
  }

  /** Like `run`, but replaces the contents of an existing storage (in-place updates). */
  runInto(target: GpujsData, program: Program, inputs: readonly (TensorInfo | GpujsData)[], params?: readonly number[]): void {
    if (this.disposed) throw new Error('@backprop/backend-gpujs: the backend was disposed');
    const arrays = inputs.length + (params ? 1 : 0);
    if (arrays > MAX_KERNEL_ARRAY_ARGS) {
      throw new GpujsKernelError(program.kernel, program.detail, this.mode, new Error(`${arrays} array arguments (gpu.js webgpu mode fails with 8 or more)`));
    }
    const datas = inputs.map((t) => this.check(t));
    const kernel = this.kernelFor(program, params !== undefined);
    const paramArray = params ? Float32Array.from(params) : undefined;
    if (this.isAsync) {
      // webgpu: every kernel call returns a promise. Calls go through one serial queue
      // in program order, so a buffer is deleted only after every earlier reader ran.
      for (const d of datas) if (!d.handle && !d.pending && d.host) this.upload(d, Float32Array.from(d.host));
      // Capture the inputs' handles now: an in-place update reads its own target.
      const inputHandles = datas.map((d) => this.ready(d));
      const previous = target.handle ?? target.pending;
      target.handle = null;
      target.host = null;
      target.pending = this.enqueue(async () => {
        const args: unknown[] = await Promise.all(inputHandles);
        if (paramArray) args.push(paramArray);
        try {
          return (await (kernel(...args) as Pending)) as DeviceHandle;
        } catch (error) {
          throw new GpujsKernelError(program.kernel, program.detail, this.mode, error);
        }
      });
      target.pending.catch(() => undefined);
      if (previous) void this.enqueue(async () => this.deleteHandle(await previous)).catch(() => undefined);
      return;
    }
    const args: unknown[] = datas.map((d) => this.device(d));
    if (paramArray) args.push(paramArray);
    let result: unknown;
    try {
      result = kernel(...args);
    } catch (error) {
      throw new GpujsKernelError(program.kernel, program.detail, this.mode, error);
    }
    this.assertNoFallback(kernel, program);
    const old = target.handle;
    target.handle = result as DeviceHandle;
    target.host = null;
    if (old && old !== target.handle) this.deleteHandle(old);
  }

  /** Source text of a program as gpu.js compiles it. */
  static source(program: Program, withParams: boolean): string {
    const args = withParams ? [...program.args, 'p'] : program.args;
    return `function (${args.join(', ')}) {\n${program.body}\n}`;
  }

  // ---- internals ------------------------------------------------------------------------

  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every operation enqueued before it (webgpu), once the device is there. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const deviceReady = this.deviceReady;
    const p = this.queue.then(async () => {
      await deviceReady;
      return fn();
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Resolves when every queued device operation has finished (webgpu; immediate elsewhere). */
  async flush(): Promise<void> {
    await this.queue;
  }

  private kernelFor(program: Program, withParams: boolean): KernelRun {
    const key = `${program.kernel}|${program.key}|${program.size}|${withParams ? 'p' : ''}`;
    let kernel = this.kernels.get(key);
    if (kernel) return kernel;
    const source = GpujsBackend.source(program, withParams);
    try {
      kernel = this.gpu.createKernel(source, {
        output: [program.size],
        pipeline: true,
        immutable: true,
        precision: 'single',
        tactic: 'precision',
        // Every loop bound is a literal; this only guards loops gpu.js adds itself.
        loopMaxIterations: 1 << 24,
      } as never) as unknown as KernelRun;
    } catch (error) {
      throw new GpujsKernelError(program.kernel, program.detail, this.mode, error);
    }
    this.compiles++;
    this.kernels.set(key, kernel);
    return kernel;
  }

  /** gpu.js degrades some kernels to its cpu backend with only a console warning; we refuse. */
  private assertNoFallback(kernel: KernelRun, program: Program): void {
    const inner = kernel.kernel;
    if (this.mode === 'cpu') return;
    if (inner.fallbackRequested || inner.constructor.name === 'CPUKernel') {
      throw new GpujsKernelError(
        program.kernel,
        program.detail,
        this.mode,
        new Error(`gpu.js fell back to its cpu backend${inner.fallbackReason ? `: ${inner.fallbackReason}` : ''}`),
      );
    }
  }

  private upload(data: GpujsData, values: Float32Array): void {
    if (!this.onDevice) {
      data.handle = values;
      return;
    }
    const program: Program = { kernel: 'upload', key: '', detail: `${values.length} values`, args: ['a'], body: 'return a[this.thread.x];', size: values.length };
    const kernel = this.kernelFor(program, false);
    if (this.isAsync) {
      data.pending = this.enqueue(async () => {
        try {
          return (await (kernel(values) as Pending)) as DeviceHandle;
        } catch (error) {
          throw new GpujsKernelError('upload', program.detail, this.mode, error);
        }
      });
      data.pending.catch(() => undefined);
      return;
    }
    try {
      data.handle = kernel(values) as DeviceHandle;
    } catch (error) {
      throw new GpujsKernelError('upload', program.detail, this.mode, error);
    }
  }

  /** The device handle of an input, uploading exact float64 host values (as float32) on first use. */
  private device(data: GpujsData): DeviceHandle {
    if (!data.handle && data.host) this.upload(data, Float32Array.from(data.host));
    return data.handle as DeviceHandle;
  }

  /** Inside the webgpu queue: the handle of an input (uploads were enqueued before, in runInto). */
  private ready(data: GpujsData): Promise<DeviceHandle> {
    if (data.handle) return Promise.resolve(data.handle);
    return data.pending as Pending;
  }

  private handleToArray(handle: DeviceHandle, size: number): Float32Array {
    if (handle instanceof Float32Array) return handle.subarray(0, size);
    const arr = handle.toArray() as Float32Array;
    return arr.subarray(0, size);
  }

  private deleteHandle(handle: DeviceHandle | null): void {
    if (handle && !(handle instanceof Float32Array) && typeof handle.delete === 'function') handle.delete();
  }

  private release(data: GpujsData): void {
    data.host = null;
    if (data.handle) this.deleteHandle(data.handle);
    data.handle = null;
    if (data.pending) {
      const p = data.pending;
      data.pending = null;
      void this.enqueue(async () => this.deleteHandle(await p)).catch(() => undefined);
    }
  }

  private track(data: GpujsData): GpujsData {
    this.numBuffers++;
    this.bytes += data.bytes;
    return data;
  }
}

function convert(values: ArrayLike<number>, dtype: DataType): TypedArray {
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'float64') return Float64Array.from(values);
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(values[i]);
  return out;
}

/** Creates a gpujs backend in `mode` (default 'auto'); throws GpujsModeError if it cannot start. */
export function createGpujsBackend(options: GpujsBackendOptions = {}): GpujsBackend {
  return new GpujsBackend(options);
}
