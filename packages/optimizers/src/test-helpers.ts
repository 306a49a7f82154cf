// Shared by the tests of this package (not exported from the package entry).
import { cpuBackend } from '@backprop/backend-cpu';
import { createRandom, Registry, tensor, type Tensor } from '@backprop/tensor';
import { expectArraysClose } from '@backprop/tensor/testing';

export function newRegistry(): Registry {
  return new Registry().use(cpuBackend);
}

export function f64(registry: Registry, values: number[], shape?: number[]): Tensor {
  return tensor(values, shape ?? [values.length], { registry, dtype: 'float64' });
}

/** |x − x*| < tol elementwise (MATH.md §0: 1e-6 in float64). */
export function expectClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, tol = 1e-6): void {
  expectArraysClose(typeof actual === 'number' ? [actual] : actual, typeof expected === 'number' ? [expected] : expected, { atol: tol, rtol: 0 });
}

/** Deterministic uniform numbers in [lo, hi). */
export function makeRandom(seed: number): (lo?: number, hi?: number) => number {
  const rng = createRandom(seed);
  return (lo = 0, hi = 1) => rng.uniform(lo, hi);
}
