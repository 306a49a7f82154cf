import { type ComponentSpec, defaultRegistry, type Optimizer, type Plugin, type Registry } from '@backprop/tensor';
import { OPTIMIZER_FACTORIES } from './optimizers.js';

/** Registers 'sgd', 'momentum', 'adam' and 'rmsprop' in `registry.optimizers`. */
export const optimizersPlugin: Plugin = {
  name: '@backprop/optimizers',
  install(registry: Registry): void {
    for (const [name, factory] of Object.entries(OPTIMIZER_FACTORIES)) registry.optimizers.register(name, factory);
  },
};

/**
 * Resolves an optimizer given as a registered name (`'adam'`, default options), an
 * `Optimizer` (returned as is) or its JSON form `{ name: 'adam', config: { … } }`
 * (as produced by `{ name: opt.name, config: opt.getConfig() }`):
 * `registry.optimizers.create`, with this package's optimizers as the fallback for
 * names not registered, so it works before `optimizersPlugin` is installed.
 */
export function getOptimizer(identifier: ComponentSpec<Optimizer>, registry: Registry = defaultRegistry): Optimizer {
  return registry.optimizers.create(identifier, { fallback: OPTIMIZER_FACTORIES });
}
