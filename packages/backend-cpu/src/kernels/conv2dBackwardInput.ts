import { defineKernel } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import { macroKernel, MR, NR, packA, packB, roundUp } from './gemm.js';
import { col2im } from './im2col.js';
import { convGeom } from './conv2d.js';

type B = CpuBackend;

/**
 * dcol_n[CKK, P] = Kᵀ[CKK, F] · G_n[F, P], then col2im scatter-adds dcol_n into the
 * image (contributions that land in the padding are dropped; pixels that no window
 * reads get 0). Accumulates in Float64, stores in the input dtype.
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
    const gv = backend.values(dy), kv = backend.values(filter);
    const kp = roundUp(kdim, MR), pp = roundUp(np, NR);
    const ap = backend.scratch('convBI.a', kp * f);
    packA(kv, 0, 1, kdim, kdim, f, ap, 0);
    const bp = backend.scratch('convBI.b', pp * f);
    const cbuf = backend.scratch('convBI.c', kp * pp);
    const xStride = g.c * g.h * g.w;
    const dx = backend.scratch('convBI.dx', xStride);
    const gStride = f * np;
    for (let s = 0; s < n; s++) {
      packB(gv, s * gStride, np, 1, f, np, bp, 0);
      cbuf.fill(0, 0, kp * pp);
      macroKernel(kp / MR, pp / NR, f, ap, 0, bp, 0, cbuf, 0, pp);
      dx.fill(0, 0, xStride);
      col2im(cbuf, pp, g, dx);
      const ob = s * xStride;
      for (let i = 0; i < xStride; i++) o[ob + i] = dx[i];
    }
    return out.info;
  },
});

