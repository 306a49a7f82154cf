import {
  SPEC_VERSION,
  copyConverted,
  sizeOfShape,
  type Backend,
  type BackendMemory,
  type DataId,
  type DataType,
  type TensorInfo,
  type TypedArray,
  DisposedTensorError,
} from '@backprop/tensor';
import { type ConvAlgorithm, type CpuBackendOptions, PARALLEL_MIN_FLOPS, resolveConvAlgorithm } from './options.js';
import { ScratchBuffers } from './scratch.js';
import { jobs, type JobArgs, type JobName } from './threads/jobs.js';
import { ThreadPool } from './threads/pool.js';

/** The storage handle of the CPU backend: the typed array itself, read directly by kernels. */
export class CpuData {
  constructor(
    public values: TypedArray,
    public live = true,
  ) {}
}

/** What `makeOutput` returns: the TensorInfo to hand back to the engine and the array to fill. */
export interface CpuOutput<A extends TypedArray = TypedArray> {
  info: TensorInfo;
  values: A;
}

const EMPTY = new Float32Array(0);
/** Free buffers are kept up to this many bytes in total. */
const POOL_MAX_BYTES = 64 * 1024 * 1024;
/** At most this many free buffers of one (dtype, length). */
const POOL_MAX_PER_KEY = 8;

function alloc(dtype: DataType, size: number, shared: boolean): TypedArray {
  if (shared) {
    // Worker threads read inputs and write outputs in place: the memory must be shared.
    const bytes = dtype === 'float64' ? 8 : 4;
    const sab = new SharedArrayBuffer(size * bytes);
    return dtype === 'float32' ? new Float32Array(sab) : dtype === 'float64' ? new Float64Array(sab) : new Int32Array(sab);
  }
  return dtype === 'float32' ? new Float32Array(size) : dtype === 'float64' ? new Float64Array(size) : new Int32Array(size);
}

function dtypeOf(a: TypedArray): DataType {
  return a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : 'int32';
}

