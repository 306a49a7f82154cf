import { BackpropError } from '@backprop/tensor';

export type PairArg = number | readonly [number, number];

/**
 * The largest value a size-like layer option (units, filters, kernel size, strides,
 * padding, pool size) may take. Backends index tensors with 32-bit integers, and a
 * bound here keeps every shape computed from the options a safe integer, so a
 * config such as `padding: 1e308` (a saved model edited by hand, a fuzzer) fails in
 * the constructor naming the option instead of as an `Infinity` shape deep in a build.
 */
export const MAX_LAYER_ARG = 2 ** 31 - 1;

/** Validates a layer option given as n or [h, w] with entries in [`min`, MAX_LAYER_ARG]. */
export function checkPair(where: string, option: string, value: unknown, min: number): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : Array.isArray(value) && value.length === 2 ? value : undefined;
  if (!pair || pair.some((v) => !isIntIn(v, min))) {
    throw new BackpropError(where, `${option} must be ${integerRange(min)} or a [height, width] pair of them, got ${describe(value)}`);
  }
  return [pair[0], pair[1]];
}

/** Validates a scalar integer option (units, filters) in [`min`, MAX_LAYER_ARG]. */
export function checkInt(where: string, option: string, value: unknown, min: number): number {
  if (!isIntIn(value, min)) throw new BackpropError(where, `${option} must be ${integerRange(min)}, got ${describe(value)}`);
  return value;
}

/** Validates an optional boolean option; absent means `fallback`. */
export function checkBoolean(where: string, option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new BackpropError(where, `${option} must be true or false, got ${describe(value)}`);
  return value;
}

/**
 * A layer's config must be a plain object (or absent): `new Dense(null)` or a saved
 * topology with `config: 3` would otherwise fail reading a property of null.
 */
export function checkConfigObject(where: string, config: unknown): Record<string, unknown> {
  if (config === undefined) return {};
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new BackpropError(where, `config must be an object of options, got ${describe(config)}`);
  }
  return config as Record<string, unknown>;
}

/** The optional layer name: a non-empty string (it prefixes the parameter names that saved weights are keyed by). */
export function checkLayerName(where: string, name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || name.length === 0) throw new BackpropError(where, `name must be a non-empty string, got ${describe(name)}`);
  return name;
}

function isIntIn(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= MAX_LAYER_ARG;
}

function integerRange(min: number): string {
  return `${min === 0 ? 'a non-negative' : 'a positive'} integer ≤ ${MAX_LAYER_ARG}`;
}

/** A value for an error message: JSON where it has one (NaN and ±Infinity spelled out), else its type. */
export function describe(value: unknown): string {
  // String() spells NaN and ±Infinity, which JSON would turn into null.
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return typeof value;
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}…` : json;
  } catch {
    return typeof value;
  }
}
