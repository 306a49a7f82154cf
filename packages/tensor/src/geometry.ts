/**
 * Convolution, pooling and matMul geometry: the one place Backprop computes a conv or pool
 * output size (apps/docs/math/convolution.md and pooling.md, Eq 2.1 / 2.2 with the floor) and checks that the
 * window fits. The ops, the layers, the reference loops and every backend's kernels take
 * their numbers from `computeConv2DInfo` / `computePool2DInfo` (like TensorFlow.js's
 * `computeConv2DInfo`): one small plain object per call, never per element.
 *
 * Layout is NCHW; filters are (F, C, kh, kw); padding is symmetric (top = bottom,
 * left = right), as the kernel spec's `pad: [padH, padW]` says.
 */
import { BackpropError, shapeToString } from './errors.js';

/** A rank-4 shape, NCHW for images and (F, C, kh, kw) for filters. */
export type Shape4 = [number, number, number, number];

/** Everything a conv2d (or one of its gradients) needs to know about its shapes. */
export interface Conv2DInfo {
  /** N. */
  readonly batch: number;
  /** C, the input's channels (= the filter's second dimension). */
  readonly inChannels: number;
  /** H. */
  readonly inHeight: number;
  /** W. */
  readonly inWidth: number;
  /** F, the number of filters (the output's channels). */
  readonly outChannels: number;
  /** kh. */
  readonly kernelHeight: number;
  /** kw. */
  readonly kernelWidth: number;
  /** S along the height, ≥ 1. */
  readonly strideHeight: number;
  /** S along the width, ≥ 1. */
  readonly strideWidth: number;
  /** Zero rows above the image; as many below (padding is symmetric). */
  readonly padTop: number;
  /** Zero columns left of the image; as many on the right. */
  readonly padLeft: number;
  /** H_o = ⌊(H + 2·padTop − kh)/S_h⌋ + 1. */
  readonly outHeight: number;
  /** W_o = ⌊(W + 2·padLeft − kw)/S_w⌋ + 1. */
  readonly outWidth: number;
  /** C·kh·kw: taps of one filter, the rows of im2col's column matrix. */
  readonly taps: number;
  /** H_o·W_o: output pixels of one output plane, the columns of the column matrix. */
  readonly outPixels: number;
  /** C·H·W: values of one input image (the batch stride of x and ∂X). */
  readonly inImageSize: number;
  /** F·H_o·W_o: values of one output image (the batch stride of y and dy). */
  readonly outImageSize: number;
  /** [N, F, H_o, W_o]: the forward output's shape (dy's shape in the gradients). */
  readonly outShape: Readonly<Shape4>;
}

/** The filter as its shape (F, C, kh, kw), or as a layer describes it before it has one. */
export type Conv2DFilter = readonly number[] | { readonly filters: number; readonly kernelSize: readonly [number, number] };

/** Everything a pooling kernel (forward or backward) needs to know about its shapes. */
export interface Pool2DInfo {
  /** N. */
  readonly batch: number;
  /** C, unchanged by pooling. */
  readonly channels: number;
  /** H. */
  readonly inHeight: number;
  /** W. */
  readonly inWidth: number;
  /** kh. */
  readonly poolHeight: number;
  /** kw. */
  readonly poolWidth: number;
  /** S_p along the height, ≥ 1. */
  readonly strideHeight: number;
  /** S_p along the width, ≥ 1. */
  readonly strideWidth: number;
  /** H_o = ⌊(H − kh)/S_h⌋ + 1. */
  readonly outHeight: number;
  /** W_o = ⌊(W − kw)/S_w⌋ + 1. */
  readonly outWidth: number;
  /** N·C: the planes pooled independently. */
  readonly planes: number;
  /** kh·kw: values per window. */
  readonly windowSize: number;
  /** [N, C, H_o, W_o]: the forward output's shape (dy's shape in the gradients). */
  readonly outShape: Readonly<Shape4>;
}

/**
 * Output size along one axis, apps/docs/math/convolution.md (Eq 2.1 corrected with a floor):
 * ⌊(size + 2·pad − kernel)/stride⌋ + 1; pooling is pad 0 (Eq 2.2). Throws a
 * BackpropError naming `op` when the kernel does not fit the padded input.
 */
export function convOutputSize(op: string, inputSize: number, kernel: number, stride: number, pad: number, axis = 'height'): number {
  if (inputSize + 2 * pad < kernel) {
    throw new BackpropError(op, `kernel ${axis} ${kernel} does not fit the input ${axis} ${inputSize} with padding ${pad}`);
  }
  return Math.floor((inputSize + 2 * pad - kernel) / stride) + 1;
}

function assertRank4(op: string, what: string, shape: readonly number[]): void {
  if (shape.length !== 4) throw new BackpropError(op, `${what} must have 4 dimensions, got ${shapeToString(shape)}`);
}

/**
 * The geometry of a 2-D convolution of `xShape` (N, C, H, W) with `filter` — its shape
 * (F, C, kh, kw), or `{ filters, kernelSize: [kh, kw] }` — at `strides` [S_h, S_w] with
 * `pad` [P_h, P_w] zeros on each side. Throws a BackpropError naming `op` (a kernel name,
 * or a layer) when the channels differ or the kernel does not fit the padded input.
 * Strides and padding are taken as given (the ops check them).
 */
