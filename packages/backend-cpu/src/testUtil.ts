import { Registry, tensor, type DataType, type Tensor } from '@backprop/tensor';
import { expect } from 'vitest';
import type { CpuBackendOptions } from './options.js';
import { cpuBackendWithOptions } from './plugin.js';

/** A registry with its own CPU backend (options such as `{ convAlgorithm: { forward: 'gemm' } }`). */
export function makeRegistry(options: CpuBackendOptions = {}): Registry {
  return new Registry().use(cpuBackendWithOptions(options));
}

export function t(registry: Registry, values: number[] | Float64Array, shape: number[], dtype: DataType = 'float64'): Tensor {
  return tensor(values instanceof Float64Array ? Array.from(values) : values, shape, { registry, dtype });
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e)) {
      expect(a, `index ${i}`).toBeNaN();
      continue;
    }
    const err = Math.abs(a - e);
    if (!(err <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`index ${i}: got ${a}, expected ${e} (|diff| ${err} > tol ${tol})`);
    }
  }
}

/** Deterministic pseudo-random values in [-1, 1). */
export function rand(n: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}
