import { defineKernel, sizeOfShape, type TypedArray } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';

type B = CpuBackend;

interface Plan {
  /** Collapsed dims: runs of adjacent axes that are all reduced or all kept. */
  dims: number[];
  reduced: boolean[];
  outShape: number[];
  outSize: number;
}

function plan(shape: readonly number[], axes: readonly number[], keepDims: boolean): Plan {
  const isReduced = shape.map((_, i) => axes.includes(i));
  const outShape: number[] = [];
  shape.forEach((d, i) => {
    if (!isReduced[i]) outShape.push(d);
    else if (keepDims) outShape.push(1);
  });
  const dims: number[] = [];
  const reduced: boolean[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue; // size-1 axes never matter
    if (dims.length > 0 && reduced[reduced.length - 1] === isReduced[i]) dims[dims.length - 1] *= shape[i];
    else {
      dims.push(shape[i]);
      reduced.push(isReduced[i]);
    }
  }
  return { dims, reduced, outShape, outSize: sizeOfShape(outShape) };
}

/**
 * Walks the input in row-major order. The innermost collapsed dim is a contiguous run
 * that is either reduced into one output (sum/max of the run) or mapped one-to-one onto
 * a contiguous output run; an odometer over the outer dims tracks the output offset.
 */
function reduceInto(x: TypedArray, p: Plan, out: TypedArray, isMax: boolean): void {
  const { dims, reduced } = p;
  const rank = dims.length;
  if (rank === 0) {
    out[0] = x.length > 0 ? x[0] : isMax ? -Infinity : 0;
    return;
  }
  // Output strides of the collapsed dims (0 for reduced ones).
  const oStride = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) {
    if (!reduced[i]) {
      oStride[i] = acc;
      acc *= dims[i];
    }
  }
  out.fill(isMax ? -Infinity : 0, 0, p.outSize);
  const last = dims[rank - 1];
  const lastReduced = reduced[rank - 1];
  const counters = new Array<number>(rank - 1).fill(0);
  let outer = 1;
  for (let i = 0; i < rank - 1; i++) outer *= dims[i];
  let xi = 0;
  let oi = 0;
  for (let r = 0; r < outer; r++) {
    const end = xi + last;
    if (lastReduced) {
      if (isMax) {
        let m = out[oi];
        for (; xi < end; xi++) {
          const v = x[xi];
          if (v > m || v !== v) m = v;
          if (m !== m) {
            xi = end;
            break;
          }
        }
        out[oi] = m;
      } else {
        let s = 0;
        for (; xi < end; xi++) s += x[xi];
        out[oi] += s;
      }
    } else if (isMax) {
      for (let o = oi; xi < end; xi++, o++) {
        const v = x[xi];
        const m = out[o];
        if (v > m || (v !== v && m === m)) out[o] = v;
      }
    } else {
      for (let o = oi; xi < end; xi++, o++) out[o] += x[xi];
    }
    // advance the odometer over dims[0..rank-2]
    for (let d = rank - 2; d >= 0; d--) {
      counters[d]++;
      oi += oStride[d];
      if (counters[d] < dims[d]) break;
      oi -= oStride[d] * dims[d];
      counters[d] = 0;
    }
  }
}

function reduceKernel(x: { shape: readonly number[]; dtype: import('@backprop/tensor').DataType }, xv: TypedArray, axes: number[], keepDims: boolean, backend: B, isMax: boolean) {
  const p = plan(x.shape, axes, keepDims);
  const out = backend.makeOutput(p.outShape, x.dtype);
  if (x.dtype === 'int32' || p.outSize === 0) {
    reduceInto(xv, p, out.values, isMax);
  } else {
    // Accumulate in Float64 for accuracy, then store in the output dtype.
    const tmp = backend.scratch('reduce', p.outSize).subarray(0, p.outSize);
    reduceInto(xv, p, tmp, isMax);
    out.values.set(tmp);
  }
  return out.info;
}

export const sum = defineKernel<'sum', B>({
  kernelName: 'sum', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { axes, keepDims }, backend }) =>
    reduceKernel(x, backend.values(x), axes, keepDims, backend, false),
});

export const max = defineKernel<'max', B>({
  kernelName: 'max', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { axes, keepDims }, backend }) =>
    reduceKernel(x, backend.values(x), axes, keepDims, backend, true),
});

export const argMax = defineKernel<'argMax', B>({
  kernelName: 'argMax', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs: { axis }, backend }) => {
    const v = backend.values(x);
    const shape = x.shape;
    const len = shape[axis];
    let outer = 1, inner = 1;
    for (let i = 0; i < axis; i++) outer *= shape[i];
    for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
    const outShape = shape.filter((_, i) => i !== axis);
    const out = backend.makeOutput(outShape, 'int32');
    const o = out.values;
    for (let a = 0; a < outer; a++) {
      const base = a * len * inner;
      for (let b = 0; b < inner; b++) {
        let idx = base + b;
        let best = v[idx];
        let bi = 0;
        if (best === best) {
          for (let k = 1; k < len; k++) {
            idx += inner;
            const t = v[idx];
            if (t > best) {
              best = t;
              bi = k;
            } else if (t !== t) {
              bi = k;
              break;
            }
          }
        }
        o[a * inner + b] = bi;
      }
    }
    return out.info;
  },
});

export const reduceKernels = [sum, max, argMax];
