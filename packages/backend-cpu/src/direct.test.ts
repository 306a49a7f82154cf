import { conv2d, conv2dBackwardFilter, type DataType } from '@backprop/tensor';
import { afterEach, describe, it } from 'vitest';
import { convAlgorithm } from './kernels/direct.js';
import { expectClose, makeRegistry, rand, t } from './testUtil.js';

/** The direct conv kernels must agree with the im2col + GEMM path on every geometry. */
describe('direct conv kernels vs im2col + GEMM', () => {
  afterEach(() => {
    convAlgorithm.forward = 'auto';
    convAlgorithm.filter = 'auto';
  });
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
        const r = makeRegistry();
        const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
        const x = t(r, rand(size(c.x), 11), c.x, dtype), k = t(r, rand(size(c.k), 12), c.k, dtype);
        const b = t(r, rand(c.k[0], 13), [c.k[0]], dtype);
        const geometry = { strides: c.s, pad: c.p };
        const run = (alg: 'direct' | 'gemm') => {
          convAlgorithm.forward = alg;
          convAlgorithm.filter = alg;
          const y = conv2d(x, k, { ...geometry, bias: b, activation: 'relu' });
          const dy = t(r, rand(y.size, 14), [...y.shape], dtype);
          return { y: y.dataSync(), dk: conv2dBackwardFilter(x, dy, c.k, geometry).dataSync() };
        };
        const gemm = run('gemm'), direct = run('direct');
        const tol = dtype === 'float32' ? 1e-5 : 1e-12;
        expectClose(direct.y, gemm.y, tol);
        expectClose(direct.dk, gemm.dk, tol);
      });
    }
  }
});
