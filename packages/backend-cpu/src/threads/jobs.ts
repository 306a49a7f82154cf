/**
 * The splittable parts of the heavy kernels, as "jobs": `job(scratch, args, chunk, chunks)`
 * computes share `chunk` of `chunks` of the outputs. The main thread and the workers run
 * these same functions (the worker bundle imports this module), and a single-threaded
 * kernel is just chunk 0 of 1.
 *
 * Every split is over outputs only — GEMM row or column panels, images of the batch, or
 * the filter gradient's (c, u, v) columns — never over a summed dimension, so each output
 * element is summed in the same order whatever the number of threads: results are
 * bit-identical to the single-threaded path.
 *
 * This module must not import @backprop/tensor at run time (only types): the worker
 * bundle stays small and needs nothing but these loops.
 */
import type { FusedActivation, TypedArray } from '@backprop/tensor';
import type { Scratch } from '../scratch.js';
import { gemmBlock, macroKernel, MR, NR, packA, packB, roundUp } from '../kernels/gemm.js';
import { type ConvGeom, col2im, im2colPackedB, im2colTPackedB } from '../kernels/im2col.js';
import { conv2dBackwardFilterSparse, conv2dDirect } from '../kernels/direct.js';
import { conv2dWinograd } from '../kernels/winograd.js';
import { applyActivation } from '../kernels/util.js';

/** [lo, hi) of `total` units for share `chunk` of `chunks` (balanced, contiguous). */
export function share(total: number, chunk: number, chunks: number): [number, number] {
  return [Math.floor((total * chunk) / chunks), Math.floor((total * (chunk + 1)) / chunks)];
}

export interface GemmArgs {
  m: number; n: number; k: number;
  a: TypedArray; aOff: number; ars: number; acs: number;
  b: TypedArray; bOff: number; brs: number; bcs: number;
  /** Zeroed padded Float64 result (shared memory when threaded). */
  c: Float64Array; ldc: number;
  /** Split over row panels ('m') or column panels ('n'). */
  split: 'm' | 'n';
}

/** C += op(A)·op(B) for this share's row or column panels. */
export function gemmJob(s: Scratch, g: GemmArgs, chunk: number, chunks: number): void {
  if (g.split === 'm') {
    const [p0, p1] = share(Math.ceil(g.m / MR), chunk, chunks);
    gemmBlock(s, g.k, g.a, g.aOff, g.ars, g.acs, g.b, g.bOff, g.brs, g.bcs, g.c, g.ldc, p0 * MR, Math.min(g.m, p1 * MR), 0, g.n);
  } else {
    const [p0, p1] = share(Math.ceil(g.n / NR), chunk, chunks);
    gemmBlock(s, g.k, g.a, g.aOff, g.ars, g.acs, g.b, g.bOff, g.brs, g.bcs, g.c, g.ldc, 0, g.m, p0 * NR, Math.min(g.n, p1 * NR));
  }
}

export interface ConvArgs {
  x: TypedArray;
  /** The filter; for conv2dWinograd its transform, winogradFilters(K) (Float64). */
  k: TypedArray;
  bias: TypedArray | undefined;
  n: number; f: number; g: ConvGeom;
  o: TypedArray; activation: FusedActivation; alpha: number;
}

/** Direct convolution of this share's images. */
export function conv2dDirectJob(s: Scratch, a: ConvArgs, chunk: number, chunks: number): void {
  const [i0, i1] = share(a.n, chunk, chunks);
  if (i1 > i0) conv2dDirect(s, a.x, a.k, a.bias, a.n, a.f, a.g, a.o, a.activation, a.alpha, i0, i1);
}

/** Winograd F(2×2, 3×3) convolution of this share's images. */
export function conv2dWinogradJob(s: Scratch, a: ConvArgs, chunk: number, chunks: number): void {
  const [i0, i1] = share(a.n, chunk, chunks);
  if (i1 > i0) conv2dWinograd(s, a.x, a.k as Float64Array, a.bias, a.n, a.f, a.g, a.o, a.activation, a.alpha, i0, i1);
}

/**
 * Y_n[F, P] = K[F, CKK] · col_n[CKK, P] for this share's images: the filter is packed once
 * per share, each image's columns are written straight into packed panels, and bias +
 * activation are applied while storing.
 */
export function conv2dGemmJob(s: Scratch, a: ConvArgs, chunk: number, chunks: number): void {
  const [i0, i1] = share(a.n, chunk, chunks);
  if (i1 <= i0) return;
  const { g, f, o, x: xv, bias: bv } = a;
  const kdim = g.c * g.kh * g.kw;
  const np = g.ho * g.wo;
  const fp = roundUp(f, MR), pp = roundUp(np, NR);
  const ap = s.scratch('conv.a', fp * kdim);
  packA(a.k, 0, kdim, 1, f, kdim, ap, 0);
  const bp = s.scratch('conv.b', pp * kdim);
  // Lanes past the last pixel are never written by im2col: zero them once.
  if (pp !== np) {
    const base = (pp / NR - 1) * kdim * NR;
    for (let k = 0; k < kdim; k++) for (let l = np % NR; l < NR; l++) bp[base + k * NR + l] = 0;
  }
  const cbuf = s.scratch('conv.c', fp * pp);
  const xStride = g.c * g.h * g.w;
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
    applyActivation(o, ob, ob + oStride, a.activation, a.alpha);
  }
}

