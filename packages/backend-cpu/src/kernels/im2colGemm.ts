/**
 * Convolution as GEMM on im2col's columns, the path that takes any geometry: the column
 * matrix of each image is written straight into the GEMM's packed panels (im2col.ts) and
 * multiplied with gemm.ts's macro-kernel, accumulating in Float64.
 *
 * - forward: Y_n[F, P] = K[F, CKK] · col_n[CKK, P];
 * - filter gradient: ∂K[F, CKK] = Σ_n G_n[F, P] · col_nᵀ[P, CKK];
 * - input gradient: dcol_n[CKK, P] = Kᵀ[CKK, F] · G_n[F, P], scattered back by col2im.
 *
 * Each takes the range of outputs to compute (images, or the filter gradient's column
 * panels), so threads can split a call without changing any sum (threads/jobs.ts).
 */
import type { Conv2DInfo, FusedActivation, TypedArray } from '@backprop/tensor';
import type { Scratch } from '../scratch.js';
import { macroKernel, MR, NR, packA, packB, roundUp } from './gemm.js';
import { col2im, im2colPackedB, im2colTPackedB } from './im2col.js';
import { applyActivation } from './util.js';

/**
 * y = act(conv(x, K) + b) for images [i0, i1) of a batch (NCHW), writing every element of
 * those images in `o`: the filter is packed once, each image's columns are written straight
 * into packed panels, and bias + activation are applied while storing.
 */
export function conv2dGemm(
  s: Scratch, xv: TypedArray, kv: TypedArray, bv: TypedArray | undefined,
  n: number, f: number, g: Conv2DInfo, o: TypedArray, activation: FusedActivation, alpha: number,
  i0 = 0, i1 = n,
): void {
  const kdim = g.taps;
  const np = g.outPixels;
  const fp = roundUp(f, MR), pp = roundUp(np, NR);
  const ap = s.scratch('conv.a', fp * kdim);
  packA(kv, 0, kdim, 1, f, kdim, ap, 0);
  const bp = s.scratch('conv.b', pp * kdim);
  // Lanes past the last pixel are never written by im2col: zero them once.
  if (pp !== np) {
    const base = (pp / NR - 1) * kdim * NR;
    for (let k = 0; k < kdim; k++) for (let l = np % NR; l < NR; l++) bp[base + k * NR + l] = 0;
  }
  const cbuf = s.scratch('conv.c', fp * pp);
  const xStride = g.inImageSize;
  const oStride = f * np;
  for (let img = i0; img < i1; img++) {
    im2colPackedB(xv, img * xStride, g, bp);
    cbuf.fill(0, 0, fp * pp);
    macroKernel(fp / MR, pp / NR, kdim, ap, 0, bp, 0, cbuf, 0, pp);
    const ob = img * oStride;
    for (let fi = 0; fi < f; fi++) {
      const b0 = bv !== undefined ? bv[fi] : 0;
      const ci = fi * pp, oi = ob + fi * np;
      for (let p = 0; p < np; p++) o[oi + p] = cbuf[ci + p] + b0;
    }
    applyActivation(o, ob, ob + oStride, activation, alpha);
  }
}

/**
 * ∂K[F, CKK] += Σ_n G_n[F, P] · col_nᵀ[P, CKK] for the CKK column panels [t0, t1) (NR
 * columns each), summed over the whole batch in image order, into the zeroed Float64 `c`
 * (F padded to MR rows × ldc = CKK padded to NR). Each image's transposed columns are
 * written straight into packed panels.
 */
export function conv2dBackwardFilterGemm(
  s: Scratch, xv: TypedArray, gv: TypedArray, n: number, f: number, g: Conv2DInfo,
  c: Float64Array, ldc: number, t0 = 0, t1 = ldc / NR,
): void {
  const kdim = g.taps;
  const np = g.outPixels;
  const fp = roundUp(f, MR), kp = ldc;
  const panels = kp / NR;
  if (t1 <= t0 || np === 0 || n === 0) return;
  const ap = s.scratch('convBF.a', fp * np);
  const bp = s.scratch('convBF.b', kp * np);
  if (kp !== kdim && t1 === panels) {
    const base = (kp / NR - 1) * np * NR;
    for (let p = 0; p < np; p++) for (let l = kdim % NR; l < NR; l++) bp[base + p * NR + l] = 0;
  }
  const xStride = g.inImageSize;
  const gStride = f * np;
  for (let img = 0; img < n; img++) {
    packA(gv, img * gStride, np, 1, f, np, ap, 0);
    im2colTPackedB(xv, img * xStride, g, bp, t0 * NR, Math.min(kdim, t1 * NR));
    macroKernel(fp / MR, t1 - t0, np, ap, 0, bp, t0 * np * NR, c, t0 * NR, kp);
  }
}

/**
 * ∂X for images [i0, i1): dcol_n[CKK, P] = Kᵀ[CKK, F] · G_n[F, P], then col2im scatter-adds
 * dcol_n into the image (contributions that land in the padding are dropped; pixels that
 * no window reads get 0). Accumulates in Float64, stores in the output's dtype.
 */
export function conv2dBackwardInputGemm(
  s: Scratch, gv: TypedArray, kv: TypedArray, n: number, f: number, g: Conv2DInfo, o: TypedArray,
  i0 = 0, i1 = n,
): void {
  const kdim = g.taps;
  const np = g.outPixels;
  const kp = roundUp(kdim, MR), pp = roundUp(np, NR);
  const ap = s.scratch('convBI.a', kp * f);
  packA(kv, 0, 1, kdim, kdim, f, ap, 0);
  const bp = s.scratch('convBI.b', pp * f);
  const cbuf = s.scratch('convBI.c', kp * pp);
  const xStride = g.inImageSize;
  const dx = s.scratch('convBI.dx', xStride);
  const gStride = f * np;
  for (let img = i0; img < i1; img++) {
    packB(gv, img * gStride, np, 1, f, np, bp, 0);
    cbuf.fill(0, 0, kp * pp);
    macroKernel(kp / MR, pp / NR, f, ap, 0, bp, 0, cbuf, 0, pp);
    dx.fill(0, 0, xStride);
    col2im(cbuf, pp, g, dx);
    const ob = img * xStride;
    for (let i = 0; i < xStride; i++) o[ob + i] = dx[i];
  }
}
