/** Bias along axis 1 of (N, C) or (N, C, H, W), and its gradient (assembly/bias.ts). */
import { defineKernel, sizeOfShape } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

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
    backend.wasm.biasGrad_f32(pg, out.ptr, n, ch, inner);
    return out.info;
  },
});

export const biasKernels = [biasAdd, biasGrad];
