/**
 * Winograd convolution F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks", 2016) for 3×3 kernels at stride 1:
 *
 *   Y_tile = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 *
 * per 2×2 output tile, with d the 4×4 input patch and g the 3×3 kernel. Summed over input
 * channels, the element-wise product becomes 16 GEMMs, M[ξ] = U[ξ]·V[ξ] (ξ = one of the
 * 4×4 transform positions; U[ξ] is F×C, V[ξ] is C×tiles), with 16 multiply-adds per tile
 * and channel pair instead of 36: 1.9× fewer for Model B's second conv (11×11 output). The
 * transforms are additions only and are shared across filters (input) or channels (output),
 * so the kernel is worth it when C and F are both large enough (@backprop/tensor's winogradPays,
 * which conv2d.ts asks).
 * Like the other paths it accumulates in Float64; results differ from the direct sum by
 * rounding only (the transforms use 0, ±1 and ±½), for finite inputs: ±Infinity would
 * meet its own negation in the transforms and give NaN, so conv2d.ts does not use this
 * kernel when x or the filter holds a non-finite value.
 */
import type { Conv2DInfo, FusedActivation, TypedArray } from '@backprop/tensor';
import type { Scratch } from '../scratch.js';
import { gemmBlock, MR, NR, roundUp } from './gemm.js';
import { padImage } from './paddedImage.js';
import { applyActivation } from './util.js';

/**
 * The transformed filters U[ξ][f][c] = (G g Gᵀ)[ξ] for conv2dWinograd, computed once per
 * kernel call on the calling thread (in the backend's scratch, shared with the workers).
 * `flipped`: of the kernel rotated by 180° with F and C swapped, g'[c][f] = rot180(K[f][c]),
 * the input gradient's convolution (conv2dBackwardInput.ts inputGradientGeom); then U has C filters of F channels.
 */
export function winogradFilters(s: Scratch, kv: TypedArray, f: number, c: number, flipped: boolean): Float64Array {
  const u = s.scratch('winograd.u', 16 * f * c);
  if (!flipped) {
    transformFilters(kv, f, c, u);
    return u;
  }
  const kFlip = s.scratch('winograd.flip', c * f * 9);
  for (let ci = 0; ci < c; ci++) {
    for (let fi = 0; fi < f; fi++) {
      const src = (fi * c + ci) * 9, dst = (ci * f + fi) * 9;
      for (let t = 0; t < 9; t++) kFlip[dst + t] = kv[src + 8 - t];
    }
  }
  transformFilters(kFlip, c, f, u);
  return u;
}

/**
 * Images per GEMM column block: about this many tiles, enough columns to keep the GEMMs
 * efficient (an image with more tiles than this makes a block on its own).
 */
const TILES_PER_BLOCK = 256;

/** U[ξ][f][c] = (G g Gᵀ)[ξ] for every filter f and channel c. */
function transformFilters(kv: TypedArray, f: number, c: number, u: Float64Array): void {
  const fc = f * c;
  const r = new Float64Array(12);
  for (let fi = 0; fi < f; fi++) {
    for (let ci = 0; ci < c; ci++) {
      const k = (fi * c + ci) * 9;
      // G g: rows g0, (g0+g1+g2)/2, (g0−g1+g2)/2, g2 — each of 3 columns.
      for (let j = 0; j < 3; j++) {
        const g0 = kv[k + j], g1 = kv[k + 3 + j], g2 = kv[k + 6 + j];
        r[j] = g0;
        r[3 + j] = 0.5 * (g0 + g1 + g2);
        r[6 + j] = 0.5 * (g0 - g1 + g2);
        r[9 + j] = g2;
      }
      // (G g) Gᵀ: the same combination along each row.
      const at = fi * c + ci;
      for (let i = 0; i < 4; i++) {
        const r0 = r[3 * i], r1 = r[3 * i + 1], r2 = r[3 * i + 2];
        u[(4 * i) * fc + at] = r0;
        u[(4 * i + 1) * fc + at] = 0.5 * (r0 + r1 + r2);
        u[(4 * i + 2) * fc + at] = 0.5 * (r0 - r1 + r2);
        u[(4 * i + 3) * fc + at] = r2;
      }
    }
  }
}

/**
 * y = act(conv(x, K) + b) for images [img0, img1) (NCHW), 3×3 kernel, stride 1, through
 * F(2×2, 3×3), with `u` = winogradFilters(K). Writes every element of those images in `o`.
 */
