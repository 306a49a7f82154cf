/** Softmax, its backward, and log-softmax over the last axis (assembly/softmax.ts). */
import { defineKernel, type TensorInfo } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

type B = WasmBackend;

/** Rows × classes (the last axis is the class axis). */
export function rowsCols(shape: readonly number[]): [number, number] {
  const k = shape[shape.length - 1] ?? 1;
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i];
  return [n, k];
}

/** y = f(x) row by row: softmax or log-softmax. */
function rowwise<K extends 'softmax' | 'logSoftmax'>(kernelName: K) {
  return defineKernel<K, B>({
    kernelName, backendName: 'wasm',
    kernelFunc: (({ inputs: { x }, backend }: { inputs: { x: TensorInfo }; backend: B }) => {
      const px = backend.f32(x, kernelName);
      const out = backend.makeOutput(x.shape, 'float32', kernelName);
      backend.wasm[`${kernelName}_f32`](px, out.ptr, ...rowsCols(x.shape));
      return out.info;
    }) as never,
  });
}

export const softmax = rowwise('softmax');
export const logSoftmax = rowwise('logSoftmax');

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
