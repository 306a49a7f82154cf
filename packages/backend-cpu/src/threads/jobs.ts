/**
 * The splittable parts of the heavy kernels, as "jobs": `job(scratch, args, chunk, chunks)`
 * computes share `chunk` of `chunks` of the outputs by calling a kernel loop on that
 * share's range. The main thread and the workers run these same functions (the worker
 * bundle imports this module), and a single-threaded kernel is just chunk 0 of 1. The
 * arithmetic is in kernels/ (gemm.ts, direct.ts, winograd.ts, im2colGemm.ts,
 * sparseFilterGradient.ts); the algorithm is picked on the calling thread (the backend's
 * `convAlgorithm` option and the kernels' heuristics) and arrives here as the job name.
 *
 * Every split is over outputs only — GEMM row or column panels, images of the batch, or
 * the filter gradient's filters or (c, u, v) columns — never over a summed dimension, so
 * each output element is summed in the same order whatever the number of threads: results
 * are bit-identical to the single-threaded path.
 *
 * This module must not import @backprop/tensor at run time (only types): the worker
 * bundle stays small and needs nothing but these loops.
 */
import type { Conv2DInfo, FusedActivation, TypedArray } from '@backprop/tensor';
import { conv2dDirect } from '../kernels/direct.js';
import { gemmBlock, MR, NR } from '../kernels/gemm.js';
import { conv2dBackwardFilterGemm, conv2dBackwardInputGemm, conv2dGemm } from '../kernels/im2colGemm.js';
import { conv2dBackwardFilterSparse } from '../kernels/sparseFilterGradient.js';
import { conv2dWinograd } from '../kernels/winograd.js';
import type { Scratch } from '../scratch.js';

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
  n: number; f: number; g: Conv2DInfo;
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

/** im2col + GEMM convolution of this share's images. */
export function conv2dGemmJob(s: Scratch, a: ConvArgs, chunk: number, chunks: number): void {
  const [i0, i1] = share(a.n, chunk, chunks);
  if (i1 > i0) conv2dGemm(s, a.x, a.k, a.bias, a.n, a.f, a.g, a.o, a.activation, a.alpha, i0, i1);
}

export interface ConvFilterArgs {
  x: TypedArray; dy: TypedArray; n: number; f: number; g: Conv2DInfo;
  /** Zeroed Float64 result, F padded to MR rows × ldc = CKK padded to NR (shared when threaded). */
  c: Float64Array; ldc: number;
}

/** ∂K by im2colᵀ + GEMM for this share's CKK column panels (the batch is the summed dimension, so it is not split). */
export function convFilterGemmJob(s: Scratch, a: ConvFilterArgs, chunk: number, chunks: number): void {
  const [t0, t1] = share(a.ldc / NR, chunk, chunks);
  conv2dBackwardFilterGemm(s, a.x, a.dy, a.n, a.f, a.g, a.c, a.ldc, t0, t1);
}

/** ∂K over dy's non-zeros for this share's filters (the batch is summed, in order, per filter). */
export function convFilterSparseJob(s: Scratch, a: ConvFilterArgs, chunk: number, chunks: number): void {
  const [f0, f1] = share(a.f, chunk, chunks);
  if (f1 > f0) conv2dBackwardFilterSparse(s, a.x, a.dy, a.n, a.f, a.g, a.c, a.ldc, f0, f1);
}

export interface ConvInputArgs {
  dy: TypedArray; k: TypedArray; n: number; f: number; g: Conv2DInfo; o: TypedArray;
}

/** ∂X by GEMM + col2im for this share's images. */
export function convInputJob(s: Scratch, a: ConvInputArgs, chunk: number, chunks: number): void {
  const [i0, i1] = share(a.n, chunk, chunks);
  if (i1 > i0) conv2dBackwardInputGemm(s, a.dy, a.k, a.n, a.f, a.g, a.o, i0, i1);
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
