/** ∂X = col2im(Kᵀ · G_n) per image (assembly/conv.ts). The math: apps/docs/math/convolution.md. */
import { computeConv2DInfo, defineKernel } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';
import { columnBytes, convDims } from './conv.js';

export const conv2dBackwardInput = defineKernel<'conv2dBackwardInput', WasmBackend>({
  kernelName: 'conv2dBackwardInput', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, filter }, attrs: { strides, pad, inputShape }, backend }) => {
    const g = computeConv2DInfo(inputShape, filter.shape, strides, pad, 'conv2dBackwardInput');
    const pg = backend.f32(dy, 'conv2dBackwardInput'), pk = backend.f32(filter, 'conv2dBackwardInput');
    const out = backend.makeOutput(inputShape, 'float32', 'conv2dBackwardInput');
    if (g.batch * g.inImageSize === 0) return out.info;
    const wasm = backend.wasm;
    const gemmBytes = wasm.gemmScratchBytes(g.taps, g.outPixels, g.outChannels);
    backend.withScratch('conv2dBackwardInput', [columnBytes(g), gemmBytes], [out], (dcol, scratch) => {
      wasm.conv2dBackwardInput_f32(pg, pk, out.ptr, ...convDims(g), dcol, scratch);
    });
    return out.info;
  },
});
