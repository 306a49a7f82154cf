export { wasmBackend, wasmBackendWithOptions, createWasmBackend } from './plugin.js';
export { WasmBackend, SUM_CHUNK_IMAGES } from './backend.js';
export { MAX_MEMORY_BYTES, MAX_THREADS, type WasmBackendOptions } from './options.js';
export { WasmDtypeError, WasmMemoryError, WasmSupportError } from './errors.js';
export { assertWasmSupported, whyWasmUnavailable } from './simd.js';
export { compileWasmKernels, wasmBytes, wasmThreadsBytes } from './module.js';
export { wasmBuildInfo, type WasmBuildInfo } from './build-info.js';
export type { WasmExports } from './exports.js';
