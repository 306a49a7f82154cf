import { type ComponentSpec, defaultRegistry, type Loss, type Plugin, type Registry } from '@backprop/tensor';
import { LOSS_FACTORIES } from './losses.js';

/** Registers every loss factory of this package by name in `registry.losses`. */
export const lossesPlugin: Plugin = {
  name: '@backprop/losses',
  install(registry: Registry): void {
    for (const [name, factory] of Object.entries(LOSS_FACTORIES)) registry.losses.register(name, factory);
  },
};

/**
 * Resolves a loss given as a registered name (`'mse'`), a `Loss` object (returned
 * as is) or its JSON form (`{ name: 'mse', config: {} }`, as produced by
 * `{ name: loss.name, config: loss.getConfig() }`): `registry.losses.create`, with
 * this package's losses as the fallback for names not registered, so it works before
 * `lossesPlugin` is installed.
 */
export function getLoss(identifier: ComponentSpec<Loss>, registry: Registry = defaultRegistry): Loss {
  return registry.losses.create(identifier, { fallback: LOSS_FACTORIES });
}
