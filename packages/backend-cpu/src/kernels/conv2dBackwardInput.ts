/**
 * conv2dBackwardInput, fast: picks Winograd (on the rotated kernel) or GEMM + col2im per
 * call. The readable version is `conv2dBackwardInput` in
 * [reference.ts](../../../tensor/src/testing/reference.ts).
 * The math: [convolution.md](../../../../apps/docs/math/convolution.md).
 */
import { computeConv2DInfo, type Conv2DInfo, defineKernel, type TypedArray, winogradPays } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import type { ConvAlgorithm } from '../options.js';
import { allFinite } from './util.js';
import { winogradFilters } from './winograd.js';

type B = CpuBackend;

/**
 * The input gradient of a 3×3 stride-1 convolution as a forward one: ∂X is the full
 * correlation of dy with the kernel rotated by 180° and with F and C swapped, i.e. a
 * 3×3 conv of dy (F channels, padding 2 − p) with C filters, whose output is the input
 * (H_o + 2(2 − p) − 2 = H). Null where p > 2.
 */
function inputGradientGeom(g: Conv2DInfo): Conv2DInfo | null {
  if (!(g.kernelHeight === 3 && g.kernelWidth === 3 && g.strideHeight === 1 && g.strideWidth === 1 && g.padTop <= 2 && g.padLeft <= 2)) {
    return null;
  }
  return computeConv2DInfo(
    [g.batch, g.outChannels, g.outHeight, g.outWidth], [g.inChannels, g.outChannels, 3, 3],
    [1, 1], [2 - g.padTop, 2 - g.padLeft], 'conv2dBackwardInput',
  );
}

/**
 * The geometry to run as a Winograd forward conv, or null for GEMM + col2im: 3×3 stride 1
 * with ≥ 8 channels and filters, outputs where tiles waste little, finite dy and kernel
 * (the same rules as conv2d's forward choice).
 */
function winogradInput(choice: ConvAlgorithm['input'], g: Conv2DInfo, dy: TypedArray, k: TypedArray): Conv2DInfo | null {
  if (choice === 'gemm') return null;
  const gT = inputGradientGeom(g);
  if (gT === null || !allFinite(dy) || !allFinite(k)) return null;
  if (choice === 'winograd') return gT;
  return winogradPays(gT) ? gT : null;
}

/**
 * Stride 1, 3×3: Winograd on the flipped kernel (inputGradientGeom above). Otherwise
 * dcol_n[CKK, P] = Kᵀ[CKK, F] · G_n[F, P], then col2im scatter-adds dcol_n into the
 * image (contributions that land in the padding are dropped; pixels that no window
 * reads get 0). Accumulates in Float64, stores in the input dtype (im2colGemm.ts).
 */
export const conv2dBackwardInput = defineKernel<'conv2dBackwardInput', B>({
  kernelName: 'conv2dBackwardInput', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, filter }, attrs: { strides, pad, inputShape }, backend }) => {
    const g = computeConv2DInfo(inputShape, filter.shape, strides, pad, 'conv2dBackwardInput');
    const n = g.batch, f = g.outChannels, kdim = g.taps, np = g.outPixels;
    const out = backend.makeOutput(inputShape, dy.dtype);
    const o = out.values;
    if (o.length === 0) return out.info;
    if (np === 0 || f === 0 || kdim === 0) {
      o.fill(0);
      return out.info;
    }
    const dyv = backend.values(dy), kv = backend.values(filter);
    const gT = winogradInput(backend.convAlgorithm.input, g, dyv, kv);
    if (gT !== null) {
      const args = { x: dyv, k: winogradFilters(backend, kv, f, g.inChannels, true), bias: undefined, n, f: gT.outChannels, g: gT, o, activation: 'linear' as const, alpha: 0 };
      backend.parallel('conv2dWinograd', args, n, 2 * n * f * kdim * np, 8);
      return out.info;
    }
    // Images are independent: threads take shares of the batch.
    const args = { dy: dyv, k: kv, n, f, g, o };
    backend.parallel('convInput', args, n, 2 * n * f * kdim * np, 8);
    return out.info;
  },
});

