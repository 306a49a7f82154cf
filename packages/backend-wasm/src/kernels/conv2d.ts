/**
 * Y = act(X ⋆ K + b): Winograd F(2×2, 3×3) where it pays, else per image im2col + GEMM; then
 * bias and activation per output plane (assembly/conv.ts). The math: apps/docs/math/convolution.md.
 */
import { computeConv2DInfo, defineKernel, winogradPays } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';
import { ACTIVATION_CODE } from './activations.js';
import { columnBytes, convFlop, subBatch } from './conv.js';

/** Tiles (images × 2×2 output tiles) per set of 16 GEMMs: Model B's second conv (36 tiles an image), 256/512/1024 measured in paired runs, 512 best (bench/conv-group.mjs). */
const WINOGRAD_GROUP_TILES = 512;

const roundUp4 = (x: number): number => Math.ceil(x / 4) * 4;

export const conv2d = defineKernel<'conv2d', WasmBackend>({
  kernelName: 'conv2d', backendName: 'wasm',
  kernelFunc: ({ inputs: { x, filter, bias }, attrs: { strides, pad, activation, alpha }, backend }) => {
    const g = computeConv2DInfo(x.shape, filter.shape, strides, pad, 'conv2d');
    const px = backend.f32(x, 'conv2d'), pk = backend.f32(filter, 'conv2d');
    const pb = bias !== undefined ? backend.f32(bias, 'conv2d') : 0;
    const out = backend.makeOutput(g.outShape, 'float32', 'conv2d');
    if (g.batch * g.outImageSize === 0) return out.info;
    // Winograd F(2×2, 3×3) (assembly/conv.ts) where tensor's winogradPays says so, as backend-cpu
    // chooses; finite x and filters only (±Infinity meets its own negation in the transforms).
    if (winogradPays(g) && backend.wasm.allFinite_f32(px, g.batch * g.inImageSize) !== 0 && backend.wasm.allFinite_f32(pk, g.outChannels * g.taps) !== 0) {
      const tiles = Math.ceil(g.outHeight / 2) * Math.ceil(g.outWidth / 2), f = g.outChannels, c = g.inChannels;
      const group = Math.max(1, Math.min(g.batch, Math.ceil(WINOGRAD_GROUP_TILES / tiles)));
      const sizes = [16 * f * c * 4, 16 * c * group * tiles * 4, (16 * f * group * tiles + 36) * 4, (2 * Math.ceil(g.outHeight / 2) + 2) * (2 * roundUp4(Math.ceil(g.outWidth / 2)) + 2) * 4, backend.wasm.gemmScratchBytes(f, group * tiles, c)];
      // On threads: sub-batches of images, each with its own transforms and GEMM scratch.
      backend.split('conv2d', g.batch, convFlop(g), sizes, [out], (from, to, [u, v, m, pad, scratch]) => ({
        fn: 'conv2dWinograd_f32',
        args: [
          px + from * g.inImageSize * 4, pk, pb, +(bias !== undefined), out.ptr + from * g.outImageSize * 4,
          to - from, c, g.inHeight, g.inWidth, f, g.padTop, g.padLeft, g.outHeight, g.outWidth, ACTIVATION_CODE[activation], alpha, group, u, v, m, pad, scratch,
        ],
      }));
      return out.info;
    }
    const gemmBytes = backend.wasm.gemmScratchBytes(g.outChannels, g.outPixels, g.taps);
    // On threads: sub-batches of images, each with its own column matrix and GEMM scratch.
    backend.split('conv2d', g.batch, convFlop(g), [columnBytes(g), gemmBytes], [out], (from, to, [col, scratch]) => ({
      fn: 'conv2d_f32',
      args: [px + from * g.inImageSize * 4, pk, pb, +(bias !== undefined), out.ptr + from * g.outImageSize * 4, ...subBatch(g, to - from), ACTIVATION_CODE[activation], alpha, col, scratch],
    }));
    return out.info;
  },
});
