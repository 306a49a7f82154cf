// Backprop adapter with backend-wasm on 2 threads (workers sharing the linear memory): the
// same models and kernels as backprop-wasm.mjs. Until the backend has threads, init() says
// "not available" with the backend's own reason instead of failing the run.
import { BackpropError } from '@backprop/tensor';
import { wasmBackendWithOptions } from '@backprop/backend-wasm';
import * as cpu from './backprop-cpu.mjs';

export const name = 'backprop-wasm-threads';
export const label = 'Backprop (backend-wasm, SIMD, 2 threads)';

export async function init() {
  let plugin;
  try {
    plugin = wasmBackendWithOptions({ threads: 2 });
  } catch (error) {
    // The options check refuses threads > 1 in a build without them; anything else is a failure.
    if (error instanceof BackpropError && /threads/.test(error.message)) return { unavailable: error.message };
    throw error;
  }
  const info = await cpu.init(plugin, { backendName: 'wasm', packageName: '@backprop/backend-wasm', notes: 'float32, wasm SIMD, 2 threads' });
  if (info.threads !== 2) throw new Error(`backend-wasm did not start 2 threads (it reports ${info.threads})`);
  // Let the workers start before anything is timed.
  await new Promise((r) => setTimeout(r, 200));
  return info;
}

export const build = cpu.build;
export const kernels = cpu.kernels;
export const countArgmax = cpu.countArgmax;
