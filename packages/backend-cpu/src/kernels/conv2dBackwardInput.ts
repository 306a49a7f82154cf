/**
 * conv2dBackwardInput, fast: picks Winograd (on the rotated kernel) or GEMM + col2im per
 * call. The readable version is `conv2dBackwardInput` in
 * [reference.ts](../../../tensor/src/testing/reference.ts).
 * The math: [convolution.md](../../../../apps/docs/math/convolution.md).
 */
import { defineKernel, type TypedArray } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import type { ConvAlgorithm } from '../options.js';
import { convGeom } from './conv2d.js';
import type { ConvGeom } from './im2col.js';
import { allFinite } from './util.js';
import { inputGradientGeom, winogradFilters, WINOGRAD_MIN_CHANNELS, WINOGRAD_MIN_FILTERS, winogradSaves } from './winograd.js';

type B = CpuBackend;

/**
 * The geometry to run as a Winograd forward conv, or null for GEMM + col2im: 3×3 stride 1
 * with ≥ 8 channels and filters, outputs where tiles waste little, finite dy and kernel
 * (the same rules as conv2d's forward choice).
 */
function winogradInput(choice: ConvAlgorithm['input'], g: ConvGeom, f: number, dy: TypedArray, k: TypedArray): ConvGeom | null {
  if (choice === 'gemm') return null;
  const gT = inputGradientGeom(g, f);
  if (gT === null || !allFinite(dy) || !allFinite(k)) return null;
  if (choice === 'winograd') return gT;
  return gT.c >= WINOGRAD_MIN_CHANNELS && g.c >= WINOGRAD_MIN_FILTERS && winogradSaves(gT) ? gT : null;
}

/**
 * Stride 1, 3×3: Winograd on the flipped kernel (winograd.ts inputGradientGeom). Otherwise
 * dcol_n[CKK, P] = Kᵀ[CKK, F] · G_n[F, P], then col2im scatter-adds dcol_n into the
 * image (contributions that land in the padding are dropped; pixels that no window
 * reads get 0). Accumulates in Float64, stores in the input dtype (im2colGemm.ts).
 */
export const conv2dBackwardInput = defineKernel<'conv2dBackwardInput', B>({
  kernelName: 'conv2dBackwardInput', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, filter }, attrs: { strides, pad, inputShape }, backend }) => {
    const g = convGeom(inputShape, filter.shape, strides, pad);
    const n = inputShape[0], f = filter.shape[0];
    const kdim = g.c * g.kh * g.kw;
    const np = g.ho * g.wo;
    const out = backend.makeOutput(inputShape, dy.dtype);
    const o = out.values;
    if (o.length === 0) return out.info;
    if (np === 0 || f === 0 || kdim === 0) {
      o.fill(0);
      return out.info;
    }
    const dyv = backend.values(dy), kv = backend.values(filter);
    const gT = winogradInput(backend.convAlgorithm.input, g, f, dyv, kv);
    if (gT !== null) {
      const args = { x: dyv, k: winogradFilters(backend, kv, f, g.c, true), bias: undefined, n, f: g.c, g: gT, o, activation: 'linear' as const, alpha: 0 };
      backend.parallel('conv2dWinograd', args, n, 2 * n * f * kdim * np, 8);
      return out.info;
    }
    // Images are independent: threads take shares of the batch.
    const args = { dy: dyv, k: kv, n, f, g, o };
    backend.parallel('convInput', args, n, 2 * n * f * kdim * np, 8);
    return out.info;
  },
});

