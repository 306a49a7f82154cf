import { tensor } from '../ops/creation.js';
import { createRandom } from '../random.js';
import { type Plugin, Registry } from '../registry.js';
import type { Tensor } from '../tensor.js';
import { expectArraysClose } from './assertions.js';

/** What `testHelpers(backend)` returns. */
export interface TestHelpers {
  /** A new registry with the backend installed. */
  newRegistry(): Registry;
  /** A float64 tensor of `values` (shape: a vector unless given) on `registry`. */
  f64(registry: Registry, values: number[], shape?: number[]): Tensor;
  /** |actual − expected| ≤ tol element-wise, an absolute tolerance (apps/docs/math/index.md (conventions): 1e-6 in float64). */
  expectClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, tol?: number): void;
  /** Deterministic uniform numbers in [lo, hi) (default [0, 1)) from `seed`. */
  makeRandom(seed: number): (lo?: number, hi?: number) => number;
}

/**
 * Helpers for the tests of packages built on top of a backend (losses, optimizers…),
 * bound to the backend plugin to run on, so this package needs none:
 *
 *   const { newRegistry, f64, expectClose } = testHelpers(cpuBackend);
 */
export function testHelpers(backend: Plugin): TestHelpers {
  return {
    newRegistry: () => new Registry().use(backend),
    f64: (registry, values, shape) => tensor(values, shape ?? [values.length], { registry, dtype: 'float64' }),
    expectClose(actual, expected, tol = 1e-6) {
      expectArraysClose(typeof actual === 'number' ? [actual] : actual, typeof expected === 'number' ? [expected] : expected, { atol: tol, rtol: 0 });
    },
    makeRandom(seed) {
      const rng = createRandom(seed);
      return (lo = 0, hi = 1) => rng.uniform(lo, hi);
    },
  };
}
