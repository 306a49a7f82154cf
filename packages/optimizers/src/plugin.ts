import {
  BackpropError,
  defaultRegistry,
  describeValue,
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
  let name: string;
  let config: Record<string, unknown> | undefined;
  if (typeof identifier === 'string') {
    name = identifier;
  } else if (identifier !== null && typeof identifier === 'object' && typeof identifier.name === 'string') {
    name = identifier.name;
    config = identifier.config;
  } else {
    throw new BackpropError(
      'getOptimizer',
      `expected an optimizer name, an Optimizer or { name, config }, got ${describeValue(identifier)}`,
    );
  }
  if (!registry.optimizers.has(name) && Object.prototype.hasOwnProperty.call(OPTIMIZER_FACTORIES, name)) {
    return OPTIMIZER_FACTORIES[name as OptimizerName](config);
  }
  return registry.optimizers.get(name)(config);
}
