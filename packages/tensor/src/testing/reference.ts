/**
 * A slow, obviously-correct reference implementation of every kernel in
 * `KERNEL_NAMES`, written straight from the math pages (apps/docs/math/) with plain loops over Float64Array.
 *
 * Every function is pure: it takes `RefTensor`s ({ values, shape }) and returns new
 * ones; inputs are never mutated. The in-place optimizer kernels return the updated
 * parameter and state buffers instead. Nothing here depends on a backend.
 *
 * Integer outputs (argMax, oneHot with dtype int32, cast to int32) are returned as
 * Float64Array holding integral values.
 */
import type { DataType } from '../dtype.js';
import { computeConv2DInfo, computePool2DInfo, matMulDims, type Shape4 } from '../geometry.js';
import type { FusedActivation, KernelName } from '../kernels.js';
import { sizeOfShape } from '../tensor.js';

export interface RefTensor {
  values: Float64Array;
  shape: number[];
}

export type { Shape4 };

// ---- helpers -----------------------------------------------------------------------

/** Builds a RefTensor from any array-like (copied into a Float64Array). */
export function ref(values: ArrayLike<number>, shape: readonly number[]): RefTensor {
  if (sizeOfShape(shape) !== values.length) {
    throw new Error(`reference.ref: shape [${shape.join(', ')}] needs ${sizeOfShape(shape)} values, got ${values.length}`);
  }
  return { values: Float64Array.from(values), shape: [...shape] };
}

function zerosRef(shape: readonly number[]): RefTensor {
  return { values: new Float64Array(sizeOfShape(shape)), shape: [...shape] };
}

function map1(x: RefTensor, f: (v: number) => number): RefTensor {
  const out = zerosRef(x.shape);
  for (let i = 0; i < x.values.length; i++) out.values[i] = f(x.values[i]);
  return out;
}

function map2(a: RefTensor, b: RefTensor, f: (p: number, q: number) => number): RefTensor {
  if (a.values.length !== b.values.length) throw new Error('reference: element-wise operands differ in size');
  const out = zerosRef(a.shape);
  for (let i = 0; i < a.values.length; i++) out.values[i] = f(a.values[i], b.values[i]);
  return out;
}

