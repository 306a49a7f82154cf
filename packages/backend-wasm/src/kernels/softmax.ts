/** Softmax, its backward, and log-softmax over the last axis (assembly/softmax.ts). */
import { defineKernel } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

type B = WasmBackend;

/** Rows × classes (the last axis is the class axis). */
export function rowsCols(shape: readonly number[]): [number, number] {
  const k = shape[shape.length - 1] ?? 1;
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i];
  return [n, k];
}

export const softmax = defineKernel<'softmax', B>({
  kernelName: 'softmax', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const px = backend.f32(x, 'softmax');
    const out = backend.makeOutput(x.shape, 'float32', 'softmax');
    backend.wasm.softmax_f32(px, out.ptr, ...rowsCols(x.shape));
    return out.info;
  },
});

export const logSoftmax = defineKernel<'logSoftmax', B>({
  kernelName: 'logSoftmax', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const px = backend.f32(x, 'logSoftmax');
    const out = backend.makeOutput(x.shape, 'float32', 'logSoftmax');
    backend.wasm.logSoftmax_f32(px, out.ptr, ...rowsCols(x.shape));
    return out.info;
  },
});

export const softmaxBackward = defineKernel<'softmaxBackward', B>({
  kernelName: 'softmaxBackward', backendName: 'wasm',
  kernelFunc: ({ inputs: { dy, y }, backend }) => {
    const pg = backend.f32(dy, 'softmaxBackward'), py = backend.f32(y, 'softmaxBackward');
    const out = backend.makeOutput(y.shape, 'float32', 'softmaxBackward');
    backend.wasm.softmaxBackward_f32(pg, py, out.ptr, ...rowsCols(y.shape));
    return out.info;
  },
});

export const softmaxKernels = [softmax, softmaxBackward, logSoftmax];
