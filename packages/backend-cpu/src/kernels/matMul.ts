/**
 * matMul, fast: the blocked GEMM of gemm.ts, split over threads for large products. The
 * readable version is `matMul` in [reference.ts](../../../tensor/src/testing/reference.ts).
 * The math: [dense.md](../../../../apps/docs/math/dense.md).
 */
import { defineKernel, matMulDims } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import { gemmOutput } from './gemm.js';
import { applyActivation } from './util.js';

type B = CpuBackend;

/** C = op(A)·op(B) (+ bias per column), then the fused activation. */
export const matMul = defineKernel<'matMul', B>({
  kernelName: 'matMul', backendName: 'cpu',
  kernelFunc: ({ inputs: { a, b, bias }, attrs: { transposeA, transposeB, activation, alpha }, backend }) => {
    // The stored row lengths (strides): A is (·, a1) and B is (·, b1) whether or not they are transposed.
    const a1 = a.shape[1], b1 = b.shape[1];
    const { m, k, n } = matMulDims(a.shape, b.shape, transposeA, transposeB);
    const av = backend.values(a), bv = backend.values(b);
    const { c, ldc } = gemmOutput(backend, m, n);
    // Threads split the longer side into shares of ≥ 32 rows (columns): each share re-packs
    // the whole other operand, which costs about 1/32 of its multiply-adds.
    const split = m >= n ? 'm' : 'n';
    backend.parallel('gemm', {
      m, n, k,
      a: av, aOff: 0, ars: transposeA ? 1 : a1, acs: transposeA ? a1 : 1,
      b: bv, bOff: 0, brs: transposeB ? 1 : b1, bcs: transposeB ? b1 : 1,
      c, ldc, split,
    }, Math.ceil((split === 'm' ? m : n) / 32), 2 * m * n * k, 8);
    const out = backend.makeOutput([m, n], a.dtype);
    const o = out.values;
    if (bias !== undefined) {
      const bs = backend.values(bias);
      for (let i = 0; i < m; i++) {
        const ci = i * ldc, oi = i * n;
        for (let j = 0; j < n; j++) o[oi + j] = c[ci + j] + bs[j];
      }
    } else if (ldc === n) {
      o.set(c.subarray(0, m * n));
    } else {
      for (let i = 0; i < m; i++) {
        const ci = i * ldc, oi = i * n;
        for (let j = 0; j < n; j++) o[oi + j] = c[ci + j];
      }
    }
    applyActivation(o, 0, m * n, activation, alpha);
    return out.info;
  },
});