export interface ConvFilterArgs {
  x: TypedArray; dy: TypedArray; n: number; f: number; g: ConvGeom;
  /** Zeroed Float64 result, F padded to MR rows × ldc = CKK padded to NR (shared when threaded). */
  c: Float64Array; ldc: number;
}

/**
 * ∂K[F, CKK] = Σ_n G_n[F, P] · col_nᵀ[P, CKK] for this share's CKK column panels, summed
 * over the batch in image order (the batch is the summed dimension, so it is not split).
 * Each image's transposed columns are written straight into packed panels.
 */
export function convFilterGemmJob(s: Scratch, a: ConvFilterArgs, chunk: number, chunks: number): void {
  const { g, f, n } = a;
  const kdim = g.c * g.kh * g.kw;
  const np = g.ho * g.wo;
  const fp = roundUp(f, MR), kp = a.ldc;
  const panels = kp / NR;
  const [t0, t1] = share(panels, chunk, chunks);
  if (t1 <= t0 || np === 0 || n === 0) return;
  const ap = s.scratch('convBF.a', fp * np);
  const bp = s.scratch('convBF.b', kp * np);
  if (kp !== kdim && t1 === panels) {
    const base = (kp / NR - 1) * np * NR;
    for (let p = 0; p < np; p++) for (let l = kdim % NR; l < NR; l++) bp[base + p * NR + l] = 0;
  }
  const xStride = g.c * g.h * g.w;
  const gStride = f * np;
  for (let img = 0; img < n; img++) {
    packA(a.dy, img * gStride, np, 1, f, np, ap, 0);
    im2colTPackedB(a.x, img * xStride, g, bp, t0 * NR, Math.min(kdim, t1 * NR));
    macroKernel(fp / MR, t1 - t0, np, ap, 0, bp, t0 * np * NR, a.c, t0 * NR, kp);
  }
}

/** ∂K over dy's non-zeros for this share's filters (the batch is summed, in order, per filter). */
export function convFilterSparseJob(s: Scratch, a: ConvFilterArgs, chunk: number, chunks: number): void {
  const [f0, f1] = share(a.f, chunk, chunks);
  if (f1 > f0) conv2dBackwardFilterSparse(s, a.x, a.dy, a.n, a.f, a.g, a.c, a.ldc, f0, f1);
}

export interface ConvInputArgs {
  dy: TypedArray; k: TypedArray; n: number; f: number; g: ConvGeom; o: TypedArray;
}

/**
 * dcol_n[CKK, P] = Kᵀ[CKK, F] · G_n[F, P] for this share's images, then col2im scatter-adds
 * dcol_n into the image (contributions that land in the padding are dropped; pixels that
 * no window reads get 0). Accumulates in Float64, stores in the output's dtype.
 */
export function convInputJob(s: Scratch, a: ConvInputArgs, chunk: number, chunks: number): void {
  const [i0, i1] = share(a.n, chunk, chunks);
  if (i1 <= i0) return;
  const { g, f, o } = a;
  const kdim = g.c * g.kh * g.kw;
  const np = g.ho * g.wo;
  const kp = roundUp(kdim, MR), pp = roundUp(np, NR);
  const ap = s.scratch('convBI.a', kp * f);
  packA(a.k, 0, 1, kdim, kdim, f, ap, 0);
  const bp = s.scratch('convBI.b', pp * f);
  const cbuf = s.scratch('convBI.c', kp * pp);
  const xStride = g.c * g.h * g.w;
  const dx = s.scratch('convBI.dx', xStride);
  const gStride = f * np;
  for (let img = i0; img < i1; img++) {
    packB(a.dy, img * gStride, np, 1, f, np, bp, 0);
    cbuf.fill(0, 0, kp * pp);
    macroKernel(kp / MR, pp / NR, f, ap, 0, bp, 0, cbuf, 0, pp);
    dx.fill(0, 0, xStride);
    col2im(cbuf, pp, g, dx);
    const ob = img * xStride;
    for (let i = 0; i < xStride; i++) o[ob + i] = dx[i];
  }
}

/** Jobs by name: what a job message names and the worker runs. */
export const jobs = {
  gemm: gemmJob,
  conv2dDirect: conv2dDirectJob,
  conv2dGemm: conv2dGemmJob,
  conv2dWinograd: conv2dWinogradJob,
  convFilterGemm: convFilterGemmJob,
  convFilterSparse: convFilterSparseJob,
  convInput: convInputJob,
} as const;

export type JobName = keyof typeof jobs;
export type JobArgs<N extends JobName> = Parameters<(typeof jobs)[N]>[1];
