import {
  SPEC_VERSION,
  bytesPerElement,
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
import { instantiate } from './module.js';
import { resolveWasmOptions, WASM_PAGE_BYTES, type WasmBackendOptions } from './options.js';
import { assertWasmSupported } from './simd.js';

/** The storage handle of the wasm backend: where a tensor's values sit in the linear memory. */
export class WasmData {
  constructor(
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

function dtypeOf(a: TypedArray): DataType {
  return a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : 'int32';
}

/**
 * WebAssembly SIMD backend. Every tensor lives in the instance's linear memory (imported from
 * here, so a later multi-threaded version can make it shared); kernels get byte offsets and
 * write their outputs in place, so nothing is copied between JavaScript and wasm except in
 * `write` and `readSync`/`read`. float32 is the compute dtype; float64 and int32 tensors are
 * stored (and cast, and int32 labels feed oneHot/argMax) but other kernels refuse them.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly specVersion = SPEC_VERSION;
  /** The kernels (assembly/index.ts). */
  readonly wasm: WasmExports;
  readonly linearMemory: WebAssembly.Memory;
  private readonly allocator: LinearAllocator;
  private numBuffers = 0;
  private bytes = 0;

  constructor(options: WasmBackendOptions = {}) {
    const { maxPages, initialPages } = resolveWasmOptions(options);
    assertWasmSupported();
    try {
      this.linearMemory = new WebAssembly.Memory({ initial: initialPages, maximum: maxPages });
    } catch (error) {
      throw new WasmMemoryError(
        'wasm backend',
        `could not reserve ${initialPages * WASM_PAGE_BYTES} bytes of linear memory (initialMemoryBytes) with a limit of ${maxPages * WASM_PAGE_BYTES} bytes: ${(error as Error).message}`,
      );
    }
    this.wasm = instantiate(this.linearMemory);
    this.allocator = new LinearAllocator(this.linearMemory, this.wasm.heapBase(), maxPages * WASM_PAGE_BYTES);
  }

  // ---- Backend interface ------------------------------------------------------------

  write(values: TypedArray, shape: readonly number[], dtype: DataType): DataId {
    const data = this.allocData(values.length, dtype, () => `a ${dtype} tensor of shape ${shapeToString(shape)}`, 'write');
    const view = this.view(data);
    if (dtypeOf(values) === dtype || dtype !== 'int32') view.set(values);
    else for (let i = 0; i < values.length; i++) view[i] = Math.trunc(values[i]);
    return data;
  }

  readSync(dataId: DataId): TypedArray {
    return this.view(this.data(dataId, 'readSync')).slice();
  }

  read(dataId: DataId): Promise<TypedArray> {
    return Promise.resolve(this.readSync(dataId));
  }

  disposeData(dataId: DataId): void {
    const data = dataId as WasmData;
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

  dispose(): void {
    // The memory and instance go with this object; nothing else to release.
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
    const ptrs: number[] = [];
    try {
      for (const size of sizes) {
        const at = size > 0 ? this.allocator.alloc(size) : 0;
        if (at === null) {
          for (const out of outputs) this.disposeData(out.info.dataId);
          throw this.outOfMemory(kernel, `${size} bytes of scratch`, size);
        }
        ptrs.push(at);
      }
      return fn(...ptrs);
    } finally {
      for (let i = 0; i < ptrs.length; i++) if (sizes[i] > 0) this.allocator.free(ptrs[i], sizes[i]);
    }
  }

  /** A typed array over a tensor's values, derived now (views go stale when memory grows). */
  view(data: WasmData): TypedArray {
    return new CTOR[data.dtype](this.linearMemory.buffer, data.ptr, data.size);
  }

  private data(dataId: DataId, where: string): WasmData {
    const data = dataId as WasmData;
    if (!(data instanceof WasmData)) throw new WasmDtypeError(where, 'this tensor does not belong to the wasm backend');
    if (!data.live) throw new WasmMemoryError(where, 'tensor data was disposed');
    return data;
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
    return new WasmData(ptr, byteLength, size, dtype);
  }

  private outOfMemory(where: string, what: string, bytes: number): WasmMemoryError {
    return new WasmMemoryError(
      where,
      `out of wasm linear memory allocating ${what} (${bytes} bytes): the limit is ${this.allocator.maxBytes} bytes ` +
        `(maxMemoryBytes), ${this.bytes} bytes are held by ${this.numBuffers} live tensors; dispose tensors or raise maxMemoryBytes`,
    );
  }
}
