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
  let mod: Record<string, unknown>;
  try {
    // A variable specifier keeps bundlers from trying to resolve the optional package.
    const specifier = GPUJS_PACKAGE;
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError(`backend 'gpujs' needs the optional package ${GPUJS_PACKAGE}, which is not installed (install it next to @backprop/cli, or use --backend cpu)`);
    }
    throw new CliError(`cannot load ${GPUJS_PACKAGE}: ${(error as Error).message}`);
  }
  if (mode !== undefined) process.env.BACKPROP_GPUJS_MODE = mode;
  for (const key of ['gpujsBackend', 'default', 'backend', 'plugin']) {
    const candidate = mod[key];
    if (isPlugin(candidate)) return candidate;
    // A factory taking options, e.g. `gpujsBackend({ mode })`.
    if (typeof candidate === 'function') {
      const made = (candidate as (o: Record<string, unknown>) => unknown)(mode === undefined ? {} : { mode });
      if (isPlugin(made)) return made;
    }
  }
  const plugin = Object.values(mod).find(isPlugin);
  if (plugin) return plugin;
  throw new CliError(`${GPUJS_PACKAGE} does not export a backend plugin (expected an export { name, install })`);
}

function isPlugin(value: unknown): value is Plugin {
  return value !== null && typeof value === 'object' && typeof (value as Plugin).install === 'function' && typeof (value as Plugin).name === 'string';
}