export function computeConv2DInfo(
  xShape: readonly number[],
  filter: Conv2DFilter,
  strides: readonly [number, number],
  pad: readonly [number, number],
  op = 'conv2d',
): Conv2DInfo {
  assertRank4(op, 'the input shape', xShape);
  const [batch, inChannels, inHeight, inWidth] = xShape;
  let outChannels: number, kernelHeight: number, kernelWidth: number;
  if (isShape(filter)) {
    assertRank4(op, 'the filter shape', filter);
    const filterChannels = filter[1];
    if (inChannels !== filterChannels) {
      throw new BackpropError(op, `input has ${inChannels} channels but filter expects ${filterChannels}`);
    }
    [outChannels, , kernelHeight, kernelWidth] = filter;
  } else {
    outChannels = filter.filters;
    [kernelHeight, kernelWidth] = filter.kernelSize;
  }
  const [strideHeight, strideWidth] = strides;
  const [padTop, padLeft] = pad;
  if (inHeight + 2 * padTop < kernelHeight || inWidth + 2 * padLeft < kernelWidth) {
    throw new BackpropError(
      op,
      `${kernelHeight}×${kernelWidth} kernel does not fit the ${inHeight}×${inWidth} input with padding ${padTop === padLeft ? padTop : `${padTop}×${padLeft}`}`,
    );
  }
  const outHeight = convOutputSize(op, inHeight, kernelHeight, strideHeight, padTop);
  const outWidth = convOutputSize(op, inWidth, kernelWidth, strideWidth, padLeft, 'width');
  const outPixels = outHeight * outWidth;
  return {
    batch, inChannels, inHeight, inWidth, outChannels,
    kernelHeight, kernelWidth, strideHeight, strideWidth, padTop, padLeft,
    outHeight, outWidth,
    taps: inChannels * kernelHeight * kernelWidth,
    outPixels,
    inImageSize: inChannels * inHeight * inWidth,
    outImageSize: outChannels * outPixels,
    outShape: [batch, outChannels, outHeight, outWidth],
  };
}

/**
 * The geometry of 2-D pooling of `xShape` (N, C, H, W) with a `poolSize` [kh, kw] window
 * at `strides` [S_h, S_w] (no padding). Throws a BackpropError naming `op` when the
 * window does not fit the input. The window and strides are taken as given.
 */
export function computePool2DInfo(
  xShape: readonly number[],
  poolSize: readonly [number, number],
  strides: readonly [number, number],
  op = 'pool',
): Pool2DInfo {
  assertRank4(op, 'the input shape', xShape);
  const [batch, channels, inHeight, inWidth] = xShape;
  const [poolHeight, poolWidth] = poolSize;
  const [strideHeight, strideWidth] = strides;
  if (inHeight < poolHeight || inWidth < poolWidth) {
    throw new BackpropError(op, `${poolHeight}×${poolWidth} pool window does not fit the ${inHeight}×${inWidth} input`);
  }
  const outHeight = convOutputSize(op, inHeight, poolHeight, strideHeight, 0);
  const outWidth = convOutputSize(op, inWidth, poolWidth, strideWidth, 0, 'width');
  return {
    batch, channels, inHeight, inWidth, poolHeight, poolWidth, strideHeight, strideWidth,
    outHeight, outWidth,
    planes: batch * channels,
    windowSize: poolHeight * poolWidth,
    outShape: [batch, channels, outHeight, outWidth],
  };
}

function isShape(filter: Conv2DFilter): filter is readonly number[] {
  return Array.isArray(filter);
}

/** The sizes of op(A)·op(B), op(X) being X or Xᵀ: op(A) is m×k and op(B) is kB×n. */
export interface MatMulDims {
  m: number;
  k: number;
  /** op(B)'s row count: equal to k for shapes that multiply (the op checks). */
  kB: number;
  n: number;
}

/** The one place the transpose flags turn the stored 2-D shapes of A and B into m, k and n. */
export function matMulDims(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): MatMulDims {
  const [a0, a1] = aShape;
  const [b0, b1] = bShape;
  return { m: transposeA ? a1 : a0, k: transposeA ? a0 : a1, kB: transposeB ? b1 : b0, n: transposeB ? b0 : b1 };
}

/** Below these a Winograd convolution's transforms cost more than the multiplications they save. */
export const WINOGRAD_MIN_CHANNELS = 8;
export const WINOGRAD_MIN_FILTERS = 8;

/** Whether Winograd F(2×2, 3×3) computes this convolution at all: a 3×3 kernel at stride 1 (any padding), a non-empty output. */
export function winogradApplies(info: Conv2DInfo): boolean {
  return info.kernelHeight === 3 && info.kernelWidth === 3 && info.strideHeight === 1 && info.strideWidth === 1 && info.outHeight > 0 && info.outWidth > 0;
}

/**
 * Whether a backend should run this convolution as Winograd F(2×2, 3×3) (the backends choose
 * alike; each still checks that x and the filter are finite, as ±Infinity meets its own negation
 * in the transforms): it applies, there are enough channels and filters to share the transforms,
 * and 16 products per 2×2 tile (tiles hang past odd edges) undercut 9 per output pixel by 20 %.
 * Measured on backend-cpu at C = F = 16: a 3×3 output (ratio 0.79) still gains (0.56 → 0.46 ms);
 * a 1×1 output (1.78) cannot.
 */
export function winogradPays(info: Conv2DInfo): boolean {
  return (
    winogradApplies(info) &&
    info.inChannels >= WINOGRAD_MIN_CHANNELS &&
    info.outChannels >= WINOGRAD_MIN_FILTERS &&
    16 * Math.ceil(info.outHeight / 2) * Math.ceil(info.outWidth / 2) <= 0.8 * 9 * info.outPixels
  );
}
