/**
 * Zero-padded Float64 copies of an image, the input of the direct, sparse and Winograd
 * convolution loops (direct.ts, sparseFilterGradient.ts, winograd.ts). Each image is
 * copied once into C planes of Hp×Wp with the zero padding written out, so borders,
 * padding and the Float32→Float64 conversion cost nothing in the inner loops, and a tap
 * (c, u, v) of the kernel is just a constant offset off[t] = (c·Hp + u)·Wp + v from an
 * output pixel's window origin base(i, j) = i·sh·Wp + j·sw.
 */
import type { Conv2DInfo, TypedArray } from '@backprop/tensor';

/** Padded plane sizes: the rows/columns any window reads (at least the image). */
export function paddedDims(g: Conv2DInfo): { hp: number; wp: number } {
  const hp = Math.max(g.inHeight + 2 * g.padTop, (g.outHeight - 1) * g.strideHeight + g.kernelHeight);
  const wp = Math.max(g.inWidth + 2 * g.padLeft, (g.outWidth - 1) * g.strideWidth + g.kernelWidth);
  return { hp, wp };
}

/** Copies image `xOff` into dst as C planes of hp×wp with the image at (ph, pw), zeros elsewhere. */
export function padImage(x: TypedArray, xOff: number, g: Conv2DInfo, hp: number, wp: number, dst: Float64Array, zeroed: boolean): void {
  const { inChannels: cn, inHeight: h, inWidth: w, padTop: ph, padLeft: pw } = g;
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
function tapOffsets(g: Conv2DInfo, wp: number, hp: number, out: Int32Array): void {
  let t = 0;
  for (let c = 0; c < g.inChannels; c++) {
    for (let u = 0; u < g.kernelHeight; u++) for (let v = 0; v < g.kernelWidth; v++) out[t++] = (c * hp + u) * wp + v;
  }
  for (; t < out.length; t++) out[t] = 0;
}

const offsetCache = new Map<string, Int32Array>();
/** The tap offsets for this geometry and plane size (cached: the same layers run every batch). */
export function offsetsFor(g: Conv2DInfo, hp: number, wp: number): Int32Array {
  const key = `${g.inChannels},${g.kernelHeight},${g.kernelWidth},${hp},${wp}`;
  let off = offsetCache.get(key);
  if (off === undefined) {
    const taps = g.taps;
    off = new Int32Array(Math.ceil(taps / 4) * 4);
    tapOffsets(g, wp, hp, off);
    if (offsetCache.size > 64) offsetCache.clear();
    offsetCache.set(key, off);
  }
  return off;
}
