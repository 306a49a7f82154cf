// Backprop adapter with @backprop/backend-wasm (AssemblyScript SIMD kernels, one thread): the
// same models and kernels as backprop-cpu.mjs, on the 'wasm' backend.
import { wasmBackend } from '@backprop/backend-wasm';
import * as cpu from './backprop-cpu.mjs';

export const name = 'backprop-wasm';
export const label = 'Backprop (backend-wasm, SIMD)';

export function init() {
  return cpu.init(wasmBackend, { backendName: 'wasm', packageName: '@backprop/backend-wasm', notes: 'float32, wasm SIMD, single thread' });
}

export const build = cpu.build;
export const kernels = cpu.kernels;
export const countArgmax = cpu.countArgmax;
