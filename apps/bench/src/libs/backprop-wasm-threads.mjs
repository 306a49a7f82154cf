// Backprop adapter with backend-wasm on 2 threads (workers sharing the linear memory): the
// same models and kernels as backprop-wasm.mjs. A build without threads makes init() say
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
  // The registry the adapter installs the plugin in: its backend tells when the workers have started.
  let registry;
  const capturing = { name: plugin.name, install: (r) => ((registry = r), plugin.install(r)) };
  const info = await cpu.init(capturing, { backendName: 'wasm', packageName: '@backprop/backend-wasm', notes: 'float32, wasm SIMD, 2 threads' });
  // Workers start asynchronously: wait for them before anything is timed.
  const { threads, warnings } = await registry.findBackend('wasm').threadsReady;
  if (threads !== 2) throw new Error(`backend-wasm did not start 2 threads (it runs ${threads}: ${warnings.join('; ')})`);
  return { ...info, threads };
}

export const build = cpu.build;
export const kernels = cpu.kernels;
export const countArgmax = cpu.countArgmax;
