import type { Plugin } from '@backprop/tensor';
import { WasmBackend } from './backend.js';
import { wasmKernels } from './kernels/index.js';
import { resolveWasmOptions, type WasmBackendOptions } from './options.js';
import { assertWasmSupported } from './simd.js';

/** A new wasm backend instance (for `registry.registerBackend` or direct use). */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  return new WasmBackend(options);
}

/**
 * The 'wasm' backend plugin with options, e.g. `registry.use(wasmBackendWithOptions({
 * maxMemoryBytes: 512 * 2 ** 20 }))`. Same plugin name as `wasmBackend`: a registry holds one
 * of them. Bad options throw here; an engine without WebAssembly SIMD throws WasmSupportError
 * when the plugin is installed.
 */
export function wasmBackendWithOptions(options: WasmBackendOptions): Plugin {
  resolveWasmOptions(options);
  return {
    name: '@backprop/backend-wasm',
    install(registry) {
      assertWasmSupported();
      // Priority 0 (cpu has 1): installed beside the cpu backend, which also computes in float64,
      // wasm runs only when chosen with setBackend('wasm').
      registry.registerBackend('wasm', () => new WasmBackend(options), { priority: 0 });
      for (const kernel of wasmKernels) registry.registerKernel(kernel);
    },
  };
}

/** Installs the 'wasm' backend and all of its kernels: `use(wasmBackend)`. */
export const wasmBackend: Plugin = wasmBackendWithOptions({});
