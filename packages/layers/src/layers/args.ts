/** A layer option given as n or [height, width] (kernel size, strides, padding, pool size). */
export type PairArg = number | readonly [number, number];

/**
 * The largest value a size-like layer option (units, filters, kernel size, strides,
 * padding, pool size) may take. Backends index tensors with 32-bit integers, and a
 * bound here keeps every shape computed from the options a safe integer, so a
 * config such as `padding: 1e308` (a saved model edited by hand, a fuzzer) fails in
 * the constructor naming the option instead of as an `Infinity` shape deep in a build.
 * The options are checked with @backprop/tensor's checkers (`checkPositiveInt`,
 * `checkIntPair`, … with this as their `max`).
 */
export const MAX_LAYER_ARG = 2 ** 31 - 1;
