/**
 * What the wasm build in use offers, for tools that report it (`backprop info`): the kernels
 * always use 128-bit SIMD; relaxed SIMD is not enabled in asconfig.json (a test keeps the two
 * in step); threads are what a backend with the given options runs.
 */
import { wasmBytes } from './module.js';
import { resolveWasmOptions, type WasmBackendOptions } from './options.js';

/** Whether asconfig.json enables relaxed SIMD for the kernels (checked against it by build-info.test.ts). */
export const RELAXED_SIMD = false;

export interface WasmBuildInfo {
  /** 128-bit fixed-width SIMD: every build needs it (`whyWasmUnavailable()` says whether this engine has it). */
  simd: true;
  /** Whether the kernels use relaxed SIMD (fused multiply-add and the like). */
  relaxedSimd: boolean;
  /** Threads a backend created with these options runs its kernels on. */
  threads: number;
  /** Size of the compiled kernels (the embedded module), in bytes. */
  moduleBytes: number;
}

/** The build's features and the threads a backend with `options` uses (bad options throw as in `wasmBackendWithOptions`). */
export function wasmBuildInfo(options: WasmBackendOptions = {}): WasmBuildInfo {
  const { threads } = resolveWasmOptions(options);
  return { simd: true, relaxedSimd: RELAXED_SIMD, threads, moduleBytes: wasmBytes().length };
}
