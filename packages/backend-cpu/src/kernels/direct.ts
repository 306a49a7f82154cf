/**
 * Direct ("implicit GEMM") convolution kernels: no column matrix. They read the image
 * from a zero-padded plane (paddedImage.ts), a tap at a constant offset from each output
 * pixel's window origin. Both kernels use 4×4 register tiles like the GEMM:
 *
 * - forward: 4 filters × 4 output pixels of a row, looping over the taps;
 * - filter gradient: 4 filters × 4 taps, looping over the output pixels, accumulated
 *   over the whole batch without ever materialising colᵀ.
 *
 * For the paper's conv (C = 1, 5×5, 8 filters) im2col was ~35% of the forward pass
 * and the GEMM's k = 25 panels paid a tile load/store per 25 steps.
 */
import type { Conv2DInfo, FusedActivation, TypedArray } from '@backprop/tensor';
import type { Scratch } from '../scratch.js';
import { offsetsFor, padImage, paddedDims } from './paddedImage.js';
import { applyActivation } from './util.js';

/**
 * y = act(conv(x, K) + b) for images [img0, img1) of a batch (NCHW), writing every element
 * of those images in `o`. Filters are packed as ⌈F/4⌉ panels of [tap][4] (zero-padded rows).
 */
export function conv2dDirect(
  s: Scratch, xv: TypedArray, kv: TypedArray, bv: TypedArray | undefined,
  n: number, f: number, g: Conv2DInfo, o: TypedArray, activation: FusedActivation, alpha: number,
  img0 = 0, img1 = n,
): void {
  const { hp, wp } = paddedDims(g);
  const taps = g.taps;
  const off = offsetsFor(g, hp, wp);
  const fPanels = Math.ceil(f / 4);
  const kp = s.scratch('direct.k', fPanels * taps * 4);
  for (let fp = 0; fp < fPanels; fp++) {
    for (let t = 0; t < taps; t++) {
      for (let l = 0; l < 4; l++) {
        const fi = fp * 4 + l;
        kp[(fp * taps + t) * 4 + l] = fi < f ? kv[fi * taps + t] : 0;
      }
    }
  }
  const plane = g.inChannels * hp * wp;
  const xp = s.scratch('direct.x', plane);
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = g;
  const np = ho * wo;
  const xStride = g.inImageSize;
  const oStride = f * np;
  const zeroBorder = hp === g.inHeight && wp === g.inWidth;
  const wo4 = wo - (wo % 4);
  for (let img = img0; img < img1; img++) {
    padImage(xv, img * xStride, g, hp, wp, xp, zeroBorder);
    const ob = img * oStride;
    for (let fp = 0; fp < fPanels; fp++) {
      const kOff = fp * taps * 4;
      const f0 = fp * 4;
      const lanes = Math.min(4, f - f0);
      const b0 = bv !== undefined ? bv[f0] : 0;
      const b1 = bv !== undefined && lanes > 1 ? bv[f0 + 1] : 0;
      const b2 = bv !== undefined && lanes > 2 ? bv[f0 + 2] : 0;
      const b3 = bv !== undefined && lanes > 3 ? bv[f0 + 3] : 0;
      const o0 = ob + f0 * np;
      for (let i = 0; i < ho; i++) {
        const rowBase = i * sh * wp;
        const orow = o0 + i * wo;
        let j = 0;
        for (; j < wo4; j += 4) {
          const base = rowBase + j * sw;
          // 4 filters × 4 pixels (base, base+sw, base+2sw, base+3sw).
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
          for (let t = 0, kq = kOff; t < taps; t++, kq += 4) {
            const q = base + off[t];
            const x0 = xp[q], x1 = xp[q + sw], x2 = xp[q + 2 * sw], x3 = xp[q + 3 * sw];
            const k0 = kp[kq], k1 = kp[kq + 1], k2 = kp[kq + 2], k3 = kp[kq + 3];
            c00 += k0 * x0; c01 += k0 * x1; c02 += k0 * x2; c03 += k0 * x3;
            c10 += k1 * x0; c11 += k1 * x1; c12 += k1 * x2; c13 += k1 * x3;
            c20 += k2 * x0; c21 += k2 * x1; c22 += k2 * x2; c23 += k2 * x3;
            c30 += k3 * x0; c31 += k3 * x1; c32 += k3 * x2; c33 += k3 * x3;
          }
          let d = orow + j;
          o[d] = c00 + b0; o[d + 1] = c01 + b0; o[d + 2] = c02 + b0; o[d + 3] = c03 + b0;
          if (lanes > 1) {
            d += np;
            o[d] = c10 + b1; o[d + 1] = c11 + b1; o[d + 2] = c12 + b1; o[d + 3] = c13 + b1;
            if (lanes > 2) {
              d += np;
              o[d] = c20 + b2; o[d + 1] = c21 + b2; o[d + 2] = c22 + b2; o[d + 3] = c23 + b2;
              if (lanes > 3) {
                d += np;
                o[d] = c30 + b3; o[d + 1] = c31 + b3; o[d + 2] = c32 + b3; o[d + 3] = c33 + b3;
              }
            }
          }
        }
        for (; j < wo; j++) {
          // Row tail: 4 filters × 1 pixel.
          const base = rowBase + j * sw;
          let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
          for (let t = 0, kq = kOff; t < taps; t++, kq += 4) {
            const xv0 = xp[base + off[t]];
            c0 += kp[kq] * xv0; c1 += kp[kq + 1] * xv0; c2 += kp[kq + 2] * xv0; c3 += kp[kq + 3] * xv0;
          }
          const d = orow + j;
          o[d] = c0 + b0;
          if (lanes > 1) o[d + np] = c1 + b1;
          if (lanes > 2) o[d + 2 * np] = c2 + b2;
          if (lanes > 3) o[d + 3 * np] = c3 + b3;
        }
      }
    }
    applyActivation(o, ob, ob + oStride, activation, alpha);
  }
}