/** Stable sigmoid, apps/docs/math/activations.md. */
export function sigmoidScalar(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** ReLU that propagates NaN (Math.max(0, NaN) is NaN). */
function reluScalar(x: number): number {
  return Math.max(0, x);
}

function leakyScalar(x: number, alpha: number): number {
  return x > 0 ? x : alpha * x;
}

export function applyActivation(activation: FusedActivation, z: number, alpha: number): number {
  switch (activation) {
    case 'linear': return z;
    case 'relu': return reluScalar(z);
    case 'sigmoid': return sigmoidScalar(z);
    case 'tanh': return Math.tanh(z);
    case 'leakyRelu': return leakyScalar(z, alpha);
  }
}

/** Rounds every value to the precision of `dtype` (float32: Math.fround, int32: ToInt32). */
export function quantize(x: RefTensor, dtype: DataType): RefTensor {
  if (dtype === 'float64') return { values: Float64Array.from(x.values), shape: [...x.shape] };
  if (dtype === 'float32') return { values: Float64Array.from(Float32Array.from(x.values)), shape: [...x.shape] };
  return { values: Float64Array.from(Int32Array.from(x.values, (v) => Math.trunc(v))), shape: [...x.shape] };
}

// ---- element-wise --------------------------------------------------------------------

export const add = ({ a, b }: { a: RefTensor; b: RefTensor }): RefTensor => map2(a, b, (p, q) => p + q);
export const sub = ({ a, b }: { a: RefTensor; b: RefTensor }): RefTensor => map2(a, b, (p, q) => p - q);
export const mul = ({ a, b }: { a: RefTensor; b: RefTensor }): RefTensor => map2(a, b, (p, q) => p * q);
export const div = ({ a, b }: { a: RefTensor; b: RefTensor }): RefTensor => map2(a, b, (p, q) => p / q);
export const maximum = ({ a, b }: { a: RefTensor; b: RefTensor }): RefTensor => map2(a, b, (p, q) => Math.max(p, q));
export const minimum = ({ a, b }: { a: RefTensor; b: RefTensor }): RefTensor => map2(a, b, (p, q) => Math.min(p, q));

export const addScalar = ({ x }: { x: RefTensor }, { scalar }: { scalar: number }): RefTensor => map1(x, (v) => v + scalar);
export const mulScalar = ({ x }: { x: RefTensor }, { scalar }: { scalar: number }): RefTensor => map1(x, (v) => v * scalar);
export const powScalar = ({ x }: { x: RefTensor }, { exponent }: { exponent: number }): RefTensor =>
  map1(x, (v) => Math.pow(v, exponent));
export const maximumScalar = ({ x }: { x: RefTensor }, { scalar }: { scalar: number }): RefTensor =>
  map1(x, (v) => Math.max(v, scalar));
export const minimumScalar = ({ x }: { x: RefTensor }, { scalar }: { scalar: number }): RefTensor =>
  map1(x, (v) => Math.min(v, scalar));

export const neg = ({ x }: { x: RefTensor }): RefTensor => map1(x, (v) => -v);
export const exp = ({ x }: { x: RefTensor }): RefTensor => map1(x, Math.exp);
export const log = ({ x }: { x: RefTensor }): RefTensor => map1(x, Math.log);
export const log1p = ({ x }: { x: RefTensor }): RefTensor => map1(x, Math.log1p);
export const sqrt = ({ x }: { x: RefTensor }): RefTensor => map1(x, Math.sqrt);
export const square = ({ x }: { x: RefTensor }): RefTensor => map1(x, (v) => v * v);
export const abs = ({ x }: { x: RefTensor }): RefTensor => map1(x, Math.abs);
/** sign(0) = 0, sign(NaN) = NaN. */
export const sign = ({ x }: { x: RefTensor }): RefTensor =>
  map1(x, (v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : v < 0 ? -1 : 0));
export const cast = ({ x }: { x: RefTensor }, { dtype }: { dtype: DataType }): RefTensor => quantize(x, dtype);

// ---- activations (apps/docs/math/activations.md) --------------------------------------------------------

export const relu = ({ x }: { x: RefTensor }): RefTensor => map1(x, reluScalar);
/** dx = dy · 1[x > 0]. */
export const reluBackward = ({ dy, x }: { dy: RefTensor; x: RefTensor }): RefTensor =>
  map2(dy, x, (g, v) => (v > 0 ? g : 0));
export const leakyRelu = ({ x }: { x: RefTensor }, { alpha }: { alpha: number }): RefTensor =>
  map1(x, (v) => leakyScalar(v, alpha));
/** dx = dy · (x > 0 ? 1 : alpha). */
export const leakyReluBackward = ({ dy, x }: { dy: RefTensor; x: RefTensor }, { alpha }: { alpha: number }): RefTensor =>
  map2(dy, x, (g, v) => (v > 0 ? g : alpha * g));
export const sigmoid = ({ x }: { x: RefTensor }): RefTensor => map1(x, sigmoidScalar);
export const sigmoidBackward = ({ dy, y }: { dy: RefTensor; y: RefTensor }): RefTensor =>
  map2(dy, y, (g, v) => g * v * (1 - v));
export const tanh = ({ x }: { x: RefTensor }): RefTensor => map1(x, Math.tanh);
export const tanhBackward = ({ dy, y }: { dy: RefTensor; y: RefTensor }): RefTensor =>
  map2(dy, y, (g, v) => g * (1 - v * v));

function rows(x: RefTensor): [number, number] {
  const k = x.shape[x.shape.length - 1];
  return [k === 0 ? 0 : x.values.length / k, k];
}

/** Softmax over the last axis, max-shifted. */
export function softmax({ x }: { x: RefTensor }): RefTensor {
  const [n, k] = rows(x);
  const out = zerosRef(x.shape);
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, x.values[r * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(x.values[r * k + j] - m);
    for (let j = 0; j < k; j++) out.values[r * k + j] = Math.exp(x.values[r * k + j] - m) / s;
  }
  return out;
}

/** log y = x − m − log Σ e^{x−m}. */
export function logSoftmax({ x }: { x: RefTensor }): RefTensor {
  const [n, k] = rows(x);
  const out = zerosRef(x.shape);
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, x.values[r * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(x.values[r * k + j] - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < k; j++) out.values[r * k + j] = x.values[r * k + j] - lse;
  }
  return out;
}

/** dx = y ⊙ (dy − Σ_k dy_k y_k) per row. */
export function softmaxBackward({ dy, y }: { dy: RefTensor; y: RefTensor }): RefTensor {
  const [n, k] = rows(y);
  const out = zerosRef(y.shape);
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let j = 0; j < k; j++) dot += dy.values[r * k + j] * y.values[r * k + j];
    for (let j = 0; j < k; j++) out.values[r * k + j] = y.values[r * k + j] * (dy.values[r * k + j] - dot);
  }
  return out;
}

