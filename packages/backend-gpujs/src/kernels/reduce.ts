import { defineKernel, type KernelConfig, type KernelName, sizeOfShape, type TensorInfo } from '@backprop/tensor';
import { type B, describe, info, int, program, unravel } from './util.js';

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/**
 * Source of a reduction over `axes`: one thread per kept element, nested loops with
 * literal bounds over the reduced axes. `init` initialises `acc`; `step` folds `v` into it.
 */
function reductionSource(shape: readonly number[], axes: readonly number[], init: string, step: string): string {
  const st = strides(shape);
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const lines: string[] = [];
  if (kept.length) {
    lines.push(unravel('this.thread.x', kept.map((d) => shape[d]), kept.map((d) => `k${d}`)));
    lines.push(`const base = ${kept.map((d) => `k${d} * ${int(st[d])}`).join(' + ')};`);
  } else {
    lines.push('const base = 0;');
  }
  lines.push(init);
  let index = 'base';
  for (const d of axes) {
    lines.push(`for (let r${d} = 0; r${d} < ${int(shape[d])}; r${d}++) {`);
    index += ` + r${d} * ${int(st[d])}`;
  }
  lines.push(`const v = x[${index}];`);
  lines.push(step);
  for (let i = 0; i < axes.length; i++) lines.push('}');
  lines.push('return acc;');
  return lines.join('\n');
}

function outShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

export const sum = defineKernel<'sum', B>({
  kernelName: 'sum',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs: { axes, keepDims }, backend }) => {
    const shape = outShape(x.shape, axes, keepDims);
    const src = reductionSource(x.shape, axes, 'let acc = 0;', 'acc += v;');
    const out = backend.run(program('sum', `${x.shape}|${axes}`, describe({ x }, { axes }), ['x'], src, sizeOfShape(shape)), [x], x.dtype);
    return info(out, shape, x.dtype);
  },
});

/** Max with NaN propagation: once `acc` is NaN nothing replaces it. */
export const max = defineKernel<'max', B>({
  kernelName: 'max',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs: { axes, keepDims }, backend }) => {
    const shape = outShape(x.shape, axes, keepDims);
    const src = reductionSource(
      x.shape,
      axes,
      'let acc = x[base];',
      'if (acc === acc) { if (v > acc || !(v === v)) { acc = v; } }',
    );
    const out = backend.run(program('max', `${x.shape}|${axes}`, describe({ x }, { axes }), ['x'], src, sizeOfShape(shape)), [x], x.dtype);
    return info(out, shape, x.dtype);
  },
});

/** Index of the first maximum along `axis` (strict >); the first NaN wins. Stored as float, read as int32. */
export const argMax = defineKernel<'argMax', B>({
  kernelName: 'argMax',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { x }, attrs: { axis }, backend }) => {
    const outer = sizeOfShape(x.shape.slice(0, axis));
    const len = x.shape[axis];
    const inner = sizeOfShape(x.shape.slice(axis + 1));
    const shape = x.shape.filter((_, i) => i !== axis);
    const src =
      `const o = Math.floor((this.thread.x + 0.5) / ${int(inner)});\n` +
      `const q = this.thread.x - o * ${int(inner)};\n` +
      `const base = o * ${int(len * inner)} + q;\n` +
      `let best = 0;\nlet bv = x[base];\n` +
      `for (let j = 1; j < ${int(len)}; j++) {\n` +
      `  if (bv === bv) { const v = x[base + j * ${int(inner)}]; if (!(v === v) || v > bv) { best = j; bv = v; } }\n` +
      `}\nreturn best;`;
    const out = backend.run(program('argMax', `${outer}|${len}|${inner}`, describe({ x }, { axis }), ['x'], src, outer * inner), [x], 'int32');
    return info(out, shape, 'int32');
  },
});

/** (N) labels → (N, depth) with 1 at the label. */
export const oneHot = defineKernel<'oneHot', B>({
  kernelName: 'oneHot',
  backendName: 'gpujs',
  kernelFunc: ({ inputs: { indices }, attrs: { depth, dtype }, backend }) => {
    const n = sizeOfShape(indices.shape);
    const src =
      `const r = Math.floor((this.thread.x + 0.5) / ${int(depth)});\n` +
      `const j = this.thread.x - r * ${int(depth)};\n` +
      `const label = indices[r];\n` +
      `if (Math.abs(label - j) < 0.5) { return 1; }\nreturn 0;`;
    const out = backend.run(program('oneHot', `${depth}`, describe({ indices }, { depth }), ['indices'], src, n * depth), [indices], dtype);
    return info(out, [n, depth], dtype);
  },
});

export const reduceKernels: KernelConfig<KernelName, B>[] = [sum, max, argMax, oneHot] as never;
export type { TensorInfo };
