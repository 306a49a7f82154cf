/**
 * The filter gradient over dy's non-zeros only: behind max pooling (and ReLU) most of dy
 * is zero, and this kernel skips those terms instead of multiplying by them. It reads the
 * image from a zero-padded plane (paddedImage.ts). conv2dBackwardFilter.ts decides when
 * to use it (SPARSE_FILTER_MAX_DENSITY, finite x only).
 */
import type { Conv2DInfo, TypedArray } from '@backprop/tensor';
import type { Scratch } from '../scratch.js';
import { offsetsFor, padImage, paddedDims } from './paddedImage.js';
import { float32Bits } from './util.js';

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
  s: Scratch, xv: TypedArray, gv: TypedArray, n: number, f: number, g: Conv2DInfo,
  c: Float64Array, ldc: number, f0 = 0, f1 = f,
): void {
  const { hp, wp } = paddedDims(g);
  const off = offsetsFor(g, hp, wp);
  const taps4 = off.length;
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = g;
  const np = ho * wo;
  const xp = s.scratch('sparseBF.x', g.inChannels * hp * wp);
  // The non-zeros: window origin in the padded plane, and gradient.
  const pos = positionScratch(np + 1);
  const val = s.scratch('sparseBF.val', np + 1);
  const xStride = g.inImageSize;
  const gStride = f * np;
  const zeroBorder = hp === g.inHeight && wp === g.inWidth;
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
