import { defineKernel } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import { applyActivation, leakyReluInto, reluBackwardInto, reluInto } from './util.js';

type B = CpuBackend;

export const relu = defineKernel<'relu', B>({
  kernelName: 'relu', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const v = backend.values(x);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    reluInto(v, o, 0, o.length);
    return out.info;
  },
});

export const reluBackward = defineKernel<'reluBackward', B>({
  kernelName: 'reluBackward', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, x }, backend }) => {
    const g = backend.values(dy), v = backend.values(x);
    const out = backend.makeOutput(dy.shape, dy.dtype);
    const o = out.values;
    reluBackwardInto(g, v, o);
    return out.info;
  },
});

export const leakyRelu = defineKernel<'leakyRelu', B>({
  kernelName: 'leakyRelu', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { alpha }, backend }) => {
    const v = backend.values(x);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    leakyReluInto(v, o, 0, o.length, alpha);
    return out.info;
  },
});

export const leakyReluBackward = defineKernel<'leakyReluBackward', B>({
  kernelName: 'leakyReluBackward', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, x }, attrs: { alpha }, backend }) => {
    const g = backend.values(dy), v = backend.values(x);
    const out = backend.makeOutput(dy.shape, dy.dtype);
    const o = out.values;
    const slope = [alpha, 1];
    for (let i = 0; i < o.length; i++) o[i] = g[i] * slope[+(v[i] > 0)];
    return out.info;
  },
});

export const sigmoid = defineKernel<'sigmoid', B>({
  kernelName: 'sigmoid', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const out = backend.makeOutput(x.shape, x.dtype);
    out.values.set(backend.values(x));
    applyActivation(out.values, 0, out.values.length, 'sigmoid', 0);
    return out.info;
  },
});

export const sigmoidBackward = defineKernel<'sigmoidBackward', B>({
  kernelName: 'sigmoidBackward', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, y }, backend }) => {
    const g = backend.values(dy), v = backend.values(y);
    const out = backend.makeOutput(dy.shape, dy.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) {
      const t = v[i];
      o[i] = g[i] * t * (1 - t);
    }
    return out.info;
  },
});

export const tanh = defineKernel<'tanh', B>({
  kernelName: 'tanh', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const v = backend.values(x);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = Math.tanh(v[i]);
    return out.info;
  },
});

export const tanhBackward = defineKernel<'tanhBackward', B>({
  kernelName: 'tanhBackward', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, y }, backend }) => {
    const g = backend.values(dy), v = backend.values(y);
    const out = backend.makeOutput(dy.shape, dy.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) {
      const t = v[i];
      o[i] = g[i] * (1 - t * t);
    }
    return out.info;
  },
});

/** Rows × classes of an (N, K) tensor (the last axis is the class axis). */
function rowsCols(shape: readonly number[]): [number, number] {
  const k = shape[shape.length - 1] ?? 1;
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i];
  return [n, k];
}

export const softmax = defineKernel<'softmax', B>({
  kernelName: 'softmax', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const v = backend.values(x);
    const [n, k] = rowsCols(x.shape);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    for (let r = 0; r < n; r++) {
      const s = r * k, e = s + k;
      let m = -Infinity;
      for (let i = s; i < e; i++) if (v[i] > m || v[i] !== v[i]) m = v[i];
      let total = 0;
      for (let i = s; i < e; i++) {
        const t = Math.exp(v[i] - m);
        o[i] = t;
        total += t;
      }
      const inv = 1 / total;
      for (let i = s; i < e; i++) o[i] *= inv;
    }
    return out.info;
  },
});

export const logSoftmax = defineKernel<'logSoftmax', B>({
  kernelName: 'logSoftmax', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const v = backend.values(x);
    const [n, k] = rowsCols(x.shape);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    for (let r = 0; r < n; r++) {
      const s = r * k, e = s + k;
      let m = -Infinity;
      for (let i = s; i < e; i++) if (v[i] > m || v[i] !== v[i]) m = v[i];
      let total = 0;
      for (let i = s; i < e; i++) total += Math.exp(v[i] - m);
      const shift = m + Math.log(total);
      for (let i = s; i < e; i++) o[i] = v[i] - shift;
    }
    return out.info;
  },
});

export const softmaxBackward = defineKernel<'softmaxBackward', B>({
  kernelName: 'softmaxBackward', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, y }, backend }) => {
    const g = backend.values(dy), p = backend.values(y);
    const [n, k] = rowsCols(y.shape);
    const out = backend.makeOutput(y.shape, y.dtype);
    const o = out.values;
    for (let r = 0; r < n; r++) {
      const s = r * k, e = s + k;
      let dot = 0;
      for (let i = s; i < e; i++) dot += g[i] * p[i];
      for (let i = s; i < e; i++) o[i] = p[i] * (g[i] - dot);
    }
    return out.info;
  },
});

export const activationKernels = [
  relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward,
  tanh, tanhBackward, softmax, softmaxBackward, logSoftmax,
];
