/**
 * What the wasm build in use offers, for tools that report it (`backprop info`): the kernels
 * always use 128-bit SIMD; relaxed SIMD is not enabled in asconfig.json (a test keeps the two
 * in step); threads are what a backend runs its kernels on.
 */
import { WasmBackend } from './backend.js';
import { WASM_BYTE_LENGTH, WASM_THREADS_BYTE_LENGTH } from './module.js';
import { resolveWasmOptions, type WasmBackendOptions } from './options.js';

/** Whether asconfig.json enables relaxed SIMD for the kernels (checked against it by build-info.test.ts). */
export const RELAXED_SIMD = false;

export interface WasmBuildInfo {
  /** 128-bit fixed-width SIMD: every build needs it (`whyWasmUnavailable()` says whether this engine has it). */
  simd: true;
  /** Whether the kernels use relaxed SIMD (fused multiply-add and the like). */
  relaxedSimd: boolean;
  /**
   * Threads the kernels run on: for a backend, those running now (1 plus its started workers);
   * for options, those a backend created with them asks for.
   */
  threads: number;
  /** Size of the compiled kernels in use (the embedded module; the shared-memory build when threads > 1), in bytes. */
  moduleBytes: number;
  /** Why a backend runs fewer threads than it was asked for (one line each; empty for options). */
  warnings: string[];
}

/**
 * The build's features and the threads in use: `wasmBuildInfo(backend)` reports what a backend
 * runs now (await `backend.threadsReady` first: workers start asynchronously), `wasmBuildInfo(options)`
 * what a backend with those options asks for (bad options throw as in `wasmBackendWithOptions`).
 */
export function wasmBuildInfo(source: WasmBackendOptions | WasmBackend = {}): WasmBuildInfo {
  if (source instanceof WasmBackend) {
    const moduleBytes = source.pool !== null ? WASM_THREADS_BYTE_LENGTH : WASM_BYTE_LENGTH;
    return { simd: true, relaxedSimd: RELAXED_SIMD, threads: source.threads, moduleBytes, warnings: source.threadWarnings };
  }
  const { threads } = resolveWasmOptions(source);
  return { simd: true, relaxedSimd: RELAXED_SIMD, threads, moduleBytes: threads > 1 ? WASM_THREADS_BYTE_LENGTH : WASM_BYTE_LENGTH, warnings: [] };
}
