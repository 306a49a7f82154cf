import { defineKernel, sizeOfShape } from '@backprop/tensor';
import { DTYPE_CODE, type WasmBackend } from '../backend.js';

/**
 * Any storage dtype to any other (assembly/cast.ts): float → int32 truncates toward zero,
 * NaN → 0, and out-of-range values saturate.
 */
export const cast = defineKernel<'cast', WasmBackend>({
  kernelName: 'cast', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, attrs: { dtype }, backend }) => {
    const px = backend.ptr(x, 'cast');
    const out = backend.makeOutput(x.shape, dtype, 'cast');
    backend.wasm.cast(px, DTYPE_CODE[x.dtype], out.ptr, DTYPE_CODE[dtype], sizeOfShape(x.shape));
    return out.info;
  },
});
