/** Bias along axis 1 of (N, C) or (N, C, H, W), and its gradient (assembly/bias.ts). */
import { defineKernel, sizeOfShape } from '@backprop/tensor';
import { SUM_CHUNK_IMAGES, type WasmBackend } from '../backend.js';

type B = WasmBackend;

/** [N, C, product of the axes after 1]. */
function axes(shape: readonly number[]): [number, number, number] {
  return [shape[0], shape[1], sizeOfShape(shape.slice(2))];
}

export const biasAdd = defineKernel<'biasAdd', B>({
  kernelName: 'biasAdd', backendName: 'wasm',
  kernelFunc: ({ inputs: { x, bias }, backend }) => {
    const px = backend.f32(x, 'biasAdd'), pb = backend.f32(bias, 'biasAdd');
    const out = backend.makeOutput(x.shape, 'float32', 'biasAdd');
    backend.wasm.biasAdd_f32(px, pb, out.ptr, ...axes(x.shape));
    return out.info;
  },
});

export const biasGrad = defineKernel<'biasGrad', B>({
  kernelName: 'biasGrad', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy }, backend }) => {
    const pg = backend.f32(dy, 'biasGrad');
    const [n, ch, inner] = axes(dy.shape);
    const out = backend.makeOutput([ch], 'float32', 'biasGrad');
    // float64 partial sums over fixed chunks of images, added in chunk order (the threads share whole chunks).
    const chunks = Math.ceil(n / SUM_CHUNK_IMAGES);
    backend.withScratch('biasGrad', [chunks * ch * 8], [out], (partials) => {
      backend.split('biasGrad', chunks, n * ch * inner, [], [out], (from, to) => ({
        fn: 'biasGradChunks_f64',
        args: [pg + from * SUM_CHUNK_IMAGES * ch * inner * 4, partials + from * ch * 8, Math.min(n, to * SUM_CHUNK_IMAGES) - from * SUM_CHUNK_IMAGES, ch, inner, SUM_CHUNK_IMAGES],
      }));
      backend.wasm.biasGradSum_f32(partials, chunks, ch, out.ptr);
    });
    return out.info;
  },
});

export const biasKernels = [biasAdd, biasGrad];
