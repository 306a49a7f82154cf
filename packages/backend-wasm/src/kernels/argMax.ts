import { defineKernel } from '@backprop/tensor';
import type { WasmBackend } from '../backend.js';

/** Index (int32) of the first maximum along `axis`; NaN counts as the maximum (assembly/reduce.ts). */
export const argMax = defineKernel<'argMax', WasmBackend>({
  kernelName: 'argMax', backendName: 'wasm',
  kernelFunc: ({ inputs: { x }, attrs: { axis }, backend }) => {
    const px = backend.f32(x, 'argMax');
    const shape = x.shape;
    let outer = 1, inner = 1;
    for (let i = 0; i < axis; i++) outer *= shape[i];
    for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
    const out = backend.makeOutput(shape.filter((_, i) => i !== axis), 'int32', 'argMax');
    backend.wasm.argMax_f32(px, out.ptr, outer, shape[axis], inner);
    return out.info;
  },
});
