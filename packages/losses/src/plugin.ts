import {
  defaultRegistry,
  type ComponentJSON,
  type Loss,
  type Plugin,
  type Registry,
} from '@backprop/tensor';
import { LOSS_FACTORIES, type LossName } from './losses.js';

/** Registers every loss factory of this package by name in `registry.losses`. */
export const lossesPlugin: Plugin = {
  name: '@backprop/losses',
  install(registry: Registry): void {
    for (const [name, factory] of Object.entries(LOSS_FACTORIES)) registry.losses.register(name, factory);
  },
};

function isLoss(v: unknown): v is Loss {
  return v !== null && typeof v === 'object' && typeof (v as Loss).compute === 'function' && typeof (v as Loss).name === 'string';
}

/**
 * Resolves a loss given as a registered name (`'mse'`), a `Loss` object (returned
 * as is) or its JSON form (`{ name: 'mse', config: {} }`, as produced by
 * `{ name: loss.name, config: loss.getConfig() }`). Names are looked up in
 * `registry.losses` first, then among this package's built-in losses, so it works
 * before `lossesPlugin` is installed.
 */
export function getLoss(
  identifier: string | Loss | ComponentJSON | { name: string; config?: Record<string, unknown> },
  registry: Registry = defaultRegistry,
): Loss {
  if (isLoss(identifier)) return identifier;
  const name = typeof identifier === 'string' ? identifier : identifier?.name;
  if (typeof name === 'string' && !registry.losses.has(name) && Object.hasOwn(LOSS_FACTORIES, name)) {
    return LOSS_FACTORIES[name as LossName](typeof identifier === 'string' ? undefined : identifier.config);
  }
  return registry.losses.create(identifier);
}
