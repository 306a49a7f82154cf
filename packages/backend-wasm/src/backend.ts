import {
  BackpropError,
  DisposedTensorError,
  SPEC_VERSION,
  bytesPerElement,
  copyConverted,
  shapeToString,
  sizeOfShape,
  type Backend,
  type BackendMemory,
  type DataId,
  type DataType,
  type TensorInfo,
  type TypedArray,
} from '@backprop/tensor';
import { LinearAllocator } from './allocator.js';
import { WasmDtypeError, WasmMemoryError } from './errors.js';
import type { WasmExports } from './exports.js';
import { instantiate, wasmModule, wasmThreadsModule } from './module.js';
import { resolveWasmOptions, WASM_PAGE_BYTES, type WasmBackendOptions } from './options.js';
import { assertWasmSupported } from './simd.js';
import { controlBlockBytes, WasmThreadPool, type ExportCall, type GemmCall } from './threads/pool.js';

/**
 * Images per partial sum of the kernels that sum over a batch (conv2dBackwardFilter, biasGrad):
 * each chunk of this many images is summed on its own, then the chunks are added in order. The
 * chunks do not depend on the thread count (threads share whole chunks), so neither does the
 * order of any sum: one thread gives the same bits as many.
 */
export const SUM_CHUNK_IMAGES = 4;

/** The storage handle of the wasm backend: where a tensor's values sit in the linear memory. */
export class WasmData {
  constructor(
    /** The backend whose linear memory holds the values (a pointer means nothing in another's). */
    readonly owner: WasmBackend,
    /** Byte offset in the linear memory (64-byte aligned). */
    public ptr: number,
    /** Bytes of the values (size × bytes per element). */
    readonly byteLength: number,
    readonly size: number,
    readonly dtype: DataType,
    public live = true,
  ) {}
}

/** What `makeOutput` returns: the TensorInfo for the engine and where to write the values. */
export interface WasmOutput {
  info: TensorInfo;
  ptr: number;
}

/** Dtype codes of the module's cast and oneHot. */
export const DTYPE_CODE: Record<DataType, number> = { float32: 0, float64: 1, int32: 2 };

type ArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor;
const CTOR: Record<DataType, ArrayCtor> = { float32: Float32Array, float64: Float64Array, int32: Int32Array };

