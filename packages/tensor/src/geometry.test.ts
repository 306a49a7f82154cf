import { describe, expect, it } from 'vitest';
import { BackpropError } from './errors.js';
import { computeConv2DInfo, computePool2DInfo, matMulDims, convOutputSize, winogradApplies, winogradPays } from './geometry.js';

describe('computeConv2DInfo', () => {
  it('gives every size and count of a conv (worked example W1 (apps/docs/math/convolution.md), Eq 2.1 with the floor)', () => {
    const g = computeConv2DInfo([2, 3, 5, 4], [8, 3, 2, 3], [2, 1], [0, 1]);
    expect(g).toEqual({
      batch: 2, inChannels: 3, inHeight: 5, inWidth: 4, outChannels: 8,
      kernelHeight: 2, kernelWidth: 3, strideHeight: 2, strideWidth: 1, padTop: 0, padLeft: 1,
      outHeight: 2, outWidth: 4,
      taps: 3 * 2 * 3, outPixels: 8, inImageSize: 60, outImageSize: 64,
      outShape: [2, 8, 2, 4],
    });
    for (const [h, k, s, p, o] of [[4, 2, 1, 0, 3], [4, 2, 2, 1, 3], [5, 2, 2, 0, 2], [4, 3, 2, 1, 2]]) {
      expect(computeConv2DInfo([1, 1, h, h], [1, 1, k, k], [s, s], [p, p]).outHeight).toBe(o);
      expect(convOutputSize('conv2d', h, k, s, p)).toBe(o);
    }
  });

  it('takes the filter as { filters, kernelSize } before a layer has one', () => {
    expect(computeConv2DInfo([1, 3, 28, 28], { filters: 6, kernelSize: [5, 5] }, [1, 1], [2, 2])).toEqual(
      computeConv2DInfo([1, 3, 28, 28], [6, 3, 5, 5], [1, 1], [2, 2]),
    );
  });

  it('names the op and the numbers when the kernel does not fit or the channels differ', () => {
    expect(() => computeConv2DInfo([1, 1, 4, 4], [1, 1, 5, 5], [1, 1], [0, 0])).toThrow(
      new BackpropError('conv2d', '5×5 kernel does not fit the 4×4 input with padding 0'),
    );
    expect(() => computeConv2DInfo([1, 1, 4, 4], [1, 1, 7, 3], [1, 1], [1, 0], 'layer 0 (Conv2D)')).toThrow(
      'layer 0 (Conv2D): 7×3 kernel does not fit the 4×4 input with padding 1×0',
    );
    expect(() => computeConv2DInfo([1, 3, 4, 4], [1, 1, 2, 2], [1, 1], [0, 0], 'conv2dBackwardInput')).toThrow(
      'conv2dBackwardInput: input has 3 channels but filter expects 1',
    );
    expect(() => computeConv2DInfo([3, 4, 4], [1, 1, 2, 2], [1, 1], [0, 0])).toThrow('conv2d: the input shape must have 4 dimensions, got [3, 4, 4]');
    // The padded input may be exactly the kernel: one output.
    expect(computeConv2DInfo([1, 1, 1, 1], [1, 1, 3, 3], [1, 1], [1, 1]).outShape).toEqual([1, 1, 1, 1]);
  });
});

describe('computePool2DInfo', () => {
  it('gives every size and count of a pooling (Eq 2.2 with the floor, channels unchanged)', () => {
    expect(computePool2DInfo([2, 3, 7, 6], [3, 2], [2, 1])).toEqual({
      batch: 2, channels: 3, inHeight: 7, inWidth: 6, poolHeight: 3, poolWidth: 2, strideHeight: 2, strideWidth: 1,
      outHeight: 3, outWidth: 5, planes: 6, windowSize: 6, outShape: [2, 3, 3, 5],
    });
    expect(computePool2DInfo([1, 1, 4, 4], [2, 2], [2, 2]).outShape).toEqual([1, 1, 2, 2]);
  });

  it('names the op and the numbers when the window does not fit', () => {
    expect(() => computePool2DInfo([1, 1, 3, 3], [4, 4], [4, 4], 'maxPool')).toThrow(
      new BackpropError('maxPool', '4×4 pool window does not fit the 3×3 input'),
    );
  });
});