// ---- linear algebra ----------------------------------------------------------------------

export function matMul(
  { a, b, bias }: { a: RefTensor; b: RefTensor; bias?: RefTensor },
  { transposeA, transposeB, activation, alpha }: { transposeA: boolean; transposeB: boolean; activation: FusedActivation; alpha: number },
): RefTensor {
  const { m, k, n } = matMulDims(a.shape, b.shape, transposeA, transposeB);
  const A = (i: number, p: number): number => (transposeA ? a.values[p * a.shape[1] + i] : a.values[i * a.shape[1] + p]);
  const B = (p: number, j: number): number => (transposeB ? b.values[j * b.shape[1] + p] : b.values[p * b.shape[1] + j]);
  const out = zerosRef([m, n]);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
      if (bias) s += bias.values[j];
      out.values[i * n + j] = applyActivation(activation, s, alpha);
    }
  }
  return out;
}

/** y = x + bias along axis 1. */
export function biasAdd({ x, bias }: { x: RefTensor; bias: RefTensor }): RefTensor {
  const c = x.shape[1];
  const inner = sizeOfShape(x.shape.slice(2));
  const out = zerosRef(x.shape);
  for (let i = 0; i < x.values.length; i++) {
    const ch = Math.floor(i / inner) % c;
    out.values[i] = x.values[i] + bias.values[ch];
  }
  return out;
}

/** Σ over every axis except 1. */
export function biasGrad({ dy }: { dy: RefTensor }): RefTensor {
  const c = dy.shape[1];
  const inner = sizeOfShape(dy.shape.slice(2));
  const out = zerosRef([c]);
  for (let i = 0; i < dy.values.length; i++) {
    const ch = Math.floor(i / inner) % c;
    out.values[ch] += dy.values[i];
  }
  return out;
}

// ---- reductions ----------------------------------------------------------------------------

function unravel(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
  return coords;
}

function ravel(coords: readonly number[], shape: readonly number[]): number {
  let index = 0;
  for (let d = 0; d < shape.length; d++) index = index * shape[d] + coords[d];
  return index;
}

function reduce(
  x: RefTensor,
  axes: number[],
  keepDims: boolean,
  init: number,
  combine: (acc: number, v: number) => number,
): RefTensor {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const acc = new Float64Array(sizeOfShape(keptShape)).fill(init);
  for (let i = 0; i < x.values.length; i++) {
    const coords = unravel(i, x.shape).map((c, d) => (axes.includes(d) ? 0 : c));
    const o = ravel(coords, keptShape);
    acc[o] = combine(acc[o], x.values[i]);
  }
  const shape = keepDims ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  return { values: acc, shape };
}

export const sum = ({ x }: { x: RefTensor }, { axes, keepDims }: { axes: number[]; keepDims: boolean }): RefTensor =>
  reduce(x, axes, keepDims, 0, (p, v) => p + v);
/** Max over axes; NaN propagates (Math.max semantics). */
export const max = ({ x }: { x: RefTensor }, { axes, keepDims }: { axes: number[]; keepDims: boolean }): RefTensor =>
  reduce(x, axes, keepDims, -Infinity, (p, v) => Math.max(p, v));

/** Index of the first maximum along `axis` (strict >); the first NaN counts as the maximum. */
export function argMax({ x }: { x: RefTensor }, { axis }: { axis: number }): RefTensor {
  const outer = sizeOfShape(x.shape.slice(0, axis));
  const len = x.shape[axis];
  const inner = sizeOfShape(x.shape.slice(axis + 1));
  const out = zerosRef(x.shape.filter((_, i) => i !== axis));
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      let best = 0;
      let bestV = x.values[o * len * inner + q];
      for (let j = 1; j < len && !Number.isNaN(bestV); j++) {
        const v = x.values[(o * len + j) * inner + q];
        if (Number.isNaN(v) || v > bestV) {
          best = j;
          bestV = v;
        }
      }
      out.values[o * inner + q] = best;
    }
  }
  return out;
}

