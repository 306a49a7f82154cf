/**
 * im2col / col2im for NCHW convolution, writing straight into the GEMM's packed panel
 * formats so no separate column matrix is materialised. Index arithmetic is hoisted:
 * for every (c, u, v) the range of output columns jo whose input column jo·S+v−P is
 * inside the image is computed once, so inner loops carry no bounds tests.
 */
import type { Conv2DInfo, TypedArray } from '@backprop/tensor';
import { NR } from './gemm.js';

/** First output column jo with 0 ≤ jo·sw + v − pw. */
export function colLo(g: Conv2DInfo, v: number): number {
  const d = g.padLeft - v;
  return d <= 0 ? 0 : Math.min(g.outWidth, Math.ceil(d / g.strideWidth));
}

/** One past the last output column jo with jo·sw + v − pw < w. */
export function colHi(g: Conv2DInfo, v: number, lo: number): number {
  const d = g.inWidth - 1 + g.padLeft - v;
  if (d < 0) return lo;
  return Math.max(lo, Math.min(g.outWidth, Math.floor(d / g.strideWidth) + 1));
}

/**
 * Column matrix col[ckk, p] (ckk = (c·kh+u)·kw+v, p = i·wo+jo) of one image, packed as
 * the GEMM's B operand (k = ckk, j = p): dst[(⌊p/NR⌋·K + ckk)·NR + p mod NR].
 * Lanes past the last pixel of the final panel are left untouched (zero them once).
 */
export function im2colPackedB(x: TypedArray, xOff: number, g: Conv2DInfo, dst: Float64Array): void {
  const { inChannels: cn, inHeight: h, inWidth: w, kernelHeight: kh, kernelWidth: kw } = g;
  const { strideHeight: sh, strideWidth: sw, padTop: ph, padLeft: pw, outHeight: ho, outWidth: wo } = g;
  const panelStride = g.taps * NR;
  let ckk = 0;
  for (let c = 0; c < cn; c++) {
    const plane = xOff + c * h * w;
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++, ckk++) {
        const lo = colLo(g, v), hi = colHi(g, v, lo);
        let pb = ckk * NR;
        let lane = 0;
        for (let i = 0; i < ho; i++) {
          const r = i * sh + u - ph;
          if (r < 0 || r >= h) {
            for (let jo = 0; jo < wo; jo++) {
              dst[pb + lane] = 0;
              if (++lane === NR) { lane = 0; pb += panelStride; }
            }
            continue;
          }
          const row = plane + r * w + v - pw;
          if (lane === 0 && lo === 0 && hi === wo && (wo & (NR - 1)) === 0) {
            // Fast path: whole row inside the image and aligned to panels (NR = 4).
            for (let jo = 0, s = row; jo < wo; jo += 4, s += 4 * sw, pb += panelStride) {
              dst[pb] = x[s];
              dst[pb + 1] = x[s + sw];
              dst[pb + 2] = x[s + 2 * sw];
              dst[pb + 3] = x[s + 3 * sw];
            }
            continue;
          }
          let jo = 0;
          for (; jo < lo; jo++) {
            dst[pb + lane] = 0;
            if (++lane === NR) { lane = 0; pb += panelStride; }
          }
          for (let s = row + jo * sw; jo < hi; jo++, s += sw) {
            dst[pb + lane] = x[s];
            if (++lane === NR) { lane = 0; pb += panelStride; }
          }
          for (; jo < wo; jo++) {
            dst[pb + lane] = 0;
            if (++lane === NR) { lane = 0; pb += panelStride; }
          }
        }
      }
    }
  }
}

/**
 * The transposed column matrix colᵀ[p, ckk] of one image packed as the GEMM's B operand
 * (k = p, j = ckk): dst[(⌊ckk/NR⌋·P + p)·NR + ckk mod NR], only for ckk in [ckk0, ckk1).
 * Padding lanes (ckk ≥ K) are left untouched (zero them once).
 */
export function im2colTPackedB(
  x: TypedArray, xOff: number, g: Conv2DInfo, dst: Float64Array, ckk0 = 0, ckk1 = g.taps,
): void {
  const { inChannels: cn, inHeight: h, inWidth: w, kernelHeight: kh, kernelWidth: kw } = g;
  const { strideHeight: sh, strideWidth: sw, padTop: ph, padLeft: pw, outHeight: ho, outWidth: wo } = g;
  const np = g.outPixels;
  let ckk = 0;
  for (let c = 0; c < cn; c++) {
    const plane = xOff + c * h * w;
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++, ckk++) {
        if (ckk < ckk0 || ckk >= ckk1) continue; // another thread's columns
        const lo = colLo(g, v), hi = colHi(g, v, lo);
        let d = ((ckk - (ckk % NR)) * np) + (ckk % NR);
        for (let i = 0; i < ho; i++) {
          const r = i * sh + u - ph;
          if (r < 0 || r >= h) {
            for (let jo = 0; jo < wo; jo++, d += NR) dst[d] = 0;
            continue;
          }
          const row = plane + r * w + v - pw;
          let jo = 0;
          for (; jo < lo; jo++, d += NR) dst[d] = 0;
          for (let s = row + jo * sw; jo < hi; jo++, s += sw, d += NR) dst[d] = x[s];
          for (; jo < wo; jo++, d += NR) dst[d] = 0;
        }
      }
    }
  }
}

/**
 * Scatter-adds a column matrix (row ckk at col[ckk·ldc + p]) back into one image dx
 * (c·h·w values starting at 0), skipping the padded border.
 */
export function col2im(col: Float64Array, ldc: number, g: Conv2DInfo, dx: Float64Array): void {
  const { inChannels: cn, inHeight: h, inWidth: w, kernelHeight: kh, kernelWidth: kw } = g;
  const { strideHeight: sh, strideWidth: sw, padTop: ph, padLeft: pw, outHeight: ho, outWidth: wo } = g;
  let ckk = 0;
  for (let c = 0; c < cn; c++) {
    const plane = c * h * w;
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++, ckk++) {
        const lo = colLo(g, v), hi = colHi(g, v, lo);
        if (hi <= lo) continue;
        const crow = ckk * ldc;
        for (let i = 0; i < ho; i++) {
          const r = i * sh + u - ph;
          if (r < 0 || r >= h) continue;
          let d = plane + r * w + v - pw + lo * sw;
          const s0 = crow + i * wo;
          if (sw === 1) {
            for (let jo = lo; jo < hi; jo++, d++) dx[d] += col[s0 + jo];
          } else {
            for (let jo = lo; jo < hi; jo++, d += sw) dx[d] += col[s0 + jo];
          }
        }
      }
    }
  }
}
