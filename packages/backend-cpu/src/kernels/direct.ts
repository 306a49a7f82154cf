/**
 * Direct ("implicit GEMM") convolution kernels: no column matrix. Each image is copied
 * once into a zero-padded Float64 plane (so borders, padding and the Float32→Float64
 * conversion cost nothing in the inner loops), and a tap (c, u, v) of the kernel is just
 * a constant offset off[t] = (c·Hp + u)·Wp + v from an output pixel's window origin
 * base(i, j) = i·sh·Wp + j·sw. Both kernels use 4×4 register tiles like the GEMM:
 *
 * - forward: 4 filters × 4 output pixels of a row, looping over the taps;
 * - filter gradient: 4 filters × 4 taps, looping over the output pixels, accumulated
 *   over the whole batch without ever materialising colᵀ.
 *
 * For the paper's conv (C = 1, 5×5, 8 filters) im2col was ~35% of the forward pass
 * and the GEMM's k = 25 panels paid a tile load/store per 25 steps.
 */
import type { FusedActivation, TypedArray } from '@backprop/tensor';
import type { Scratch } from '../scratch.js';
import type { ConvGeom } from './im2col.js';
import { applyActivation, float32Bits } from './util.js';

/**
 * Which algorithm the conv kernels use, for benchmarks and tests: 'auto' (the heuristics
 * in conv2d.ts / conv2dBackwardFilter.ts), 'direct', 'gemm' (im2col + GEMM), and
 * 'winograd' (forward and input gradient; falls back to GEMM where it does not apply) or
 * 'sparse' (filter gradient over dy's non-zeros).
 */
export const convAlgorithm: {
  forward: 'auto' | 'direct' | 'gemm' | 'winograd';
  filter: 'auto' | 'direct' | 'gemm' | 'sparse';
  input: 'auto' | 'gemm' | 'winograd';
} = { forward: 'auto', filter: 'auto', input: 'auto' };

/**
 * 'auto' takes the sparse filter gradient when at most this fraction of dy is non-zero.
 * Measured on the paper's conv (batch 32): sparse 1.3 ms at 23 % density (dy behind 2×2
 * max pooling + ReLU) vs 2.9 ms for im2colᵀ + GEMM, and 3.8 ms on a dense dy: break-even
 * near 70 %. The margin is for wider convolutions, where the GEMM runs closer to its peak.
 */
export const SPARSE_FILTER_MAX_DENSITY = 0.4;

/** Padded plane sizes: the rows/columns any window reads (at least the image). */
function paddedDims(g: ConvGeom): { hp: number; wp: number } {
  const hp = Math.max(g.h + 2 * g.ph, (g.ho - 1) * g.sh + g.kh);
  const wp = Math.max(g.w + 2 * g.pw, (g.wo - 1) * g.sw + g.kw);
  return { hp, wp };
}

/** Copies image `xOff` into dst as C planes of hp×wp with the image at (ph, pw), zeros elsewhere. */
export function padImage(x: TypedArray, xOff: number, g: ConvGeom, hp: number, wp: number, dst: Float64Array, zeroed: boolean): void {
  const { c: cn, h, w, ph, pw } = g;
  if (!zeroed) dst.fill(0, 0, cn * hp * wp);
  for (let c = 0; c < cn; c++) {
    for (let r = 0; r < h; r++) {
      const s = xOff + (c * h + r) * w;
      const d = (c * hp + r + ph) * wp + pw;
      for (let j = 0; j < w; j++) dst[d + j] = x[s + j];
    }
  }
}

/** Tap offsets off[t] = (c·hp + u)·wp + v for t = (c·kh + u)·kw + v, padded to a multiple of 4 with 0. */
function tapOffsets(g: ConvGeom, wp: number, hp: number, out: Int32Array): void {
  let t = 0;
  for (let c = 0; c < g.c; c++) for (let u = 0; u < g.kh; u++) for (let v = 0; v < g.kw; v++) out[t++] = (c * hp + u) * wp + v;
  for (; t < out.length; t++) out[t] = 0;
}

const offsetCache = new Map<string, Int32Array>();
function offsetsFor(g: ConvGeom, hp: number, wp: number): Int32Array {
  const key = `${g.c},${g.kh},${g.kw},${hp},${wp}`;
  let off = offsetCache.get(key);
  if (off === undefined) {
    const taps = g.c * g.kh * g.kw;
    off = new Int32Array(Math.ceil(taps / 4) * 4);
    tapOffsets(g, wp, hp, off);
    if (offsetCache.size > 64) offsetCache.clear();
    offsetCache.set(key, off);
  }
  return off;
}

/**
 * y = act(conv(x, K) + b) for images [img0, img1) of a batch (NCHW), writing every element
 * of those images in `o`. Filters are packed as ⌈F/4⌉ panels of [tap][4] (zero-padded rows).
 */