export function oneHot({ indices }: { indices: RefTensor }, { depth }: { depth: number; dtype?: DataType }): RefTensor {
  const n = indices.values.length;
  const out = zerosRef([n, depth]);
  for (let i = 0; i < n; i++) out.values[i * depth + indices.values[i]] = 1;
  return out;
}

// ---- convolution (apps/docs/math/convolution.md) ----------------------------------------------------------------

interface ConvGeometry {
  strides: [number, number];
  pad: [number, number];
}

/** The padded input X̃ at (n, c, r, s) in padded coordinates (0 outside X). */
function padded(x: RefTensor, n: number, c: number, r: number, s: number, pad: [number, number]): number {
  const [, C, H, W] = x.shape;
  const h = r - pad[0];
  const w = s - pad[1];
  if (h < 0 || h >= H || w < 0 || w >= W) return 0;
  return x.values[((n * C + c) * H + h) * W + w];
}

/** Y[n,f,i,j] = act(b_f + Σ_{c,u,v} K[f,c,u,v] X̃[n,c,iS+u,jS+v]): the literal 7-nested sum. */
export function conv2d(
  { x, filter, bias }: { x: RefTensor; filter: RefTensor; bias?: RefTensor },
  { strides, pad, activation, alpha }: ConvGeometry & { activation: FusedActivation; alpha: number },
): RefTensor {
  // Ho = ⌊(H + 2P − k)/S⌋ + 1 (and Wo), from @backprop/tensor's geometry.
  const g = computeConv2DInfo(x.shape, filter.shape, strides, pad);
  const { batch: N, inChannels: C, outChannels: F, kernelHeight: kh, kernelWidth: kw, outHeight: Ho, outWidth: Wo } = g;
  const out = zerosRef(g.outShape);
  for (let n = 0; n < N; n++)
    for (let f = 0; f < F; f++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = bias ? bias.values[f] : 0;
          for (let c = 0; c < C; c++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++)
                s += filter.values[((f * C + c) * kh + u) * kw + v] * padded(x, n, c, i * strides[0] + u, j * strides[1] + v, pad);
          out.values[((n * F + f) * Ho + i) * Wo + j] = applyActivation(activation, s, alpha);
        }
  return out;
}

/** ∂K[f,c,u,v] = Σ_{n,i,j} G[n,f,i,j] · X̃[n,c,iS+u,jS+v]. */
export function conv2dBackwardFilter(
  { x, dy }: { x: RefTensor; dy: RefTensor },
  { strides, pad, filterShape }: ConvGeometry & { filterShape: Shape4 },
): RefTensor {
  const { batch: N, inChannels: C, outChannels: F, kernelHeight: kh, kernelWidth: kw, outHeight: Ho, outWidth: Wo } =
    computeConv2DInfo(x.shape, filterShape, strides, pad, 'conv2dBackwardFilter');
  const out = zerosRef(filterShape);
  for (let f = 0; f < F; f++)
    for (let c = 0; c < C; c++)
      for (let u = 0; u < kh; u++)
        for (let v = 0; v < kw; v++) {
          let s = 0;
          for (let n = 0; n < N; n++)
            for (let i = 0; i < Ho; i++)
              for (let j = 0; j < Wo; j++)
                s += dy.values[((n * F + f) * Ho + i) * Wo + j] * padded(x, n, c, i * strides[0] + u, j * strides[1] + v, pad);
          out.values[((f * C + c) * kh + u) * kw + v] = s;
        }
  return out;
}

