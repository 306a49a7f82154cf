import type { Plugin } from '@backprop/tensor';
import { type GpujsBackendOptions, GpujsBackend } from './backend.js';
import { gpujsKernels } from './kernels/index.js';
import { resolveMode } from './modes.js';

export interface GpujsPluginOptions extends GpujsBackendOptions {
  /** Backend name to register (default 'gpujs'). */
  backendName?: string;
  /** Priority when no backend was chosen explicitly (default 0: below the CPU backend). */
  priority?: number;
}

/**
 * A plugin registering the 'gpujs' backend in `mode` and all of its kernels:
 *
 *   registry.use(gpujsBackend({ mode: 'cpu' }));
 *   setBackend('gpujs');
 *
 * The mode is checked when the plugin is installed (a mode that cannot start here
 * throws GpujsModeError, naming the mode, why, and the modes that work); the gpu.js
 * instance is created when the backend is first used.
 */
export function gpujsBackend(options: GpujsPluginOptions = {}): Plugin {
  const backendName = options.backendName ?? 'gpujs';
  const mode = options.mode ?? 'auto';
  return {
    name: `@backprop/backend-gpujs:${backendName}`,
    install(registry) {
      const resolved = options.gpu ? mode : resolveMode(mode);
      registry.registerBackend(backendName, () => new GpujsBackend({ ...options, mode: resolved }), { priority: options.priority ?? 0 });
      for (const kernel of gpujsKernels) {
        registry.registerKernel(backendName === 'gpujs' ? kernel : { ...kernel, backendName });
      }
    },
  };
}
