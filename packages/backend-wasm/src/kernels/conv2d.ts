/**
 * Y = act(X ⋆ K + b): per image, im2col + GEMM, then bias and activation per output plane
 * (assembly/conv.ts). The math: apps/docs/math/convolution.md.
 */
import { computeConv2DInfo, defineKernel } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';
import { ACTIVATION_CODE } from './activations.js';
import { columnBytes, convFlop, subBatch } from './conv.js';

export const conv2d = defineKernel<'conv2d', WasmBackend>({
  kernelName: 'conv2d', backendName: 'wasm',
  kernelFunc: ({ inputs: { x, filter, bias }, attrs: { strides, pad, activation, alpha }, backend }) => {
    const g = computeConv2DInfo(x.shape, filter.shape, strides, pad, 'conv2d');
    const px = backend.f32(x, 'conv2d'), pk = backend.f32(filter, 'conv2d');
    const pb = bias !== undefined ? backend.f32(bias, 'conv2d') : 0;
    const out = backend.makeOutput(g.outShape, 'float32', 'conv2d');
    if (g.batch * g.outImageSize === 0) return out.info;
    const gemmBytes = backend.wasm.gemmScratchBytes(g.outChannels, g.outPixels, g.taps);
    // On threads: sub-batches of images, each with its own column matrix and GEMM scratch.
    backend.split('conv2d', g.batch, convFlop(g), [columnBytes(g), gemmBytes], [out], (from, to, [col, scratch]) => ({
      fn: 'conv2d_f32',
      args: [px + from * g.inImageSize * 4, pk, pb, +(bias !== undefined), out.ptr + from * g.outImageSize * 4, ...subBatch(g, to - from), ACTIVATION_CODE[activation], alpha, col, scratch],
    }));
    return out.info;
  },
});
