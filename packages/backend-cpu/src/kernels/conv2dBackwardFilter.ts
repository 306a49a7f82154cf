/**
 * conv2dBackwardFilter, fast: picks the sparse, direct or im2colᵀ + GEMM kernel per call.
 * The readable version is `conv2dBackwardFilter` in
 * [reference.ts](../../../tensor/src/testing/reference.ts).
 * The math: [convolution.md](../../../../apps/docs/math/convolution.md).
 */
import { computeConv2DInfo, defineKernel, type TypedArray } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import type { ConvAlgorithm } from '../options.js';
import { MR, NR, roundUp } from './gemm.js';
import { conv2dBackwardFilterDirect } from './direct.js';
import { allFinite, nonZeroFraction } from './util.js';

type B = CpuBackend;

/**
 * 'auto' takes the sparse filter gradient when at most this fraction of dy is non-zero.
 * Measured on the paper's conv (batch 32): sparse 1.3 ms at 23 % density (dy behind 2×2
 * max pooling + ReLU) vs 2.9 ms for im2colᵀ + GEMM, and 3.8 ms on a dense dy: break-even
 * near 70 %. The margin is for wider convolutions, where the GEMM runs closer to its peak.
 */
export const SPARSE_FILTER_MAX_DENSITY = 0.4;

/**
 * The sparse path: 'sparse' forced, or 'auto' and dy mostly zeros (behind max pooling +
 * ReLU). Never with a non-finite x: skipping dy's zeros would drop 0·NaN and 0·Inf terms.
 */
function useSparse(choice: ConvAlgorithm['filter'], x: TypedArray, dy: TypedArray): boolean {
  if (choice !== 'sparse' && choice !== 'auto') return false;
  if (choice === 'auto' && nonZeroFraction(dy, SPARSE_FILTER_MAX_DENSITY) > SPARSE_FILTER_MAX_DENSITY) return false;
  return allFinite(x);
}

/**
 * ∂K[F, CKK] = Σ_n G_n[F, P] · col_nᵀ[P, CKK], accumulated over the batch in a Float64
 * buffer: over dy's non-zeros only when it is sparse (sparseFilterGradient.ts), else as
 * im2colᵀ + GEMM (im2colGemm.ts), split over threads by threads/jobs.ts.
 */
export const conv2dBackwardFilter = defineKernel<'conv2dBackwardFilter', B>({
  kernelName: 'conv2dBackwardFilter', backendName: 'cpu',
  kernelFunc: ({ inputs: { x, dy }, attrs: { strides, pad, filterShape }, backend }) => {
    const g = computeConv2DInfo(x.shape, filterShape, strides, pad, 'conv2dBackwardFilter');
    const n = g.batch, f = g.outChannels, kdim = g.taps, np = g.outPixels;
    const out = backend.makeOutput(filterShape, x.dtype);
    // The direct kernel measured no faster than im2colᵀ + GEMM here (paper conv 2.90 vs
    // 2.84 ms), so 'auto' keeps the GEMM; 'direct' stays selectable for benchmarks.
    if (np > 0 && n > 0 && kdim > 0 && backend.convAlgorithm.filter === 'direct') {
      conv2dBackwardFilterDirect(backend, backend.values(x), backend.values(dy), n, f, g, out.values);
      return out.info;
    }
    const fp = roundUp(f, MR), kp = roundUp(kdim, NR);
    const cbuf = backend.scratch('convBF.c', fp * kp);
    cbuf.fill(0, 0, fp * kp);
    const xv = backend.values(x), dyv = backend.values(dy);
    if (np > 0 && n > 0 && kdim > 0 && useSparse(backend.convAlgorithm.filter, xv, dyv)) {
      // Filters are independent here: threads take shares of them.
      const args = { x: xv, dy: dyv, n, f, g, c: cbuf, ldc: kp };
      backend.parallel('convFilterSparse', args, f, 2 * f * kdim * np * n * SPARSE_FILTER_MAX_DENSITY, 1);
    } else if (np > 0 && n > 0 && kdim > 0) {
      // The batch is summed over, so threads split the CKK columns instead (one share
      // each: every share re-packs each image's dy).
      const args = { x: xv, dy: dyv, n, f, g, c: cbuf, ldc: kp };
      backend.parallel('convFilterGemm', args, kp / NR, 2 * f * kdim * np * n, 1);
    }
    const o = out.values;
    for (let fi = 0; fi < f; fi++) {
      const ci = fi * kp, oi = fi * kdim;
      for (let k = 0; k < kdim; k++) o[oi + k] = cbuf[ci + k];
    }
    return out.info;
  },
});
