/**
 * ∂K[F, CKK] = Σ_n G_n · col_nᵀ (assembly/conv.ts): over dy's non-zeros only when dy is
 * sparse (behind max pooling + ReLU), else im2col + GEMM; in partial sums over fixed chunks of
 * images (SUM_CHUNK_IMAGES) added in chunk order, the chunks shared among the threads. The math: apps/docs/math/convolution.md.
 */
import { computeConv2DInfo, defineKernel, sizeOfShape } from '@backprop/tensor';
import { SUM_CHUNK_IMAGES, type WasmBackend } from '../backend.js';
import { columnBytes, convFlop, subBatch } from './conv.js';

/**
 * The sparse path runs when at most this fraction of dy is non-zero. Against the SIMD GEMM it
 * pays only on quite sparse gradients (rough one-off timings, batch 32, shared machine: the
 * paper's conv x[32,1,28,28] k[8,1,5,5] sparse 0.42 / 0.56 / 0.70 ms at 10 / 20 / 30 % vs
 * GEMM 0.55 ms; lenet's second conv x[32,32,13,13] k[64,32,3,3] sparse 2.9 / 6.7 ms at 10 /
 * 20 % vs GEMM 4.1 ms), so the break-even is near 12 %, well below backend-cpu's 40 %.
 */
export const SPARSE_FILTER_MAX_DENSITY = 0.12;

export const conv2dBackwardFilter = defineKernel<'conv2dBackwardFilter', WasmBackend>({
  kernelName: 'conv2dBackwardFilter', backendName: 'wasm',
  kernelFunc: ({ inputs: { x, dy }, attrs: { strides, pad, filterShape }, backend }) => {
    const g = computeConv2DInfo(x.shape, filterShape, strides, pad, 'conv2dBackwardFilter');
    const px = backend.f32(x, 'conv2dBackwardFilter'), pg = backend.f32(dy, 'conv2dBackwardFilter');
    const out = backend.makeOutput(filterShape, 'float32', 'conv2dBackwardFilter');
    if (sizeOfShape(filterShape) === 0) return out.info;
    const wasm = backend.wasm;
    const dyCount = g.batch * g.outImageSize;
    const nonZero = dyCount > 0 ? wasm.nonZeroCount_f32(pg, dyCount) : 0;
    // Skipping dy's zeros would drop 0·NaN and 0·Inf terms: the sparse path needs a finite x.
    const sparse = dyCount > 0 && nonZero <= SPARSE_FILTER_MAX_DENSITY * dyCount && wasm.allFinite_f32(px, g.batch * g.inImageSize) !== 0;
    // Σ over images in partial sums of SUM_CHUNK_IMAGES images each, added in chunk order: on
    // threads, each takes whole chunks, so the sum's order (and bits) is that of one thread.
    const chunks = Math.ceil(g.batch / SUM_CHUNK_IMAGES);
    const partBytes = g.outChannels * g.taps * 4;
    const images = (from: number) => [px + from * SUM_CHUNK_IMAGES * g.inImageSize * 4, pg + from * SUM_CHUNK_IMAGES * g.outImageSize * 4];
    const imagesIn = (from: number, to: number) => Math.min(g.batch, to * SUM_CHUNK_IMAGES) - from * SUM_CHUNK_IMAGES;
    backend.withScratch('conv2dBackwardFilter', [chunks * partBytes], [out], (partials) => {
      const at = (from: number) => partials + from * partBytes;
      if (sparse) {
        // Padded planes cover every row and column a window reads.
        const hp = Math.max(g.inHeight + 2 * g.padTop, (g.outHeight - 1) * g.strideHeight + g.kernelHeight);
        const wp = Math.max(g.inWidth + 2 * g.padLeft, (g.outWidth - 1) * g.strideWidth + g.kernelWidth);
        const sizes = [g.inChannels * hp * wp * 4, g.outPixels * 4, g.outPixels * 4, g.taps * 4];
        backend.split('conv2dBackwardFilter', chunks, 2 * nonZero * g.taps, sizes, [out], (from, to, [xp, pos, val, off]) => ({
          fn: 'conv2dBackwardFilterSparse_f32',
          args: [...images(from), at(from), ...subBatch(g, imagesIn(from, to)), hp, wp, SUM_CHUNK_IMAGES, xp, pos, val, off],
        }));
      } else {
        const gemmBytes = wasm.gemmScratchBytes(g.outChannels, g.taps, g.outPixels);
        backend.split('conv2dBackwardFilter', chunks, convFlop(g), [columnBytes(g), gemmBytes], [out], (from, to, [col, scratch]) => ({
          fn: 'conv2dBackwardFilter_f32',
          args: [...images(from), at(from), ...subBatch(g, imagesIn(from, to)), SUM_CHUNK_IMAGES, col, scratch],
        }));
      }
      wasm.sumChunks_f32(partials, chunks, g.outChannels * g.taps, out.ptr);
    });
    return out.info;
  },
});