/** ∂X: scatter-add G·K into ∂X̃ at (iS+u, jS+v), then crop by the padding. */
export function conv2dBackwardInput(
  { dy, filter }: { dy: RefTensor; filter: RefTensor },
  { strides, pad, inputShape }: ConvGeometry & { inputShape: Shape4 },
): RefTensor {
  const { batch: N, inChannels: C, inHeight: H, inWidth: W, outChannels: F, kernelHeight: kh, kernelWidth: kw, outHeight: Ho, outWidth: Wo } =
    computeConv2DInfo(inputShape, filter.shape, strides, pad, 'conv2dBackwardInput');
  const Hp = H + 2 * pad[0];
  const Wp = W + 2 * pad[1];
  const dxp = new Float64Array(N * C * Hp * Wp);
  for (let n = 0; n < N; n++)
    for (let f = 0; f < F; f++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const g = dy.values[((n * F + f) * Ho + i) * Wo + j];
          for (let c = 0; c < C; c++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const r = i * strides[0] + u;
                const s = j * strides[1] + v;
                dxp[((n * C + c) * Hp + r) * Wp + s] += g * filter.values[((f * C + c) * kh + u) * kw + v];
              }
        }
  const out = zerosRef(inputShape);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++)
          out.values[((n * C + c) * H + h) * W + w] = dxp[((n * C + c) * Hp + h + pad[0]) * Wp + w + pad[1]];
  return out;
}

// ---- pooling (apps/docs/math/pooling.md) ------------------------------------------------------------------------

interface PoolGeometry {
  poolSize: [number, number];
  strides: [number, number];
}

/** The pooled shape (N, C, Ho, Wo), Ho = ⌊(H − k)/S⌋ + 1, from @backprop/tensor's geometry. */
const pooledShape = (inputShape: readonly number[], g: PoolGeometry): Readonly<Shape4> =>
  computePool2DInfo(inputShape, g.poolSize, g.strides).outShape;

/** Calls `visit(outIndex, inIndices)` for every window, inIndices in row-major order. */
function forEachWindow(inputShape: readonly number[], g: PoolGeometry, visit: (o: number, window: number[]) => void): void {
  const { batch: N, channels: C, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = computePool2DInfo(inputShape, g.poolSize, g.strides);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const window: number[] = [];
          for (let a = 0; a < g.poolSize[0]; a++)
            for (let b = 0; b < g.poolSize[1]; b++)
              window.push(((n * C + c) * H + i * g.strides[0] + a) * W + j * g.strides[1] + b);
          visit(((n * C + c) * Ho + i) * Wo + j, window);
        }
}

/** Position of the first maximum (strict >); the first NaN wins. */
function windowArgMax(x: RefTensor, window: number[]): number {
  let best = window[0];
  for (let t = 1; t < window.length; t++) {
    if (Number.isNaN(x.values[best])) break;
    const v = x.values[window[t]];
    if (Number.isNaN(v) || v > x.values[best]) best = window[t];
  }
  return best;
}

export function maxPool({ x }: { x: RefTensor }, g: PoolGeometry): RefTensor {
  const out = zerosRef(pooledShape(x.shape, g));
  forEachWindow(x.shape, g, (o, window) => {
    out.values[o] = x.values[windowArgMax(x, window)];
  });
  return out;
}

export function maxPoolBackward({ dy, x }: { dy: RefTensor; x: RefTensor }, g: PoolGeometry): RefTensor {
  const out = zerosRef(x.shape);
  forEachWindow(x.shape, g, (o, window) => {
    out.values[windowArgMax(x, window)] += dy.values[o];
  });
  return out;
}

export function avgPool({ x }: { x: RefTensor }, g: PoolGeometry): RefTensor {
  const out = zerosRef(pooledShape(x.shape, g));
  forEachWindow(x.shape, g, (o, window) => {
    let s = 0;
    for (const p of window) s += x.values[p];
    out.values[o] = s / window.length;
  });
  return out;
}

export function avgPoolBackward({ dy }: { dy: RefTensor }, g: PoolGeometry & { inputShape: Shape4 }): RefTensor {
  const out = zerosRef(g.inputShape);
  forEachWindow(g.inputShape, g, (o, window) => {
    for (const p of window) out.values[p] += dy.values[o] / window.length;
  });
  return out;
}

export function l2Pool({ x }: { x: RefTensor }, g: PoolGeometry): RefTensor {
  const out = zerosRef(pooledShape(x.shape, g));
  forEachWindow(x.shape, g, (o, window) => {
    let s = 0;
    for (const p of window) s += x.values[p] * x.values[p];
    out.values[o] = Math.sqrt(s);
  });
  return out;
}