/**
 * ∂K[f, t] = Σ_n Σ_p dy[n, f, p] · xpad_n[base(p) + off[t]], written into `o` (F × taps).
 * dy of each image is packed as ⌈F/4⌉ panels of [p][4]; tiles are 4 filters × 4 taps.
 */
export function conv2dBackwardFilterDirect(
  s: Scratch, xv: TypedArray, gv: TypedArray, n: number, f: number, g: Conv2DInfo, o: TypedArray,
): void {
  const { hp, wp } = paddedDims(g);
  const taps = g.taps;
  const off = offsetsFor(g, hp, wp);
  const tPanels = off.length / 4;
  const fPanels = Math.ceil(f / 4);
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = g;
  const np = ho * wo;
  const acc = s.scratch('directBF.acc', fPanels * 4 * tPanels * 4);
  acc.fill(0, 0, fPanels * 4 * tPanels * 4);
  const ldAcc = tPanels * 4;
  const xp = s.scratch('directBF.x', g.inChannels * hp * wp);
  const dp = s.scratch('directBF.dy', fPanels * np * 4);
  const xStride = g.inImageSize;
  const gStride = f * np;
  const zeroBorder = hp === g.inHeight && wp === g.inWidth;
  for (let img = 0; img < n; img++) {
    padImage(xv, img * xStride, g, hp, wp, xp, zeroBorder);
    // Pack dy: panel fp holds [p][4] for filters 4fp..4fp+3 (zeros past F).
    const gb = img * gStride;
    for (let fp = 0; fp < fPanels; fp++) {
      const dOff = fp * np * 4;
      for (let l = 0; l < 4; l++) {
        const fi = fp * 4 + l;
        if (fi < f) {
          const src = gb + fi * np;
          for (let p = 0, d = dOff + l; p < np; p++, d += 4) dp[d] = gv[src + p];
        } else {
          for (let p = 0, d = dOff + l; p < np; p++, d += 4) dp[d] = 0;
        }
      }
    }
    for (let fp = 0; fp < fPanels; fp++) {
      const dOff = fp * np * 4;
      for (let tp = 0; tp < tPanels; tp++) {
        const o0 = off[tp * 4], o1 = off[tp * 4 + 1], o2 = off[tp * 4 + 2], o3 = off[tp * 4 + 3];
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let q = dOff;
        for (let i = 0; i < ho; i++) {
          const rowBase = i * sh * wp;
          const rowEnd = rowBase + wo * sw;
          for (let b = rowBase; b < rowEnd; b += sw, q += 4) {
            const d0 = dp[q], d1 = dp[q + 1], d2 = dp[q + 2], d3 = dp[q + 3];
            const x0 = xp[b + o0], x1 = xp[b + o1], x2 = xp[b + o2], x3 = xp[b + o3];
            c00 += d0 * x0; c01 += d0 * x1; c02 += d0 * x2; c03 += d0 * x3;
            c10 += d1 * x0; c11 += d1 * x1; c12 += d1 * x2; c13 += d1 * x3;
            c20 += d2 * x0; c21 += d2 * x1; c22 += d2 * x2; c23 += d2 * x3;
            c30 += d3 * x0; c31 += d3 * x1; c32 += d3 * x2; c33 += d3 * x3;
          }
        }
        let a = fp * 4 * ldAcc + tp * 4;
        acc[a] += c00; acc[a + 1] += c01; acc[a + 2] += c02; acc[a + 3] += c03; a += ldAcc;
        acc[a] += c10; acc[a + 1] += c11; acc[a + 2] += c12; acc[a + 3] += c13; a += ldAcc;
        acc[a] += c20; acc[a + 1] += c21; acc[a + 2] += c22; acc[a + 3] += c23; a += ldAcc;
        acc[a] += c30; acc[a + 1] += c31; acc[a + 2] += c32; acc[a + 3] += c33;
      }
    }
  }
  for (let fi = 0; fi < f; fi++) {
    const a = fi * ldAcc, d = fi * taps;
    for (let t = 0; t < taps; t++) o[d + t] = acc[a + t];
  }
}
