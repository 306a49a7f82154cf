/** The geometry arguments every convolution export takes, from computeConv2DInfo. */
import type { Conv2DInfo } from '@backprop/tensor';

/** [n, c, h, w, f, kh, kw, sh, sw, ph, pw, ho, wo]. */
export function convDims(g: Conv2DInfo): [number, number, number, number, number, number, number, number, number, number, number, number, number] {
  return [
    g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.kernelHeight, g.kernelWidth,
    g.strideHeight, g.strideWidth, g.padTop, g.padLeft, g.outHeight, g.outWidth,
  ];
}

/** convDims for `n` images of the batch (a sub-batch one thread computes). */
export function subBatch(g: Conv2DInfo, n: number): ReturnType<typeof convDims> {
  const dims = convDims(g);
  dims[0] = n;
  return dims;
}

/** Multiply-adds ×2 of the convolution's GEMMs over the whole batch (what decides whether to split it). */
export function convFlop(g: Conv2DInfo): number {
  return 2 * g.batch * g.outChannels * g.outPixels * g.taps;
}

/** Whether im2col can be skipped: a 1×1 stride-1 unpadded convolution's column matrix is the image. */
export function isPointwise(g: Conv2DInfo): boolean {
  return g.kernelHeight === 1 && g.kernelWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 && g.padTop === 0 && g.padLeft === 0;
}

/** Bytes of one image's column matrix (C·kh·kw × Ho·Wo floats), 0 where it is not needed. */
export function columnBytes(g: Conv2DInfo): number {
  return isPointwise(g) ? 0 : g.taps * g.outPixels * 4;
}
