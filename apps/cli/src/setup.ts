import { cpuBackend } from '@backprop/backend-cpu';
import { layersPlugin } from '@backprop/layers';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { type Plugin, Registry } from '@backprop/tensor';
import { CliError } from './errors.js';

/** Backends the CLI knows how to install; `cpu` ships with it, `gpujs` is an optional package. */
export const BACKENDS = ['cpu', 'gpujs'] as const;
export type BackendName = (typeof BACKENDS)[number];

export const GPUJS_PACKAGE = '@backprop/backend-gpujs';

/** A registry with the CPU backend, every layer, loss and optimizer installed. */
export function createRegistry(): Registry {
  return new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);
}

export interface BackendOptions {
  backend?: string;
  /** Passed through to the gpu.js backend (e.g. 'gpu', 'cpu', 'headlessgl'). */
  gpujsMode?: string;
}

/**
 * Installs (for gpujs) and activates the chosen backend. The gpu.js backend is an
 * optional package: when it is not installed this fails with a one-line message.
 */
export async function selectBackend(registry: Registry, options: BackendOptions): Promise<string> {
  const name = options.backend ?? 'cpu';
  if (name === 'gpujs' && !registry.backendNames().includes('gpujs')) {
    const plugin = await loadGpujsPlugin(options.gpujsMode);
    registry.use(plugin);
  }
  try {
    registry.setBackend(name);
  } catch (error) {
    throw new CliError(`cannot use backend '${name}': ${(error as Error).message}`);
  }
  return name;
}

async function loadGpujsPlugin(mode: string | undefined): Promise<Plugin> {
  let gpujs: typeof import('@backprop/backend-gpujs');
  try {
    gpujs = await import('@backprop/backend-gpujs');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError(`backend 'gpujs' needs the optional packages ${GPUJS_PACKAGE} and gpu.js, which are not installed (or use --backend cpu)`);
    }
    throw new CliError(`cannot load ${GPUJS_PACKAGE}: ${(error as Error).message}`);
  }
  // WebGPU in Node comes from the `webgpu` package (Dawn): installNodeWebGPU provides navigator.gpu.
  if (mode === 'webgpu') {
    try {
      await gpujs.installNodeWebGPU();
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  }
  // The backend throws a GpujsModeError naming the mode, why it cannot start, and the modes that can.
  return gpujs.gpujsBackend({ mode: (mode ?? 'auto') as import('@backprop/backend-gpujs').GpujsMode });
}
