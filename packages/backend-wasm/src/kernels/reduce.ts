/** sum and max over axes (assembly/reduce.ts walks the collapsed shape planned here). */
import { defineKernel, sizeOfShape, type TensorInfo } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

type B = WasmBackend;

/** Output shape, and the shape collapsed into runs of adjacent axes that are all reduced or all kept. */
function plan(shape: readonly number[], axes: readonly number[], keepDims: boolean): { outShape: number[]; dims: number[]; reduced: boolean[] } {
  const outShape: number[] = [];
  const dims: number[] = [];
  const reduced: boolean[] = [];
  shape.forEach((d, i) => {
    const isReduced = axes.includes(i);
    if (!isReduced) outShape.push(d);
    else if (keepDims) outShape.push(1);
    if (d === 1) return; // size-1 axes never matter
    if (dims.length > 0 && reduced[reduced.length - 1] === isReduced) dims[dims.length - 1] *= d;
    else {
      dims.push(d);
      reduced.push(isReduced);
    }
  });
  return { outShape, dims, reduced };
}

function reduce(kernel: 'sum' | 'max', x: TensorInfo, axes: number[], keepDims: boolean, backend: B): TensorInfo {
  const px = backend.f32(x, kernel);
  const { outShape, dims, reduced } = plan(x.shape, axes, keepDims);
  const outSize = sizeOfShape(outShape);
  const out = backend.makeOutput(outShape, 'float32', kernel);
  if (outSize === 0) return out.info;
  const rank = dims.length;
  const isMax = kernel === 'max';
  backend.withScratch(kernel, [rank * 8, isMax ? 0 : outSize * 8, rank * 4, rank * 4], [out], (pdims, acc, ostride, counters) => {
    // The view is derived after the scratch was allocated (allocating may grow the memory).
    const d = new Int32Array(backend.linearMemory.buffer, pdims, rank * 2);
    for (let i = 0; i < rank; i++) {
      d[2 * i] = dims[i];
      d[2 * i + 1] = +reduced[i];
    }
    backend.wasm.reduce_f32(px, out.ptr, outSize, pdims, rank, +isMax, acc, ostride, counters);
  });
  return out.info;
}

export const sum = defineKernel<'sum', B>({
  kernelName: 'sum', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, attrs: { axes, keepDims }, backend }) => reduce('sum', x, axes, keepDims, backend),
});

export const max = defineKernel<'max', B>({
  kernelName: 'max', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, attrs: { axes, keepDims }, backend }) => reduce('max', x, axes, keepDims, backend),
});

export const reduceKernels = [sum, max];