/**
 * WebAssembly SIMD backend. Every tensor lives in the instance's linear memory (imported from
 * here; shared with the workers when threads > 1); kernels get byte offsets and write their
 * outputs in place, so nothing is copied between JavaScript and wasm except in `write` and
 * `readSync`/`read`. float32 is the compute dtype; float64 and int32 tensors are stored (and
 * cast, int32 labels feed oneHot, and argMax outputs int32) but other kernels refuse them.
 *
 * With threads > 1 the big kernels (matMul, the convolutions and their gradients, biasGrad,
 * pooling) cut their work into parts computed exactly as one call would (src/threads/pool.ts):
 * results are bit-identical to one thread. Kernels stay synchronous: the calling thread computes
 * one part and waits for the workers.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly specVersion = SPEC_VERSION;
  /** The kernels (assembly/index.ts). */
  readonly wasm: WasmExports;
  readonly linearMemory: WebAssembly.Memory;
  /** The workers sharing the memory (threads > 1 on a shared memory), or null. */
  readonly pool: WasmThreadPool | null = null;
  private readonly allocator: LinearAllocator;
  private readonly warnings: string[] = [];
  private numBuffers = 0;
  private bytes = 0;

  constructor(options: WasmBackendOptions = {}) {
    const { maxPages, initialPages, threads } = resolveWasmOptions(options);
    assertWasmSupported();
    let memory: WebAssembly.Memory | null = null;
    let module: WebAssembly.Module | null = null;
    // Whether the kernels run on the shared memory with the threads build (then a pool starts).
    let threaded = false;
    if (threads > 1) {
      // A shared memory (and the build importing one) or, failing that, one thread: never a crash.
      const fallback = (why: string) => this.warnings.push(`threads: ${threads} were asked for, the kernels run on 1: ${why}`);
      if (typeof SharedArrayBuffer !== 'function') {
        fallback('SharedArrayBuffer is not available (in a browser, the page must be cross-origin isolated: COOP and COEP headers)');
      } else {
        try {
          const shared = new WebAssembly.Memory({ initial: initialPages, maximum: maxPages, shared: true });
          module = wasmThreadsModule();
          memory = shared;
          threaded = true;
        } catch (error) {
          fallback(`the shared memory or the threads build failed: ${(error as Error).message}`);
        }
      }
    }
    // The single-thread build, compiled only when it is the one that runs.
    module ??= wasmModule();
    try {
      memory ??= new WebAssembly.Memory({ initial: initialPages, maximum: maxPages });
    } catch (error) {
      throw new WasmMemoryError(
        'wasm backend',
        `could not reserve ${initialPages * WASM_PAGE_BYTES} bytes of linear memory (initialMemoryBytes) with a limit of ${maxPages * WASM_PAGE_BYTES} bytes: ${(error as Error).message}`,
      );
    }
    this.linearMemory = memory;
    this.wasm = instantiate(memory, module);
    this.allocator = new LinearAllocator(memory, this.wasm.heapBase(), maxPages * WASM_PAGE_BYTES);
    if (threaded) {
      const control = this.allocator.alloc(controlBlockBytes(threads));
      if (control === null) throw this.outOfMemory('wasm backend', 'the thread pool\'s control block', controlBlockBytes(threads));
      // A worker that answers late costs nothing (its share runs here meanwhile): a long timeout
      // keeps a busy machine from losing threads for good.
      this.pool = new WasmThreadPool({ threads, module, memory, kernels: this.wasm, control, startTimeoutMs: 60_000 });
    }
  }

  /** Threads the kernels run on now: 1 plus the workers that have started (they start asynchronously; see `threadsReady`). */
  get threads(): number {
    return this.pool?.running ?? 1;
  }

  /** Resolves, once every worker has started or failed, to the threads running and the warnings. */
  get threadsReady(): Promise<{ threads: number; warnings: string[] }> {
    const started = this.pool?.ready ?? Promise.resolve();
    return started.then(() => ({ threads: this.threads, warnings: this.threadWarnings }));
  }

  /** Why fewer threads run than were asked for (one line each): no shared memory, workers that did not start or stopped. */
  get threadWarnings(): string[] {
    return [...this.warnings, ...(this.pool?.failures ?? [])];
  }

  // ---- Backend interface ------------------------------------------------------------

  write(values: TypedArray, shape: readonly number[], dtype: DataType): DataId {
    const data = this.allocData(values.length, dtype, () => `a ${dtype} tensor of shape ${shapeToString(shape)}`, 'write');
    copyConverted(values, this.view(data), dtype);
    return data;
  }

  readSync(dataId: DataId): TypedArray {
    return this.view(this.data(dataId, 'readSync')).slice();
  }

  read(dataId: DataId): Promise<TypedArray> {
    return Promise.resolve(this.readSync(dataId));
  }

  disposeData(dataId: DataId): void {
    const data = this.owned(dataId, 'disposeData');
    if (!data.live) return;
    data.live = false;
    this.numBuffers--;
    this.bytes -= data.byteLength;
    if (data.byteLength > 0) this.allocator.free(data.ptr, data.byteLength);
  }

  memory(): BackendMemory {
    return { numDataBuffers: this.numBuffers, numBytes: this.bytes };
  }

  memoryInfo(): BackendMemory & { heapBytes: number; linearMemoryBytes: number; freeBlocks: number } {
    return {
      ...this.memory(),
      heapBytes: this.allocator.heapTop,
      linearMemoryBytes: this.linearMemory.buffer.byteLength,
      freeBlocks: this.allocator.freeBlocks,
    };
  }

  /** Terminates the workers; the memory and instance go with this object. */
  dispose(): void {
    this.pool?.terminate();
  }

  // ---- helpers for kernels ------------------------------------------------------------

  /** Where a tensor's values are (throws if it was disposed). */
  ptr(info: TensorInfo | DataId, where = 'wasm backend'): number {
    return this.data(((info as TensorInfo).dataId ?? info) as DataId, where).ptr;
  }

  /** Where a float32 tensor's values are; other dtypes throw WasmDtypeError (the backend computes in float32). */
  f32(info: TensorInfo, kernel: string): number {
    if (info.dtype !== 'float32') {
      throw new WasmDtypeError(
        kernel,
        `the wasm backend computes in float32 only, got a ${info.dtype} tensor of shape ${shapeToString(info.shape)}; cast it with cast(x, 'float32') or use the cpu backend for ${info.dtype}`,
      );
    }
    return this.ptr(info, kernel);
  }

  /** A new output tensor. Its contents are unspecified (blocks are reused): the kernel writes every element. */
  makeOutput(shape: readonly number[], dtype: DataType, kernel: string): WasmOutput {
    const data = this.allocData(sizeOfShape(shape), dtype, () => `the ${dtype} output of shape ${shapeToString(shape)}`, kernel);
    return { info: { dataId: data, shape: shape.slice(), dtype }, ptr: data.ptr };
  }

  /** Like makeOutput, for a kernel's second output: releases `earlier` outputs when this one cannot be allocated. */
  makeOutputAfter(earlier: readonly WasmOutput[], shape: readonly number[], dtype: DataType, kernel: string): WasmOutput {
    try {
      return this.makeOutput(shape, dtype, kernel);
    } catch (error) {
      for (const out of earlier) this.disposeData(out.info.dataId);
      throw error;
    }
  }

  /**
   * Runs `fn` with scratch blocks of the given byte sizes (64-byte aligned, contents
   * unspecified; 0 bytes gives pointer 0) and frees them afterwards, also when it throws.
   * When the scratch cannot be allocated, `outputs` (the kernel's already allocated outputs)
   * are released too and WasmMemoryError names the kernel: a failed kernel leaks nothing.
   */
  withScratch<R>(kernel: string, sizes: readonly number[], outputs: readonly WasmOutput[], fn: (...ptrs: number[]) => R): R {
    const ptrs = this.allocScratch(sizes);
    if (typeof ptrs === 'number') {
      for (const out of outputs) this.disposeData(out.info.dataId);
      throw this.outOfMemory(kernel, `${ptrs} bytes of scratch`, ptrs);
    }
    try {
      return fn(...ptrs);
    } finally {
      this.freeScratch(sizes, ptrs);
    }
  }

  /**
   * Runs an export over `units` independent units (images, planes, chunks of a sum) cut into
   * contiguous ranges, one per thread when the job (`flop` floating-point operations) is big
   * enough and the memory holds a scratch set per part, else in one call. `call(from, to,
   * scratch)` gives the call for units [from, to), `scratch` its own blocks of the `scratch`
   * sizes. Each call must compute its units exactly as one call over all would, writing only
   * their part of the output. Out of memory releases `outputs` as withScratch does.
   */
  split(
    kernel: string, units: number, flop: number, scratch: readonly number[], outputs: readonly WasmOutput[],
    call: (from: number, to: number, scratch: number[]) => ExportCall,
  ): void {
    let parts = this.pool?.parts(flop, units) ?? 1;
    let sizes: number[] = [];
    let ptrs: number[] | number = 0;
    for (; ; parts = 1) {
      sizes = Array.from({ length: parts }, () => scratch).flat();
      ptrs = this.allocScratch(sizes);
      if (typeof ptrs !== 'number' || parts === 1) break;
    }
    if (typeof ptrs === 'number') {
      for (const out of outputs) this.disposeData(out.info.dataId);
      throw this.outOfMemory(kernel, `${ptrs} bytes of scratch`, ptrs);
    }
    try {
      const step = Math.ceil(units / parts);
      const calls: (ExportCall | null)[] = [];
      for (let p = 0; p < parts; p++) {
        const from = Math.min(units, p * step), to = Math.min(units, from + step);
        calls.push(from < to || p === 0 ? call(from, to, ptrs.slice(p * scratch.length, (p + 1) * scratch.length)) : null);
      }
      if (parts === 1 || this.pool === null) {
        const { fn, args } = calls[0]!;
        (this.wasm as unknown as Record<string, (...a: number[]) => unknown>)[fn](...args);
      } else {
        this.pool.run(calls, kernel, ' on its part of the work: a pointer outside the memory');
      }
    } finally {
      this.freeScratch(sizes, ptrs);
    }
  }

  /** Scratch bytes `gemm` needs for an M×N product over K (split across the threads when big enough). */
  gemmScratchBytes(M: number, N: number, K: number): number {
    return this.pool?.scratchBytes(M, N, K) ?? this.wasm.gemmScratchBytes(M, N, K);
  }

  /** C = op(A)·op(B) (+ C when accumulating), on the threads when big enough; `scratch` holds gemmScratchBytes(M, N, K). */
  gemm(call: GemmCall, scratch: number): void {
    if (this.pool !== null) return this.pool.gemm(call, scratch);
    const { transA, transB, M, N, K, a, lda, b, ldb, c, ldc, accumulate } = call;
    this.wasm.gemm(+transA, +transB, M, N, K, a, lda, b, ldb, c, ldc, +accumulate, scratch);
  }

  /** Blocks of the given sizes (0 bytes: pointer 0), or the size that did not fit (all freed again). */
  private allocScratch(sizes: readonly number[]): number[] | number {
    const ptrs: number[] = [];
    for (const size of sizes) {
      const at = size > 0 ? this.allocator.alloc(size) : 0;
      if (at === null) {
        this.freeScratch(sizes.slice(0, ptrs.length), ptrs);
        return size;
      }
      ptrs.push(at);
    }
    return ptrs;
  }

  private freeScratch(sizes: readonly number[], ptrs: readonly number[]): void {
    for (let i = 0; i < ptrs.length; i++) if (sizes[i] > 0) this.allocator.free(ptrs[i], sizes[i]);
  }

  /** A typed array over a tensor's values, derived now (views go stale when memory grows). */
  view(data: WasmData): TypedArray {
    return new CTOR[data.dtype](this.linearMemory.buffer, data.ptr, data.size);
  }

  /** A live handle of this backend's (throws DisposedTensorError for a disposed one). */
  private data(dataId: DataId, where: string): WasmData {
    const data = this.owned(dataId, where);
    if (!data.live) throw new DisposedTensorError(where, 'the tensor was disposed; its values are gone');
    return data;
  }

  /** `dataId` as a handle of this backend; a handle of another backend (another wasm backend's included) throws BackpropError. */
  private owned(dataId: DataId, where: string): WasmData {
    if (dataId instanceof WasmData && dataId.owner === this) return dataId;
    const whose = dataId instanceof WasmData ? 'another wasm backend (another linear memory)' : 'another backend';
    throw new BackpropError(where, `the tensor belongs to ${whose}, not to this wasm backend; create it in this backend's registry, or copy its values over with tensor(await t.data(), t.shape, { registry })`);
  }

  private allocData(size: number, dtype: DataType, what: () => string, where: string): WasmData {
    const byteLength = size * bytesPerElement(dtype);
    let ptr = 0;
    if (byteLength > 0) {
      const at = this.allocator.alloc(byteLength);
      if (at === null) throw this.outOfMemory(where, what(), byteLength);
      ptr = at;
    }
    this.numBuffers++;
    this.bytes += byteLength;
    return new WasmData(this, ptr, byteLength, size, dtype);
  }

  private outOfMemory(where: string, what: string, bytes: number): WasmMemoryError {
    return new WasmMemoryError(
      where,
      `out of wasm linear memory allocating ${what} (${bytes} bytes): the limit is ${this.allocator.maxBytes} bytes ` +
        `(maxMemoryBytes), ${this.bytes} bytes are held by ${this.numBuffers} live tensors; dispose tensors or raise maxMemoryBytes`,
    );
  }
}