/** dx += dy · x / y, 0 where y = 0. */
export function l2PoolBackward({ dy, x, y }: { dy: RefTensor; x: RefTensor; y: RefTensor }, g: PoolGeometry): RefTensor {
  const out = zerosRef(x.shape);
  forEachWindow(x.shape, g, (o, window) => {
    if (y.values[o] === 0) return;
    for (const p of window) out.values[p] += (dy.values[o] * x.values[p]) / y.values[o];
  });
  return out;
}

// ---- resampling (apps/docs/math/augmentation.md) ---------------------------------------------------------------

/**
 * Each output pixel (i, j) of image n reads column u = a·j + b·i + c, row v = d·j + e·i + f
 * of its input, the bilinear blend of the four neighbours inside the image (outside: 0).
 */
export function affineResample({ x, transforms }: { x: RefTensor; transforms: RefTensor }): RefTensor {
  const [N, C, H, W] = x.shape;
  const out = zerosRef(x.shape);
  for (let n = 0; n < N; n++) {
    const [a, b, c, d, e, f] = transforms.values.subarray(n * 6, n * 6 + 6);
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const u = a * j + b * i + c;
        const v = d * j + e * i + f;
        const u0 = Math.floor(u);
        const v0 = Math.floor(v);
        const neighbours: [number, number, number][] = [
          [v0, u0, (1 - (v - v0)) * (1 - (u - u0))],
          [v0, u0 + 1, (1 - (v - v0)) * (u - u0)],
          [v0 + 1, u0, (v - v0) * (1 - (u - u0))],
          [v0 + 1, u0 + 1, (v - v0) * (u - u0)],
        ];
        for (let ch = 0; ch < C; ch++) {
          // A NaN coordinate reads NaN (it is inside no image, but must not become a silent 0).
          let s = Number.isNaN(u) || Number.isNaN(v) ? Number.NaN : 0;
          for (const [row, col, weight] of neighbours) {
            if (row >= 0 && row < H && col >= 0 && col < W) s += weight * x.values[((n * C + ch) * H + row) * W + col];
          }
          out.values[((n * C + ch) * H + i) * W + j] = s;
        }
      }
    }
  }
  return out;
}

// ---- fused heads (apps/docs/math/losses.md) ---------------------------------------------------------------------

/** [loss (shape []), grad] with loss = mean_n[(Σ_k y) LSE(x_n) − Σ_k y x], grad = (p Σy − y)/N. */
export function softmaxCrossEntropy({ logits, labels }: { logits: RefTensor; labels: RefTensor }): [RefTensor, RefTensor] {
  const [N, K] = logits.shape;
  const grad = zerosRef(logits.shape);
  let total = 0;
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits.values[n * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits.values[n * K + k] - m);
    const lse = m + Math.log(s);
    let ySum = 0;
    let yx = 0;
    for (let k = 0; k < K; k++) {
      ySum += labels.values[n * K + k];
      yx += labels.values[n * K + k] * logits.values[n * K + k];
    }
    total += ySum * lse - yx;
    for (let k = 0; k < K; k++) {
      const p = Math.exp(logits.values[n * K + k] - lse);
      grad.values[n * K + k] = (p * ySum - labels.values[n * K + k]) / N;
    }
  }
  return [{ values: Float64Array.of(total / N), shape: [] }, grad];
}

/** [loss (shape []), grad] with ℓ = max(x,0) − xy + log1p(e^−|x|), loss = mean, grad = (σ(x) − y)/M. */
export function sigmoidCrossEntropy({ logits, labels }: { logits: RefTensor; labels: RefTensor }): [RefTensor, RefTensor] {
  const M = logits.values.length;
  const grad = zerosRef(logits.shape);
  let total = 0;
  for (let i = 0; i < M; i++) {
    const x = logits.values[i];
    const y = labels.values[i];
    total += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
    grad.values[i] = (sigmoidScalar(x) - y) / M;
  }
  return [{ values: Float64Array.of(total / M), shape: [] }, grad];
}

// ---- optimizer updates (apps/docs/math/gradient-descent.md); pure: return the new buffers ---------------------------------

interface UpdateAttrs {
  learningRate: number;
  weightDecay: number;
}