/**
 * Pure TypeScript CPU backend. Buffers are plain typed arrays; freed buffers go to a
 * small free list keyed by (dtype, length) so training loops stop churning the GC.
 * Kernels also get growable Float64 scratch buffers (GEMM panels, im2col) from here.
 */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly specVersion = SPEC_VERSION;
  /** The algorithm each convolution kernel uses (the `convAlgorithm` option; 'auto' where not set). */
  readonly convAlgorithm: Readonly<ConvAlgorithm>;

  private numBuffers = 0;
  private bytes = 0;
  private readonly pool: Record<DataType, Map<number, TypedArray[]>> = {
    float32: new Map(),
    float64: new Map(),
    int32: new Map(),
  };
  private pooledBytes = 0;
  private readonly scratchBuffers: ScratchBuffers;
  /** Worker threads, or null when single-threaded. */
  private threadPool: ThreadPool | null;
  /** Whether buffers are SharedArrayBuffer-backed (exactly when there is a pool). */
  private readonly shared: boolean;
  private readonly parallelMinFlops: number;

  constructor(options: CpuBackendOptions = {}) {
    this.convAlgorithm = resolveConvAlgorithm(options.convAlgorithm);
    this.parallelMinFlops = options.parallelMinFlops ?? PARALLEL_MIN_FLOPS;
    const threads = Math.max(1, Math.floor(options.threads ?? 1));
    this.threadPool = threads > 1 ? ThreadPool.create({ workers: threads - 1, workerUrl: options.workerUrl }) : null;
    this.shared = this.threadPool !== null;
    this.scratchBuffers = new ScratchBuffers(this.shared);
  }

  /** Threads the heavy kernels use (1 when single-threaded or threads are unavailable). */
  get threads(): number {
    return this.threadPool?.threads ?? 1;
  }

  // ---- Backend interface ------------------------------------------------------------

  write(values: TypedArray, shape: readonly number[], dtype: DataType): DataId {
    void shape;
    const out = this.take(dtype, values.length);
    copyConverted(values, out, dtype);
    return this.track(out);
  }

  readSync(dataId: DataId): TypedArray {
    return this.values(dataId).slice();
  }

  read(dataId: DataId): Promise<TypedArray> {
    return Promise.resolve(this.readSync(dataId));
  }

  disposeData(dataId: DataId): void {
    const data = dataId as CpuData;
    if (!data.live) return;
    data.live = false;
    const values = data.values;
    data.values = EMPTY;
    this.numBuffers--;
    this.bytes -= values.byteLength;
    this.release(values);
  }

  memory(): BackendMemory {
    return { numDataBuffers: this.numBuffers, numBytes: this.bytes };
  }

  dispose(): void {
    this.threadPool?.dispose();
    this.threadPool = null;
    for (const dtype of ['float32', 'float64', 'int32'] as const) this.pool[dtype].clear();
    this.pooledBytes = 0;
    this.scratchBuffers.clear();
  }

  // ---- helpers for kernels ------------------------------------------------------------

  /** The typed array behind a tensor (not a copy: kernels read and, when in place, write it). */
  values(info: TensorInfo | DataId): TypedArray {
    const data = ((info as TensorInfo).dataId ?? info) as CpuData;
    if (!data.live) throw new DisposedTensorError('cpu backend', 'the tensor was disposed; its values are gone');
    return data.values;
  }

  /** A new output buffer. Its contents are unspecified (it may be recycled): overwrite every element. */
  makeOutput(shape: readonly number[], dtype: DataType): CpuOutput {
    const values = this.take(dtype, sizeOfShape(shape));
    return { info: { dataId: this.track(values), shape: shape.slice(), dtype }, values };
  }

  /** A new output buffer filled with zeros, for kernels that accumulate. */
  makeZeroOutput(shape: readonly number[], dtype: DataType): CpuOutput {
    const out = this.makeOutput(shape, dtype);
    out.values.fill(0);
    return out;
  }

  /**
   * Runs a splittable job (threads/jobs.ts) in at most `units` shares (of rows, images…): on the worker pool when
   * there is one and the work (`flops`) is worth a wake-up, else all shares here, in order.
   * Either way the numbers are the same (jobs split outputs, never sums).
   */
  parallel<N extends JobName>(job: N, args: JobArgs<N>, units: number, flops: number, chunksPerThread = 2): void {
    const pool = this.threadPool;
    if (pool !== null && flops >= this.parallelMinFlops && units > 1) {
      // More shares than threads: a thread that wakes late, or whose core is taken by
      // another process, takes fewer of them, and the caller waits at most for one share.
      pool.run(job, args, Math.min(units, pool.threads * chunksPerThread), this);
      return;
    }
    (jobs[job] as (s: this, a: JobArgs<N>, chunk: number, chunks: number) => void)(this, args, 0, 1);
  }

  /** A Float64 scratch buffer of at least `size` elements, reused between calls (contents unspecified). */
  scratch(slot: string, size: number): Float64Array {
    return this.scratchBuffers.scratch(slot, size);
  }

  /** Free buffers currently held for reuse (not counted by `memory()`). */
  poolInfo(): { buffers: number; bytes: number } {
    let buffers = 0;
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      for (const list of this.pool[dtype].values()) buffers += list.length;
    }
    return { buffers, bytes: this.pooledBytes };
  }

  private track(values: TypedArray): CpuData {
    this.numBuffers++;
    this.bytes += values.byteLength;
    return new CpuData(values);
  }

  private take(dtype: DataType, size: number): TypedArray {
    const list = this.pool[dtype].get(size);
    if (list !== undefined && list.length > 0) {
      const buf = list.pop() as TypedArray;
      this.pooledBytes -= buf.byteLength;
      return buf;
    }
    return alloc(dtype, size, this.shared);
  }

  private release(values: TypedArray): void {
    if (values.length === 0 || this.pooledBytes + values.byteLength > POOL_MAX_BYTES) return;
    const map = this.pool[dtypeOf(values)];
    let list = map.get(values.length);
    if (list === undefined) {
      list = [];
      map.set(values.length, list);
    }
    if (list.length >= POOL_MAX_PER_KEY) return;
    list.push(values);
    this.pooledBytes += values.byteLength;
  }
}
