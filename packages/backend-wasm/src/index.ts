export { wasmBackend, wasmBackendWithOptions, createWasmBackend } from './plugin.js';
export { WasmBackend, WasmData, type WasmOutput } from './backend.js';
export { LinearAllocator, BLOCK_ALIGN } from './allocator.js';
export { MAX_MEMORY_BYTES, type WasmBackendOptions } from './options.js';
export { WasmDtypeError, WasmMemoryError, WasmSupportError } from './errors.js';
export { SIMD_PROBE, assertWasmSupported, whyWasmUnavailable } from './simd.js';
export { compileWasmKernels, wasmBytes } from './module.js';
export { wasmKernels } from './kernels/index.js';
export type { WasmExports } from './exports.js';
