// Shared by the tests of this package (not exported from the package entry).
import { cpuBackend } from '@backprop/backend-cpu';
import { Registry, tensor, type Tensor } from '@backprop/tensor';
import { expect } from 'vitest';

export function newRegistry(): Registry {
  return new Registry().use(cpuBackend);
}

export function f64(registry: Registry, values: number[], shape?: number[]): Tensor {
  return tensor(values, shape ?? [values.length], { registry, dtype: 'float64' });
}

/** |x − x*| < tol elementwise (MATH.md §0: 1e-6 in float64). */
export function expectClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, tol = 1e-6): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  expect(a.length).toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - e[i]) < tol)) {
      throw new Error(`element ${i}: got ${a[i]}, expected ${e[i]} (tolerance ${tol}); actual [${a.join(', ')}]`);
    }
  }
}

/** Deterministic uniform numbers in [lo, hi). */
export function makeRandom(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = 0, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}
