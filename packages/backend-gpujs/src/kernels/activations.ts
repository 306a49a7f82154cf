import { defineKernel, type KernelConfig, type KernelName, sizeOfShape, type TensorInfo } from '@backprop/tensor';
import { type B, describe, info, int, program, returnActivation, sigmoidReturn, tanhReturn } from './util.js';

const elementwise = (backend: B, kernel: string, x: TensorInfo, body: string, key = '', params?: number[]): TensorInfo => {
  const src = `const v = x[this.thread.x];\n${body}`;
  const out = backend.run(program(kernel, key, describe({ x }), ['x'], src, sizeOfShape(x.shape)), [x], x.dtype, params);
  return info(out, x.shape, x.dtype);
};

const backward = (backend: B, kernel: string, dy: TensorInfo, other: TensorInfo, body: string, params?: number[]): TensorInfo => {
  const src = `const g = dy[this.thread.x];\nconst v = o[this.thread.x];\n${body}`;
  const out = backend.run(program(kernel, '', describe({ dy, other }), ['dy', 'o'], src, sizeOfShape(dy.shape)), [dy, other], dy.dtype, params);
  return info(out, dy.shape, dy.dtype);
};

export const relu = defineKernel<'relu', B>({
  kernelName: 'relu', backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, backend }) => elementwise(backend, 'relu', x, returnActivation('relu', 'v', '0')),
});

export const reluBackward = defineKernel<'reluBackward', B>({
  kernelName: 'reluBackward', backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, x }, backend }) => backward(backend, 'reluBackward', dy, x, 'if (v > 0) { return g; }\nreturn 0;'),
});

export const leakyRelu = defineKernel<'leakyRelu', B>({
  kernelName: 'leakyRelu', backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs: { alpha }, backend }) =>
    elementwise(backend, 'leakyRelu', x, returnActivation('leakyRelu', 'v', 'p[0]'), '', [alpha]),
});

export const leakyReluBackward = defineKernel<'leakyReluBackward', B>({
  kernelName: 'leakyReluBackward', backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, x }, attrs: { alpha }, backend }) =>
    backward(backend, 'leakyReluBackward', dy, x, 'if (v > 0) { return g; }\nreturn p[0] * g;', [alpha]),
});

export const sigmoid = defineKernel<'sigmoid', B>({
  kernelName: 'sigmoid', backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, backend }) => elementwise(backend, 'sigmoid', x, sigmoidReturn('v')),
});

export const sigmoidBackward = defineKernel<'sigmoidBackward', B>({
  kernelName: 'sigmoidBackward', backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, y }, backend }) => backward(backend, 'sigmoidBackward', dy, y, 'return g * v * (1 - v);'),
});

export const tanh = defineKernel<'tanh', B>({
  kernelName: 'tanh', backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, backend }) => elementwise(backend, 'tanh', x, tanhReturn('v')),
});

export const tanhBackward = defineKernel<'tanhBackward', B>({
  kernelName: 'tanhBackward', backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, y }, backend }) => backward(backend, 'tanhBackward', dy, y, 'return g * (1 - v * v);'),
});

/** Rows × classes of an (N, K) tensor (the last axis is the class axis). */
export function rowsCols(shape: readonly number[]): [number, number] {
  const k = shape[shape.length - 1] ?? 1;
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i];
  return [n, k];
}

/** Statements computing the row start `rs`, the row max `m` and `se` = Σ e^{x−m} of row `row` of `x` with K columns. */
export function rowStats(x: string, k: number, row: string): string {
  return (
    `const rs = ${row} * ${int(k)};\n` +
    `let m = ${x}[rs];\n` +
    `for (let j = 1; j < ${int(k)}; j++) { const t = ${x}[rs + j]; if (t > m) { m = t; } }\n` +
    `let se = 0;\n` +
    `for (let j = 0; j < ${int(k)}; j++) { se += Math.exp(${x}[rs + j] - m); }`
  );
}

const rowOf = (k: number): string => `const row = Math.floor((this.thread.x + 0.5) / ${int(k)});`;

export const softmax = defineKernel<'softmax', B>({
  kernelName: 'softmax', backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const [n, k] = rowsCols(x.shape);
    const src = `${rowOf(k)}\n${rowStats('x', k, 'row')}\nreturn Math.exp(x[this.thread.x] - m) / se;`;
    const out = backend.run(program('softmax', `${k}`, describe({ x }), ['x'], src, n * k), [x], x.dtype);
    return info(out, x.shape, x.dtype);
  },
});

export const logSoftmax = defineKernel<'logSoftmax', B>({
  kernelName: 'logSoftmax', backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, backend }) => {
    const [n, k] = rowsCols(x.shape);
    const src = `${rowOf(k)}\n${rowStats('x', k, 'row')}\nreturn x[this.thread.x] - m - Math.log(se);`;
    const out = backend.run(program('logSoftmax', `${k}`, describe({ x }), ['x'], src, n * k), [x], x.dtype);
    return info(out, x.shape, x.dtype);
  },
});

export const softmaxBackward = defineKernel<'softmaxBackward', B>({
  kernelName: 'softmaxBackward', backendName: 'gpujs',
  kernelFunc: ({ inputs: { dy, y }, backend }) => {
    const [n, k] = rowsCols(y.shape);
    const src =
      `${rowOf(k)}\nconst rs = row * ${int(k)};\n` +
      `let dot = 0;\nfor (let j = 0; j < ${int(k)}; j++) { dot += dy[rs + j] * y[rs + j]; }\n` +
      `return y[this.thread.x] * (dy[this.thread.x] - dot);`;
    const out = backend.run(program('softmaxBackward', `${k}`, describe({ dy, y }), ['dy', 'y'], src, n * k), [dy, y], dy.dtype);
    return info(out, y.shape, y.dtype);
  },
});

export const activationKernels: KernelConfig<KernelName, B>[] = [
  relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward,
  tanh, tanhBackward, softmax, softmaxBackward, logSoftmax,
] as never;
