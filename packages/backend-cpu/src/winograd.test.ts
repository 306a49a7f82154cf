import { conv2d, type DataType, type FusedActivation } from '@backprop/tensor';
import { afterEach, describe, expect, it } from 'vitest';
import { convAlgorithm } from './kernels/direct.js';
import { expectClose, makeRegistry, rand, t } from './testUtil.js';

/** Winograd F(2×2, 3×3) must agree with im2col + GEMM on every 3×3 stride-1 geometry. */
describe('Winograd F(2×2, 3×3) forward vs im2col + GEMM', () => {
  afterEach(() => {
    convAlgorithm.forward = 'auto';
  });
  const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  // Odd and even output sizes (a tile hanging past the edge), 1×1 output, padding 0–2, C and F from 1 to 16.
  const cases: { x: number[]; k: number[]; p: number }[] = [
    { x: [2, 3, 7, 7], k: [4, 3, 3, 3], p: 0 },
    { x: [2, 8, 13, 13], k: [16, 8, 3, 3], p: 0 },
    { x: [1, 8, 6, 6], k: [8, 8, 3, 3], p: 1 },
    { x: [3, 9, 5, 10], k: [9, 9, 3, 3], p: 2 },
    { x: [1, 1, 3, 3], k: [1, 1, 3, 3], p: 0 },
    { x: [2, 4, 4, 3], k: [5, 4, 3, 3], p: 1 },
    { x: [11, 2, 6, 5], k: [3, 2, 3, 3], p: 0 },
  ];
  const activations: FusedActivation[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh'];
  for (const dtype of ['float64', 'float32'] as DataType[]) {
    for (const c of cases) {
      it(`${dtype} x[${c.x}] k[${c.k}] pad ${c.p}, every fused activation, with and without bias`, () => {
        const r = makeRegistry();
        const x = t(r, rand(size(c.x), 21), c.x, dtype), k = t(r, rand(size(c.k), 22), c.k, dtype);
        const b = t(r, rand(c.k[0], 23), [c.k[0]], dtype);
        const tol = dtype === 'float32' ? 1e-5 : 1e-12;
        for (const activation of activations) {
          for (const bias of [b, undefined]) {
            const run = (alg: 'gemm' | 'winograd') => {
              convAlgorithm.forward = alg;
              return conv2d(x, k, { strides: 1, pad: c.p, bias, activation, alpha: 0.1 }).dataSync();
            };
            expectClose(run('winograd'), run('gemm'), tol);
          }
        }
      });
    }
  }

  it("'auto' takes Winograd for 3×3 stride 1 with ≥ 8 channels and filters, not below or at stride 2", () => {
    const r = makeRegistry();
    const pick = (xs: number[], ks: number[], strides: number) => {
      const x = t(r, rand(size(xs), 31), xs), k = t(r, rand(size(ks), 32), ks);
      const run = (alg: 'auto' | 'gemm' | 'winograd' | 'direct') => {
        convAlgorithm.forward = alg;
        return Array.from(conv2d(x, k, { strides, pad: 1 }).dataSync());
      };
      // float64 sums in a different order differ in the last bits, which tells the paths apart.
      const auto = run('auto');
      if (auto.join() === run('winograd').join() && auto.join() !== run('gemm').join()) return 'winograd';
      return auto.join() === run('gemm').join() || auto.join() === run('direct').join() ? 'other' : 'unknown';
    };
    expect(pick([2, 8, 9, 9], [8, 8, 3, 3], 1)).toBe('winograd');
    expect(pick([2, 32, 11, 11], [64, 32, 3, 3], 1)).toBe('winograd');
    expect(pick([2, 4, 9, 9], [8, 4, 3, 3], 1)).toBe('other');
    expect(pick([2, 8, 9, 9], [4, 8, 3, 3], 1)).toBe('other');
    expect(pick([2, 8, 9, 9], [8, 8, 3, 3], 2)).toBe('other');
  });
});
