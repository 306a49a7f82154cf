/**
 * Every error Backprop raises on bad input. `where` names the op, layer or component
 * ("conv2d", "layer 2 (Dense)"), so a message reads `conv2d: input has 3 channels but
 * filter expects 1`.
 */
export class BackpropError extends Error {
  override readonly name: string = 'BackpropError';
  constructor(
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${detail}`);
  }
}

/** A tensor used after `dispose()`. */
export class DisposedTensorError extends BackpropError {
  override readonly name = 'DisposedTensorError';
}

/** Lookups that fail in the registry (unknown backend, kernel, layer, loss, optimizer). */
export class RegistryError extends BackpropError {
  override readonly name = 'RegistryError';
}

export function shapeToString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
