import { defineKernel } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import { macroKernel, MR, NR, packA, roundUp } from './gemm.js';
import { type ConvGeom, im2colPackedB } from './im2col.js';
import { conv2dDirect, convAlgorithm } from './direct.js';
import { applyActivation } from './util.js';

type B = CpuBackend;

export function convGeom(
  inputShape: readonly number[], filterShape: readonly number[],
  strides: readonly [number, number], pad: readonly [number, number],
): ConvGeom {
  const [, c, h, w] = inputShape;
  const [, , kh, kw] = filterShape;
  const [sh, sw] = strides;
  const [ph, pw] = pad;
  return {
    c, h, w, kh, kw, sh, sw, ph, pw,
    ho: Math.floor((h + 2 * ph - kh) / sh) + 1,
    wo: Math.floor((w + 2 * pw - kw) / sw) + 1,
  };
}

/** Direct convolution wins when the column matrix would be short (small C·kh·kw). */
function useDirectForward(g: ConvGeom, f: number): boolean {
  if (convAlgorithm.forward !== 'auto') return convAlgorithm.forward === 'direct';
  void f;
  return g.c * g.kh * g.kw <= 128;
}

/**
 * Y_n[F, P] = K[F, CKK] · col_n[CKK, P] per image: the filter is packed once, each
 * image's columns are written straight into packed panels, and bias + activation are
 * applied while storing.
 */
export const conv2d = defineKernel<'conv2d', B>({
  kernelName: 'conv2d', backendName: 'cpu',
  kernelFunc: ({ inputs: { x, filter, bias }, attrs: { strides, pad, activation, alpha }, backend }) => {
    const g = convGeom(x.shape, filter.shape, strides, pad);
    const n = x.shape[0], f = filter.shape[0];
    const kdim = g.c * g.kh * g.kw;
    const np = g.ho * g.wo;
    const out = backend.makeOutput([n, f, g.ho, g.wo], x.dtype);
    const o = out.values;
    if (o.length === 0) return out.info;
    const xv = backend.values(x), kv = backend.values(filter);
    const bv = bias !== undefined ? backend.values(bias) : undefined;
    if (useDirectForward(g, f)) {
      conv2dDirect(backend, xv, kv, bv, n, f, g, o, activation, alpha);
      return out.info;
    }
    const fp = roundUp(f, MR), pp = roundUp(np, NR);
    const ap = backend.scratch('conv.a', fp * kdim);
    packA(kv, 0, kdim, 1, f, kdim, ap, 0);
    const bp = backend.scratch('conv.b', pp * kdim);
    // Lanes past the last pixel are never written by im2col: zero them once.
    if (pp !== np) {
      const base = (pp / NR - 1) * kdim * NR;
      for (let k = 0; k < kdim; k++) for (let l = np % NR; l < NR; l++) bp[base + k * NR + l] = 0;
    }
    const cbuf = backend.scratch('conv.c', fp * pp);
    const xStride = g.c * g.h * g.w;
    const oStride = f * np;
    for (let s = 0; s < n; s++) {
      im2colPackedB(xv, s * xStride, g, bp);
      cbuf.fill(0, 0, fp * pp);
      macroKernel(fp / MR, pp / NR, kdim, ap, 0, bp, 0, cbuf, 0, pp);
      const ob = s * oStride;
      for (let fi = 0; fi < f; fi++) {
        const b0 = bv !== undefined ? bv[fi] : 0;
        const ci = fi * pp, oi = ob + fi * np;
        for (let p = 0; p < np; p++) o[oi + p] = cbuf[ci + p] + b0;
      }
      applyActivation(o, ob, ob + oStride, activation, alpha);
    }
    return out.info;
  },
});
