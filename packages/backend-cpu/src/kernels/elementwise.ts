import { defineKernel, type KernelConfig, type TypedArray } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';

type B = CpuBackend;

export const add = defineKernel<'add', B>({
  kernelName: 'add', backendName: 'cpu',
  kernelFunc: ({ inputs: { a, b }, backend }) => {
    const x = backend.values(a), y = backend.values(b);
    const out = backend.makeOutput(a.shape, a.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = x[i] + y[i];
    return out.info;
  },
});

export const sub = defineKernel<'sub', B>({
  kernelName: 'sub', backendName: 'cpu',
  kernelFunc: ({ inputs: { a, b }, backend }) => {
    const x = backend.values(a), y = backend.values(b);
    const out = backend.makeOutput(a.shape, a.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = x[i] - y[i];
    return out.info;
  },
});

export const mul = defineKernel<'mul', B>({
  kernelName: 'mul', backendName: 'cpu',
  kernelFunc: ({ inputs: { a, b }, backend }) => {
    const x = backend.values(a), y = backend.values(b);
    const out = backend.makeOutput(a.shape, a.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = x[i] * y[i];
    return out.info;
  },
});

export const div = defineKernel<'div', B>({
  kernelName: 'div', backendName: 'cpu',
  kernelFunc: ({ inputs: { a, b }, backend }) => {
    const x = backend.values(a), y = backend.values(b);
    const out = backend.makeOutput(a.shape, a.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = x[i] / y[i];
    return out.info;
  },
});

export const maximum = defineKernel<'maximum', B>({
  kernelName: 'maximum', backendName: 'cpu',
  kernelFunc: ({ inputs: { a, b }, backend }) => {
    const x = backend.values(a), y = backend.values(b);
    const out = backend.makeOutput(a.shape, a.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = Math.max(x[i], y[i]);
    return out.info;
  },
});

export const minimum = defineKernel<'minimum', B>({
  kernelName: 'minimum', backendName: 'cpu',
  kernelFunc: ({ inputs: { a, b }, backend }) => {
    const x = backend.values(a), y = backend.values(b);
    const out = backend.makeOutput(a.shape, a.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = Math.min(x[i], y[i]);
    return out.info;
  },
});

export const addScalar = defineKernel<'addScalar', B>({
  kernelName: 'addScalar', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { scalar }, backend }) => {
    const v = backend.values(x);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = v[i] + scalar;
    return out.info;
  },
});

export const mulScalar = defineKernel<'mulScalar', B>({
  kernelName: 'mulScalar', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { scalar }, backend }) => {
    const v = backend.values(x);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = v[i] * scalar;
    return out.info;
  },
});

export const powScalar = defineKernel<'powScalar', B>({
  kernelName: 'powScalar', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { exponent }, backend }) => {
    const v = backend.values(x);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    if (exponent === 2) for (let i = 0; i < o.length; i++) o[i] = v[i] * v[i];
    else if (exponent === 1) o.set(v);
    else for (let i = 0; i < o.length; i++) o[i] = Math.pow(v[i], exponent);
    return out.info;
  },
});

export const maximumScalar = defineKernel<'maximumScalar', B>({
  kernelName: 'maximumScalar', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { scalar }, backend }) => {
    const v = backend.values(x);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = Math.max(v[i], scalar);
    return out.info;
  },
});

export const minimumScalar = defineKernel<'minimumScalar', B>({
  kernelName: 'minimumScalar', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { scalar }, backend }) => {
    const v = backend.values(x);
    const out = backend.makeOutput(x.shape, x.dtype);
    const o = out.values;
    for (let i = 0; i < o.length; i++) o[i] = Math.min(v[i], scalar);
    return out.info;
  },
});

type UnaryName = 'neg' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'square' | 'abs' | 'sign';

/** Unary kernels: each has its own loop (no per-element callback). */
function unary<K extends UnaryName>(kernelName: K, loop: (v: TypedArray, o: TypedArray) => void): KernelConfig<K, B> {
  return defineKernel<K, B>({
    kernelName,
    backendName: 'cpu',
    kernelFunc: (({ inputs: { x }, backend }: { inputs: { x: import('@backprop/tensor').TensorInfo }; backend: B }) => {
      const out = backend.makeOutput(x.shape, x.dtype);
      loop(backend.values(x), out.values);
      return out.info;
    }) as never,
  });
}

export const neg = unary('neg', (v, o) => {
  for (let i = 0; i < o.length; i++) o[i] = -v[i];
});
export const exp = unary('exp', (v, o) => {
  for (let i = 0; i < o.length; i++) o[i] = Math.exp(v[i]);
});
export const log = unary('log', (v, o) => {
  for (let i = 0; i < o.length; i++) o[i] = Math.log(v[i]);
});
export const log1p = unary('log1p', (v, o) => {
  for (let i = 0; i < o.length; i++) o[i] = Math.log1p(v[i]);
});
export const sqrt = unary('sqrt', (v, o) => {
  for (let i = 0; i < o.length; i++) o[i] = Math.sqrt(v[i]);
});
export const square = unary('square', (v, o) => {
  for (let i = 0; i < o.length; i++) {
    const t = v[i];
    o[i] = t * t;
  }
});
export const abs = unary('abs', (v, o) => {
  for (let i = 0; i < o.length; i++) o[i] = Math.abs(v[i]);
});
/** sign(0) = 0 (keeps the sign of zero), sign(NaN) = NaN. */
export const sign = unary('sign', (v, o) => {
  for (let i = 0; i < o.length; i++) {
    const t = v[i];
    o[i] = t > 0 ? 1 : t < 0 ? -1 : t;
  }
});

export const cast = defineKernel<'cast', B>({
  kernelName: 'cast', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { dtype }, backend }) => {
    const v = backend.values(x);
    const out = backend.makeOutput(x.shape, dtype);
    // TypedArray#set converts element-wise (float → int32 truncates toward zero, NaN → 0).
    out.values.set(v);
    return out.info;
  },
});

export const elementwiseKernels = [
  add, sub, mul, div, maximum, minimum,
  addScalar, mulScalar, powScalar, maximumScalar, minimumScalar,
  neg, exp, log, log1p, sqrt, square, abs, sign, cast,
];
