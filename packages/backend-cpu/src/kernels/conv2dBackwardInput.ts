import { defineKernel } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import { convGeom } from './conv2d.js';

type B = CpuBackend;

/**
 * dcol_n[CKK, P] = Kᵀ[CKK, F] · G_n[F, P], then col2im scatter-adds dcol_n into the
 * image (contributions that land in the padding are dropped; pixels that no window
 * reads get 0). Accumulates in Float64, stores in the input dtype (threads/jobs.ts convInputJob).
 */
export const conv2dBackwardInput = defineKernel<'conv2dBackwardInput', B>({
  kernelName: 'conv2dBackwardInput', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, filter }, attrs: { strides, pad, inputShape }, backend }) => {
    const g = convGeom(inputShape, filter.shape, strides, pad);
    const n = inputShape[0], f = filter.shape[0];
    const kdim = g.c * g.kh * g.kw;
    const np = g.ho * g.wo;
    const out = backend.makeOutput(inputShape, dy.dtype);
    const o = out.values;
    if (o.length === 0) return out.info;
    if (np === 0 || f === 0 || kdim === 0) {
      o.fill(0);
      return out.info;
    }
    // Images are independent: threads take shares of the batch.
    const args = { dy: backend.values(dy), k: backend.values(filter), n, f, g, o };
    backend.parallel('convInput', args, n, 2 * n * f * kdim * np, 8);
    return out.info;
  },
});

