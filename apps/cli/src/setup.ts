import { cpuBackend } from '@backprop/backend-cpu';
import { WasmSupportError, wasmBackend, whyWasmUnavailable } from '@backprop/backend-wasm';
import { layersPlugin } from '@backprop/layers';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { type Plugin, Registry } from '@backprop/tensor';
import { CliError } from './errors.js';

/** Backends the CLI knows how to install; `cpu` and `wasm` ship with it, `gpujs` is an optional package. */
export const BACKENDS = ['cpu', 'wasm', 'gpujs'] as const;
export type BackendName = (typeof BACKENDS)[number];

/**
 * The default of --backend: the fastest backend that runs here. backend-wasm trains Model A
 * 3–5× and predicts 3–6× faster than backend-cpu (apps/bench), so `wasm`, or `cpu` (with one
 * line saying why) where WebAssembly SIMD is missing. Not a valid --backend value itself.
 */
export const DEFAULT_BACKEND = 'default';
export const DEFAULT_BACKEND_HELP = 'wasm, or cpu where WebAssembly SIMD is missing';

export const GPUJS_PACKAGE = '@backprop/backend-gpujs';

/** A registry with the CPU backend (and the wasm one where the engine has SIMD), every layer, loss and optimizer installed. */
export function createRegistry(): Registry {
  const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);
  if (whyWasmUnavailable() === null) registry.use(wasmBackend);
  return registry;
}

export interface BackendOptions {
  backend?: string;
  /** Passed through to the gpu.js backend (e.g. 'gpu', 'cpu', 'headlessgl'). */
  gpujsMode?: string;
}

/**
 * Installs (for gpujs and wasm) and activates the chosen backend. The gpu.js backend is an
 * optional package: when it is not installed this fails with a one-line message. The wasm
 * backend needs WebAssembly SIMD: chosen explicitly, its absence is an error; as the default,
 * the CPU backend runs instead and one line on stderr says so.
 */
export async function selectBackend(registry: Registry, options: BackendOptions): Promise<string> {
  let name = options.backend ?? DEFAULT_BACKEND;
  if (name === DEFAULT_BACKEND) name = defaultBackend(registry);
  if (name === 'gpujs' && !registry.backendNames().includes('gpujs')) {
    const plugin = await loadGpujsPlugin(options.gpujsMode);
    registry.use(plugin);
  }
  if (name === 'wasm' && !registry.backendNames().includes('wasm')) {
    try {
      registry.use(wasmBackend);
    } catch (error) {
      throw new CliError(`cannot use backend 'wasm': ${(error as Error).message} (or use --backend cpu)`);
    }
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

/** `wasm` where it installs, else `cpu` after one line on stderr naming what is missing. */
function defaultBackend(registry: Registry): BackendName {
  if (registry.backendNames().includes('wasm')) return 'wasm';
  try {
    registry.use(wasmBackend);
    return 'wasm';
  } catch (error) {
    if (!(error instanceof WasmSupportError)) throw error;
    process.stderr.write(`backprop: the wasm backend cannot run here (${error.message}); using the cpu backend\n`);
    return 'cpu';
  }
}
