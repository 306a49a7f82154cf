import { BackpropError } from '@backprop/tensor';

export type PairArg = number | readonly [number, number];

/** Validates a layer option given as n or [h, w] with entries ≥ `min`. */
export function checkPair(where: string, option: string, value: unknown, min: number): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : Array.isArray(value) && value.length === 2 ? value : undefined;
  if (!pair || pair.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < min)) {
    const what = min === 0 ? 'non-negative integer' : 'positive integer';
    throw new BackpropError(where, `${option} must be a ${what} or a [height, width] pair of them, got ${JSON.stringify(value)}`);
  }
  return [pair[0], pair[1]];
}
