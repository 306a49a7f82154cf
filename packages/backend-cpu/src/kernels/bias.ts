import { defineKernel } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';

type B = CpuBackend;

// Bias along axis 1 (channels of NCHW, units of [N, units]): y = x + b, and its gradient
// ∂b = Σ of dy over every axis but 1 (accumulated in Float64).

/** Inner size: product of dims after axis 1. */
function inner(shape: readonly number[]): number {
  let s = 1;
  for (let i = 2; i < shape.length; i++) s *= shape[i];
  return s;
}

export const biasAdd = defineKernel<'biasAdd', B>({
  kernelName: 'biasAdd', backendName: 'cpu',
  kernelFunc: ({ inputs: { x, bias }, backend }) => {
    const v = backend.values(x), bs = backend.values(bias);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    const n = x.shape[0], ch = x.shape[1], hw = inner(x.shape);
    let idx = 0;
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < ch; c++) {
        const bc = bs[c];
        const end = idx + hw;
        for (; idx < end; idx++) o[idx] = v[idx] + bc;
      }
    }
    return out.info;
  },
});

export const biasGrad = defineKernel<'biasGrad', B>({
  kernelName: 'biasGrad', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy }, backend }) => {
    const g = backend.values(dy);
    const n = dy.shape[0], ch = dy.shape[1], hw = inner(dy.shape);
    const acc = backend.scratch('biasGrad', ch);
    acc.fill(0, 0, ch);
    let idx = 0;
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < ch; c++) {
        let t = 0;
        const end = idx + hw;
        for (; idx < end; idx++) t += g[idx];
        acc[c] += t;
      }
    }
    const out = backend.makeOutput([ch], dy.dtype);
    for (let c = 0; c < ch; c++) out.values[c] = acc[c];
    return out.info;
  },
});

export const biasKernels = [biasAdd, biasGrad];