describe('matMulDims', () => {
  it('reads m, k and n through each transpose flag from the stored shapes', () => {
    // A stored 2×3, B stored 3×4: op(A)·op(B) = (2×3)·(3×4).
    expect(matMulDims([2, 3], [3, 4], false, false)).toEqual({ m: 2, k: 3, kB: 3, n: 4 });
    // Aᵀ of a stored 3×2 is 2×3; Bᵀ of a stored 4×3 is 3×4.
    expect(matMulDims([3, 2], [4, 3], true, true)).toEqual({ m: 2, k: 3, kB: 3, n: 4 });
    expect(matMulDims([3, 2], [3, 4], true, false)).toEqual({ m: 2, k: 3, kB: 3, n: 4 });
    // Shapes that do not multiply come back as they are, for the op to name.
    expect(matMulDims([2, 3], [5, 4], false, false)).toEqual({ m: 2, k: 3, kB: 5, n: 4 });
  });
});

describe('winogradApplies and winogradPays', () => {
  const info = (x: number[], k: number[], strides: [number, number] = [1, 1], pad: [number, number] = [0, 0]) =>
    computeConv2DInfo(x as [number, number, number, number], k as [number, number, number, number], strides, pad);

  it('applies to 3×3 kernels at stride 1 with any padding and a non-empty output, nothing else', () => {
    expect(winogradApplies(info([1, 1, 5, 5], [1, 1, 3, 3]))).toBe(true);
    expect(winogradApplies(info([1, 1, 5, 5], [1, 1, 3, 3], [1, 1], [2, 1]))).toBe(true);
    expect(winogradApplies(info([1, 1, 5, 5], [1, 1, 3, 3], [2, 2]))).toBe(false);
    expect(winogradApplies(info([1, 1, 5, 5], [1, 1, 3, 3], [1, 2]))).toBe(false);
    expect(winogradApplies(info([1, 1, 5, 5], [1, 1, 5, 5]))).toBe(false);
    expect(winogradApplies(info([1, 1, 5, 5], [1, 1, 3, 1]))).toBe(false);
    expect(winogradApplies(info([0, 1, 5, 5], [1, 1, 3, 3]))).toBe(true);
  });

  it('pays from 8 channels and 8 filters, where the 2×2 tiles undercut 9 products an output by 20 %', () => {
    // Model B's second conv: 32 channels of 13×13, 64 filters → 11×11 outputs, 36 tiles: 576 ≤ 0.8·9·121 = 871.2.
    expect(winogradPays(info([1, 32, 13, 13], [64, 32, 3, 3]))).toBe(true);
    expect(winogradPays(info([1, 7, 13, 13], [64, 7, 3, 3]))).toBe(false);
    expect(winogradPays(info([1, 8, 13, 13], [7, 8, 3, 3]))).toBe(false);
    expect(winogradPays(info([1, 8, 13, 13], [8, 8, 3, 3]))).toBe(true);
    // A 3×3 output: 4 tiles, 64 ≤ 0.8·9·9 = 64.8 pays; a 1×1 output: 16 > 7.2 does not.
    expect(winogradPays(info([1, 16, 5, 5], [16, 16, 3, 3]))).toBe(true);
    expect(winogradPays(info([1, 16, 3, 3], [16, 16, 3, 3]))).toBe(false);
    // A 2×1 output: one tile, 16 > 0.8·9·2 = 14.4.
    expect(winogradPays(info([1, 16, 4, 3], [16, 16, 3, 3]))).toBe(false);
    // Geometry Winograd does not compute never pays, however many channels.
    expect(winogradPays(info([1, 64, 32, 32], [64, 64, 3, 3], [2, 2]))).toBe(false);
    expect(winogradPays(info([1, 64, 32, 32], [64, 64, 5, 5]))).toBe(false);
  });
});
