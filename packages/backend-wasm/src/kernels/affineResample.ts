import { defineKernel } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

/** Bilinear resampling of each image of x (N, C, H, W) by its row of `transforms` (N, 6) (assembly/resample.ts). */
export const affineResample = defineKernel<'affineResample', WasmBackend>({
  kernelName: 'affineResample', backendName: 'wasm',
  kernelFunc: ({ inputs: { x, transforms }, backend }) => {
    const px = backend.f32(x, 'affineResample'), pt = backend.f32(transforms, 'affineResample');
    const out = backend.makeOutput(x.shape, 'float32', 'affineResample');
    const [n, c, h, w] = x.shape;
    backend.wasm.affineResample_f32(px, pt, out.ptr, n, c, h, w);
    return out.info;
  },
});
