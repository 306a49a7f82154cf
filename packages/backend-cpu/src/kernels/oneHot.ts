import { defineKernel } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';

type B = CpuBackend;

/** Row i of the [n, depth] output is 1 at column indices[i], 0 elsewhere. */
export const oneHot = defineKernel<'oneHot', B>({
  kernelName: 'oneHot', backendName: 'cpu',
  kernelFunc: ({ inputs: { indices }, attrs: { depth, dtype }, backend }) => {
    const v = backend.values(indices);
    const n = v.length;
    const out = backend.makeZeroOutput([n, depth], dtype);
    for (let i = 0; i < n; i++) out.values[i * depth + v[i]] = 1;
    return out.info;
  },
});