/** θ ← θ − lr·(g + wd·θ). */
export function sgdUpdate({ param, grad }: { param: RefTensor; grad: RefTensor }, { learningRate, weightDecay }: UpdateAttrs): { param: RefTensor } {
  const p = zerosRef(param.shape);
  for (let i = 0; i < p.values.length; i++) {
    const g = grad.values[i] + weightDecay * param.values[i];
    p.values[i] = param.values[i] - learningRate * g;
  }
  return { param: p };
}

/** g' = g + wd·θ; v ← μv + g'; θ ← θ − lr·v (Nesterov: θ ← θ − lr·(g' + μv) with the new v). */
export function momentumUpdate(
  { param, grad, velocity }: { param: RefTensor; grad: RefTensor; velocity: RefTensor },
  { learningRate, weightDecay, momentum, nesterov }: UpdateAttrs & { momentum: number; nesterov: boolean },
): { param: RefTensor; velocity: RefTensor } {
  const p = zerosRef(param.shape);
  const v = zerosRef(param.shape);
  for (let i = 0; i < p.values.length; i++) {
    const g = grad.values[i] + weightDecay * param.values[i];
    v.values[i] = momentum * velocity.values[i] + g;
    const step = nesterov ? g + momentum * v.values[i] : v.values[i];
    p.values[i] = param.values[i] - learningRate * step;
  }
  return { param: p, velocity: v };
}

/** Adam with bias correction; t = step ≥ 1. */
export function adamUpdate(
  { param, grad, m, v }: { param: RefTensor; grad: RefTensor; m: RefTensor; v: RefTensor },
  { learningRate, weightDecay, beta1, beta2, epsilon, step }: UpdateAttrs & { beta1: number; beta2: number; epsilon: number; step: number },
): { param: RefTensor; m: RefTensor; v: RefTensor } {
  const p = zerosRef(param.shape);
  const m2 = zerosRef(param.shape);
  const v2 = zerosRef(param.shape);
  const c1 = 1 - Math.pow(beta1, step);
  const c2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < p.values.length; i++) {
    const g = grad.values[i] + weightDecay * param.values[i];
    m2.values[i] = beta1 * m.values[i] + (1 - beta1) * g;
    v2.values[i] = beta2 * v.values[i] + (1 - beta2) * g * g;
    p.values[i] = param.values[i] - (learningRate * (m2.values[i] / c1)) / (Math.sqrt(v2.values[i] / c2) + epsilon);
  }
  return { param: p, m: m2, v: v2 };
}

/** s ← ρ s + (1−ρ) g'²; θ ← θ − lr · g' / (sqrt(s) + ε). */
export function rmspropUpdate(
  { param, grad, meanSquare }: { param: RefTensor; grad: RefTensor; meanSquare: RefTensor },
  { learningRate, weightDecay, rho, epsilon }: UpdateAttrs & { rho: number; epsilon: number },
): { param: RefTensor; meanSquare: RefTensor } {
  const p = zerosRef(param.shape);
  const s = zerosRef(param.shape);
  for (let i = 0; i < p.values.length; i++) {
    const g = grad.values[i] + weightDecay * param.values[i];
    s.values[i] = rho * meanSquare.values[i] + (1 - rho) * g * g;
    p.values[i] = param.values[i] - (learningRate * g) / (Math.sqrt(s.values[i]) + epsilon);
  }
  return { param: p, meanSquare: s };
}

/** Every reference kernel by name (compile-time checked to cover KERNEL_NAMES). */
export const kernels = {
  add, sub, mul, div, maximum, minimum,
  addScalar, mulScalar, powScalar, maximumScalar, minimumScalar,
  neg, exp, log, log1p, sqrt, square, abs, sign, cast,
  relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward,
  tanh, tanhBackward, softmax, softmaxBackward, logSoftmax,
  matMul, biasAdd, biasGrad,
  sum, max, argMax, oneHot,
  conv2d, conv2dBackwardFilter, conv2dBackwardInput,
  maxPool, maxPoolBackward, avgPool, avgPoolBackward, l2Pool, l2PoolBackward,
  affineResample,
  softmaxCrossEntropy, sigmoidCrossEntropy,
  sgdUpdate, momentumUpdate, adamUpdate, rmspropUpdate,
} satisfies Record<KernelName, (...args: never[]) => unknown>;