export function conv2dWinograd(
  s: Scratch, xv: TypedArray, u: Float64Array, bv: TypedArray | undefined,
  n: number, f: number, g: Conv2DInfo, o: TypedArray, activation: FusedActivation, alpha: number,
  img0 = 0, img1 = n,
): void {
  const { inChannels: c, outHeight: ho, outWidth: wo } = g;
  const th = Math.ceil(ho / 2), tw = Math.ceil(wo / 2);
  const tilesPerImage = th * tw;
  // The padded plane covers every tile's 4×4 patch (the last tile may hang past the output).
  const hp = 2 * th + 2, wp = 2 * tw + 2;
  const plane = hp * wp;
  const xp = s.scratch('wino.x', c * plane);
  const fc = f * c;

  const imagesPerBlock = Math.max(1, Math.floor(TILES_PER_BLOCK / tilesPerImage));
  const maxCols = Math.min(img1 - img0, imagesPerBlock) * tilesPerImage;
  const ldv = maxCols;
  const v = s.scratch('wino.v', 16 * c * ldv);
  const fp = roundUp(f, MR);
  const ldm = roundUp(maxCols, NR);
  const mAll = s.scratch('wino.m', 16 * fp * ldm);
  const xStride = g.inImageSize;
  const oStride = f * ho * wo;
  const hw = ho * wo;

  for (let first = img0; first < img1; first += imagesPerBlock) {
    const last = Math.min(img1, first + imagesPerBlock);
    const cols = (last - first) * tilesPerImage;
    // ---- V[ξ][c][col] = (Bᵀ d B)[ξ] for each channel and tile
    for (let img = first; img < last; img++) {
      padImage(xv, img * xStride, g, hp, wp, xp, false);
      const col0 = (img - first) * tilesPerImage;
      for (let ci = 0; ci < c; ci++) {
        const pb = ci * plane;
        const vRow = ci * ldv;
        for (let ti = 0; ti < th; ti++) {
          for (let tj = 0; tj < tw; tj++) {
            const p = pb + 2 * ti * wp + 2 * tj;
            const col = vRow + col0 + ti * tw + tj;
            // Bᵀ d: rows d0 − d2, d1 + d2, d2 − d1, d1 − d3 (column by column).
            const d00 = xp[p], d01 = xp[p + 1], d02 = xp[p + 2], d03 = xp[p + 3];
            const q1 = p + wp, q2 = p + 2 * wp, q3 = p + 3 * wp;
            const d10 = xp[q1], d11 = xp[q1 + 1], d12 = xp[q1 + 2], d13 = xp[q1 + 3];
            const d20 = xp[q2], d21 = xp[q2 + 1], d22 = xp[q2 + 2], d23 = xp[q2 + 3];
            const d30 = xp[q3], d31 = xp[q3 + 1], d32 = xp[q3 + 2], d33 = xp[q3 + 3];
            const a0 = d00 - d20, a1 = d01 - d21, a2 = d02 - d22, a3 = d03 - d23;
            const b0 = d10 + d20, b1 = d11 + d21, b2 = d12 + d22, b3 = d13 + d23;
            const e0 = d20 - d10, e1 = d21 - d11, e2 = d22 - d12, e3 = d23 - d13;
            const h0 = d10 - d30, h1 = d11 - d31, h2 = d12 - d32, h3 = d13 - d33;
            // (Bᵀ d) B: the same combination along each row; ξ = 4·row + column.
            const cs = c * ldv;
            v[col] = a0 - a2; v[col + cs] = a1 + a2; v[col + 2 * cs] = a2 - a1; v[col + 3 * cs] = a1 - a3;
            v[col + 4 * cs] = b0 - b2; v[col + 5 * cs] = b1 + b2; v[col + 6 * cs] = b2 - b1; v[col + 7 * cs] = b1 - b3;
            v[col + 8 * cs] = e0 - e2; v[col + 9 * cs] = e1 + e2; v[col + 10 * cs] = e2 - e1; v[col + 11 * cs] = e1 - e3;
            v[col + 12 * cs] = h0 - h2; v[col + 13 * cs] = h1 + h2; v[col + 14 * cs] = h2 - h1; v[col + 15 * cs] = h1 - h3;
          }
        }
      }
    }
    // ---- M[ξ] = U[ξ] · V[ξ]: 16 GEMMs (F × C) · (C × cols)
    const mSize = fp * ldm;
    mAll.fill(0, 0, 16 * mSize);
    for (let xi = 0; xi < 16; xi++) {
      gemmBlock(s, c, u, xi * fc, c, 1, v, xi * c * ldv, ldv, 1, mAll, ldm, 0, f, 0, cols, xi * mSize);
    }
    // ---- Y = Aᵀ m A + b for each filter and tile, cut to the output size
    for (let img = first; img < last; img++) {
      const col0 = (img - first) * tilesPerImage;
      const ob = img * oStride;
      for (let fi = 0; fi < f; fi++) {
        const bias = bv !== undefined ? bv[fi] : 0;
        const oPlane = ob + fi * hw;
        for (let ti = 0; ti < th; ti++) {
          for (let tj = 0; tj < tw; tj++) {
            const at = fi * ldm + col0 + ti * tw + tj;
            const m0 = mAll[at], m1 = mAll[at + mSize], m2 = mAll[at + 2 * mSize], m3 = mAll[at + 3 * mSize];
            const m4 = mAll[at + 4 * mSize], m5 = mAll[at + 5 * mSize], m6 = mAll[at + 6 * mSize], m7 = mAll[at + 7 * mSize];
            const m8 = mAll[at + 8 * mSize], m9 = mAll[at + 9 * mSize], m10 = mAll[at + 10 * mSize], m11 = mAll[at + 11 * mSize];
            const m12 = mAll[at + 12 * mSize], m13 = mAll[at + 13 * mSize], m14 = mAll[at + 14 * mSize], m15 = mAll[at + 15 * mSize];
            // Aᵀ m: rows m0 + m1 + m2 and m1 − m2 − m3 (of the 4×4 m, ξ = 4·row + column); then the same along each row.
            const s00 = m0 + m4 + m8, s01 = m1 + m5 + m9, s02 = m2 + m6 + m10, s03 = m3 + m7 + m11;
            const s10 = m4 - m8 - m12, s11 = m5 - m9 - m13, s12 = m6 - m10 - m14, s13 = m7 - m11 - m15;
            const y = 2 * ti, x = 2 * tj;
            const row0 = oPlane + y * wo + x;
            o[row0] = s00 + s01 + s02 + bias;
            const lastCol = x + 1 < wo;
            if (lastCol) o[row0 + 1] = s01 - s02 - s03 + bias;
            if (y + 1 < ho) {
              o[row0 + wo] = s10 + s11 + s12 + bias;
              if (lastCol) o[row0 + wo + 1] = s11 - s12 - s13 + bias;
            }
          }
        }
      }
      applyActivation(o, ob, ob + oStride, activation, alpha);
    }
  }
}
