import { conv2d, conv2dBackwardFilter, type DataType, sizeOfShape } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, makeRegistry, rand, t } from './testUtil.js';

/** The direct conv kernels must agree with the im2col + GEMM path on every geometry. */
describe('direct conv kernels vs im2col + GEMM', () => {
  const cases: { x: [number, number, number, number]; k: [number, number, number, number]; s: [number, number]; p: [number, number] }[] = [
    { x: [3, 1, 28, 28], k: [8, 1, 5, 5], s: [1, 1], p: [0, 0] },
    { x: [2, 3, 9, 11], k: [5, 3, 3, 3], s: [1, 1], p: [1, 1] },
    { x: [2, 2, 10, 7], k: [6, 2, 3, 2], s: [2, 3], p: [2, 1] },
    { x: [1, 4, 6, 6], k: [3, 4, 1, 1], s: [1, 1], p: [0, 0] },
    { x: [2, 1, 5, 13], k: [9, 1, 5, 4], s: [3, 2], p: [0, 2] },
  ];
  for (const dtype of ['float64', 'float32'] as DataType[]) {
    for (const c of cases) {
      it(`${dtype} x[${c.x}] k[${c.k}] stride ${c.s} pad ${c.p}`, () => {
        const geometry = { strides: c.s, pad: c.p };
        // A dense dy, and one with ~80 % zeros as behind max pooling + ReLU (a random pattern).
        const mask = rand(sizeOfShape(c.x) * c.k[0], 15);
        const run = (alg: 'direct' | 'gemm' | 'sparse' | 'auto') => {
          const r = makeRegistry({ convAlgorithm: { forward: alg === 'sparse' ? 'auto' : alg, filter: alg } });
          const x = t(r, rand(sizeOfShape(c.x), 11), c.x, dtype), k = t(r, rand(sizeOfShape(c.k), 12), c.k, dtype);
          const b = t(r, rand(c.k[0], 13), [c.k[0]], dtype);
          const y = conv2d(x, k, { ...geometry, bias: b, activation: 'relu' });
          const dyValues = rand(y.size, 14);
          const dy = t(r, dyValues, [...y.shape], dtype);
          const sparseDy = t(r, dyValues.map((v, i) => (mask[i] < 0.6 ? 0 : v)), [...y.shape], dtype);
          return {
            y: y.dataSync(),
            dk: conv2dBackwardFilter(x, dy, c.k, geometry).dataSync(),
            dkSparse: conv2dBackwardFilter(x, sparseDy, c.k, geometry).dataSync(),
          };
        };
        const gemm = run('gemm'), direct = run('direct'), sparse = run('sparse');
        const tol = dtype === 'float32' ? 1e-5 : 1e-12;
        expectClose(direct.y, gemm.y, tol);
        expectClose(direct.dk, gemm.dk, tol);
        expectClose(direct.dkSparse, gemm.dkSparse, tol);
        expectClose(sparse.dk, gemm.dk, tol);
        expectClose(sparse.dkSparse, gemm.dkSparse, tol);
        // 'auto' takes the sparse kernel for the sparse dy and the GEMM for the dense one.
        const auto = run('auto');
        expect(Array.from(auto.dkSparse)).toEqual(Array.from(sparse.dkSparse));
        expect(Array.from(auto.dk)).toEqual(Array.from(gemm.dk));
      });
    }
  }
});

describe('nonZeroFraction (picks the sparse filter gradient)', () => {
  it('counts NaN and ±Infinity as non-zero, ±0 as zero; exact below the limit, above it once past', async () => {
    const { nonZeroFraction } = await import('./kernels/util.js');
    const v = new Float32Array(10000);
    v[3] = NaN; v[4] = -0; v[5] = Infinity; v[6] = -1e-40; v[9999] = 2;
    expect(nonZeroFraction(v)).toBe(4 / 10000);
    expect(nonZeroFraction(new Float64Array([0, -0, 1, 0]))).toBe(0.25);
    expect(nonZeroFraction(new Float32Array(0))).toBe(0);
    const dense = new Float32Array(10000).fill(1);
    expect(nonZeroFraction(dense, 0.4)).toBeGreaterThan(0.4);
  });
});

describe('sparse filter gradient and non-finite inputs', () => {
  it('a NaN or Inf in x still reaches ∂K where dy is 0 (0·NaN = NaN), as in the GEMM path: the sparse kernel is not used', () => {
    for (const bad of [NaN, Infinity]) {
      const xv = rand(2 * 1 * 8 * 8, 61);
      xv[8 * 3 + 3] = bad;
      // 90 % zeros, and zero wherever a window reads the bad pixel.
      const dyv = rand(2 * 2 * 6 * 6, 62).map((v, i) => (i % 10 === 0 && i >= 72 ? v : 0));
      const run = (alg: 'auto' | 'gemm') => {
        const r = makeRegistry({ convAlgorithm: { filter: alg } });
        const x = t(r, xv, [2, 1, 8, 8], 'float32'), dy = t(r, dyv, [2, 2, 6, 6], 'float32');
        return Array.from(conv2dBackwardFilter(x, dy, [2, 1, 3, 3], { strides: 1, pad: 0 }).dataSync());
      };
      const gemm = run('gemm');
      expect(gemm.some((v) => Number.isNaN(v)), `${bad} times a zero gradient is NaN`).toBe(true);
      expect(run('auto')).toEqual(gemm);
    }
  });
});

