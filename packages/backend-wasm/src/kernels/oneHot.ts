import { defineKernel, sizeOfShape } from '@backprop/tensor';
import { DTYPE_CODE, type WasmBackend } from '../backend.js';

/**
 * Row i of the (n, depth) output is 1 at column indices[i], 0 elsewhere, in any storage
 * dtype. Float labels (integers the op has checked) are first cast to int32 in scratch.
 */
export const oneHot = defineKernel<'oneHot', WasmBackend>({
  kernelName: 'oneHot', backendName: 'wasm',
  kernelFunc: ({ inputs: { indices }, attrs: { depth, dtype }, backend }) => {
    const pi = backend.ptr(indices, 'oneHot');
    const n = sizeOfShape(indices.shape);
    const out = backend.makeOutput([n, depth], dtype, 'oneHot');
    const wasm = backend.wasm;
    if (indices.dtype === 'int32') wasm.oneHot(pi, out.ptr, n, depth, DTYPE_CODE[dtype]);
    else {
      backend.withScratch('oneHot', [n * 4], [out], (labels) => {
        wasm.cast(pi, DTYPE_CODE[indices.dtype], labels, DTYPE_CODE.int32, n);
        wasm.oneHot(labels, out.ptr, n, depth, DTYPE_CODE[dtype]);
      });
    }
    return out.info;
  },
});
