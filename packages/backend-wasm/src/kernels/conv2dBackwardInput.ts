/** ∂X = col2im(Kᵀ · G_n) per image (assembly/conv.ts). The math: apps/docs/math/convolution.md. */
import { computeConv2DInfo, defineKernel } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';
import { columnBytes, convFlop, subBatch } from './conv.js';

export const conv2dBackwardInput = defineKernel<'conv2dBackwardInput', WasmBackend>({
  kernelName: 'conv2dBackwardInput', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, filter }, attrs: { strides, pad, inputShape }, backend }) => {
    const g = computeConv2DInfo(inputShape, filter.shape, strides, pad, 'conv2dBackwardInput');
    const pg = backend.f32(dy, 'conv2dBackwardInput'), pk = backend.f32(filter, 'conv2dBackwardInput');
    const out = backend.makeOutput(inputShape, 'float32', 'conv2dBackwardInput');
    if (g.batch * g.inImageSize === 0) return out.info;
    const gemmBytes = backend.wasm.gemmScratchBytes(g.taps, g.outPixels, g.outChannels);
    // On threads: sub-batches of images, each with its own dcol and GEMM scratch.
    backend.split('conv2dBackwardInput', g.batch, convFlop(g), [columnBytes(g), gemmBytes], [out], (from, to, [dcol, scratch]) => ({
      fn: 'conv2dBackwardInput_f32',
      args: [pg + from * g.outImageSize * 4, pk, out.ptr + from * g.inImageSize * 4, ...subBatch(g, to - from), dcol, scratch],
    }));
    return out.info;
  },
});