export function conv2dDirect(
  s: Scratch, xv: TypedArray, kv: TypedArray, bv: TypedArray | undefined,
  n: number, f: number, g: ConvGeom, o: TypedArray, activation: FusedActivation, alpha: number,
  img0 = 0, img1 = n,
): void {
  const { hp, wp } = paddedDims(g);
  const taps = g.c * g.kh * g.kw;
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
  const plane = g.c * hp * wp;
  const xp = s.scratch('direct.x', plane);
  const { ho, wo, sh, sw } = g;
  const np = ho * wo;
  const xStride = g.c * g.h * g.w;
  const oStride = f * np;
  const zeroBorder = hp === g.h && wp === g.w;
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
  s: Scratch, xv: TypedArray, gv: TypedArray, n: number, f: number, g: ConvGeom, o: TypedArray,
): void {
  const { hp, wp } = paddedDims(g);
  const taps = g.c * g.kh * g.kw;
  const off = offsetsFor(g, hp, wp);
  const tPanels = off.length / 4;
  const fPanels = Math.ceil(f / 4);
  const { ho, wo, sh, sw } = g;
  const np = ho * wo;
  const acc = s.scratch('directBF.acc', fPanels * 4 * tPanels * 4);
  acc.fill(0, 0, fPanels * 4 * tPanels * 4);
  const ldAcc = tPanels * 4;
  const xp = s.scratch('directBF.x', g.c * hp * wp);
  const dp = s.scratch('directBF.dy', fPanels * np * 4);
  const xStride = g.c * g.h * g.w;
  const gStride = f * np;
  const zeroBorder = hp === g.h && wp === g.w;
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

/**
 * ∂K[f, t] += Σ_n Σ_{p : dy[n,f,p] ≠ 0} dy[n, f, p] · xpad_n[base(p) + off[t]] for filters
 * [f0, f1), into the Float64 buffer `c` (row f at f·ldc, ldc ≥ taps rounded up to 4; the
 * padding columns receive garbage and are never read).
 *
 * Behind max pooling at most one gradient per pooling window is non-zero (and ReLU clears
 * more), so dy is mostly zeros: this kernel lists each (image, filter)'s non-zeros once and
 * runs the taps, eight at a time in registers, over that list only. The sum for one
 * output element runs over images, then pixels, in order, whatever [f0, f1) is.
 */
export function conv2dBackwardFilterSparse(
  s: Scratch, xv: TypedArray, gv: TypedArray, n: number, f: number, g: ConvGeom,
  c: Float64Array, ldc: number, f0 = 0, f1 = f,
): void {
  const { hp, wp } = paddedDims(g);
  const off = offsetsFor(g, hp, wp);
  const taps4 = off.length;
  const { ho, wo, sh, sw } = g;
  const np = ho * wo;
  const xp = s.scratch('sparseBF.x', g.c * hp * wp);
  // The non-zeros: window origin in the padded plane, and gradient.
  const pos = positionScratch(np + 1);
  const val = s.scratch('sparseBF.val', np + 1);
  const xStride = g.c * g.h * g.w;
  const gStride = f * np;
  const zeroBorder = hp === g.h && wp === g.w;
  const bits = gv instanceof Float32Array ? float32Bits(gv) : null;
  for (let img = 0; img < n; img++) {
    let padded = false;
    for (let fi = f0; fi < f1; fi++) {
      const src = img * gStride + fi * np;
      let cnt = 0;
      for (let i = 0, p = src; i < ho; i++) {
        const rowBase = i * sh * wp;
        for (let j = 0; j < wo; j++, p++) {
          // Written always, kept only when non-zero: no branch to mispredict on a random
          // pattern. float32 tests the bits (±0 have none but the sign), which measured
          // faster than comparing the converted value.
          pos[cnt] = rowBase + j * sw;
          val[cnt] = gv[p];
          if (bits !== null) {
            const u = bits[p] << 1;
            cnt += (u | -u) >>> 31;
          } else {
            cnt += +(gv[p] !== 0);
          }
        }
      }
      if (cnt === 0) continue;
      if (!padded) {
        padImage(xv, img * xStride, g, hp, wp, xp, zeroBorder);
        padded = true;
      }
      const row = fi * ldc;
      let t = 0;
      // Eight taps per pass over the list, then a last four if the padded tap count needs it.
      for (; t + 8 <= taps4; t += 8) {
        const o0 = off[t], o1 = off[t + 1], o2 = off[t + 2], o3 = off[t + 3];
        const o4 = off[t + 4], o5 = off[t + 5], o6 = off[t + 6], o7 = off[t + 7];
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        for (let q = 0; q < cnt; q++) {
          const b = pos[q], v = val[q];
          a0 += v * xp[b + o0]; a1 += v * xp[b + o1]; a2 += v * xp[b + o2]; a3 += v * xp[b + o3];
          a4 += v * xp[b + o4]; a5 += v * xp[b + o5]; a6 += v * xp[b + o6]; a7 += v * xp[b + o7];
        }
        c[row + t] += a0; c[row + t + 1] += a1; c[row + t + 2] += a2; c[row + t + 3] += a3;
        c[row + t + 4] += a4; c[row + t + 5] += a5; c[row + t + 6] += a6; c[row + t + 7] += a7;
      }
      if (t < taps4) {
        const o0 = off[t], o1 = off[t + 1], o2 = off[t + 2], o3 = off[t + 3];
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (let q = 0; q < cnt; q++) {
          const b = pos[q], v = val[q];
          a0 += v * xp[b + o0]; a1 += v * xp[b + o1]; a2 += v * xp[b + o2]; a3 += v * xp[b + o3];
        }
        c[row + t] += a0; c[row + t + 1] += a1; c[row + t + 2] += a2; c[row + t + 3] += a3;
      }
    }
  }
}

// Integer scratch for conv2dBackwardFilterSparse (one per thread: workers load their own module).
let positions = new Int32Array(0);
function positionScratch(size: number): Int32Array {
  if (positions.length < size) positions = new Int32Array(size);
  return positions;
}

/** Fraction of non-zero values in v; stops counting once it is certainly above `limit`. */
export function nonZeroFraction(v: TypedArray, limit = 1): number {
  const len = v.length;
  if (len === 0) return 0;
  const stopAt = limit * len;
  let nonZero = 0;
  // Counted without a branch per element (a data-dependent `if` mispredicts on sparse data).
  for (let start = 0; start < len; start += 4096) {
    const end = Math.min(len, start + 4096);
    for (let i = start; i < end; i++) nonZero += +(v[i] !== 0);
    if (nonZero > stopAt) break;
  }
  return nonZero / len;
}
