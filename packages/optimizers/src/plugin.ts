import {
  defaultRegistry,
  type ComponentJSON,
  type Optimizer,
  type Plugin,
  type Registry,
} from '@backprop/tensor';
import { OPTIMIZER_FACTORIES, type OptimizerName } from './optimizers.js';

/** Registers 'sgd', 'momentum', 'adam' and 'rmsprop' in `registry.optimizers`. */
export const optimizersPlugin: Plugin = {
  name: '@backprop/optimizers',
  install(registry: Registry): void {
    for (const [name, factory] of Object.entries(OPTIMIZER_FACTORIES)) registry.optimizers.register(name, factory);
  },
};

function isOptimizer(v: unknown): v is Optimizer {
  return v !== null && typeof v === 'object' && typeof (v as Optimizer).step === 'function' && typeof (v as Optimizer).name === 'string';
}

/**
 * Resolves an optimizer given as a registered name (`'adam'`, default options), an
 * `Optimizer` (returned as is) or its JSON form `{ name: 'adam', config: { … } }`
 * (as produced by `{ name: opt.name, config: opt.getConfig() }`). Names are looked up
 * in `registry.optimizers` first, then among this package's optimizers, so it works
 * before `optimizersPlugin` is installed.
 */
export function getOptimizer(
  identifier: string | Optimizer | ComponentJSON | { name: string; config?: Record<string, unknown> },
  registry: Registry = defaultRegistry,
): Optimizer {
  if (isOptimizer(identifier)) return identifier;
  const name = typeof identifier === 'string' ? identifier : identifier?.name;
  if (typeof name === 'string' && !registry.optimizers.has(name) && Object.hasOwn(OPTIMIZER_FACTORIES, name)) {
    return OPTIMIZER_FACTORIES[name as OptimizerName](typeof identifier === 'string' ? undefined : identifier.config);
  }
  return registry.optimizers.create(identifier);
}
