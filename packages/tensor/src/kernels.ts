/**
 * The kernel specification: every kernel a Backprop backend must implement, with the
 * exact inputs, attributes and outputs of each. Ops in `./ops` validate their
 * arguments and dispatch here through the registry; kernels may assume valid input.
 *
 * Layout conventions (apps/docs/math/index.md (conventions)): images are NCHW row-major, conv filters are
 * (F, C, kh, kw), dense weights are (out, in). Gradients from a layer's backward
 * kernel are never divided by the batch size: that factor lives in the loss.
 *
 * Bump SPEC_VERSION whenever a kernel is added, removed or changes meaning.
 */
import type { DataType } from './dtype.js';

export const SPEC_VERSION = 2;

/** What a kernel sees of a tensor: its storage handle, shape and dtype. */
export interface TensorInfo {
  readonly dataId: DataId;
  readonly shape: readonly number[];
  readonly dtype: DataType;
}

/**
 * Opaque storage handle a backend hands out. Each backend decides what it holds
 * (a typed array on the CPU, a texture on the GPU); the engine never looks inside.
 */
export type DataId = object;

export type FusedActivation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'leakyRelu';

export interface Conv2DGeometry {
  /** [strideH, strideW], each ≥ 1. */
  strides: [number, number];
  /** [padH, padW] zero padding on each side (top = bottom, left = right). */
  pad: [number, number];
}

export interface PoolGeometry {
  /** [kh, kw]. */
  poolSize: [number, number];
  /** [strideH, strideW]. */
  strides: [number, number];
}

/** Shared by every optimizer update. Weight decay is classic L2 decay added to the gradient, g' = g + weightDecay·θ (not AdamW's decoupled form). */
export interface UpdateAttrs {
  learningRate: number;
  /** L2 weight decay added to the gradient (0 disables). */
  weightDecay: number;
}

type T = TensorInfo;

/**
 * name → { inputs; attrs; output }. `output` is one TensorInfo, a tuple of them, or
 * `void` for in-place kernels (optimizer updates mutate their state inputs).
 */
export interface KernelSpecs {
  // ---- element-wise, same shape --------------------------------------------------
  add: { inputs: { a: T; b: T }; attrs: Record<string, never>; output: T };
  sub: { inputs: { a: T; b: T }; attrs: Record<string, never>; output: T };
  mul: { inputs: { a: T; b: T }; attrs: Record<string, never>; output: T };
  div: { inputs: { a: T; b: T }; attrs: Record<string, never>; output: T };
  maximum: { inputs: { a: T; b: T }; attrs: Record<string, never>; output: T };
  minimum: { inputs: { a: T; b: T }; attrs: Record<string, never>; output: T };
  // ---- tensor ∘ scalar -----------------------------------------------------------
  addScalar: { inputs: { x: T }; attrs: { scalar: number }; output: T };
  mulScalar: { inputs: { x: T }; attrs: { scalar: number }; output: T };
  powScalar: { inputs: { x: T }; attrs: { exponent: number }; output: T };
  maximumScalar: { inputs: { x: T }; attrs: { scalar: number }; output: T };
  minimumScalar: { inputs: { x: T }; attrs: { scalar: number }; output: T };
  // ---- unary ---------------------------------------------------------------------
  neg: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  exp: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  log: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  log1p: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  sqrt: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  square: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  abs: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  /** sign(0) = 0, sign(NaN) = NaN. */
  sign: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  /** Element-wise copy into a new buffer, converting to `dtype`. */
  cast: { inputs: { x: T }; attrs: { dtype: DataType }; output: T };
  // ---- activations (apps/docs/math/activations.md) --------------------------------------------------
  relu: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  /** dx = dy · 1[x > 0]  (ReLU'(0) = 0). */
  reluBackward: { inputs: { dy: T; x: T }; attrs: Record<string, never>; output: T };
  leakyRelu: { inputs: { x: T }; attrs: { alpha: number }; output: T };
  /** dx = dy · (x > 0 ? 1 : alpha)  (leaky'(0) = alpha). */
  leakyReluBackward: { inputs: { dy: T; x: T }; attrs: { alpha: number }; output: T };
  /** Stable form: x ≥ 0 → 1/(1+e^-x), x < 0 → e^x/(1+e^x). */
  sigmoid: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  /** dx = dy · y(1 − y), from the forward output y. */
  sigmoidBackward: { inputs: { dy: T; y: T }; attrs: Record<string, never>; output: T };
  tanh: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  /** dx = dy · (1 − y²). */
  tanhBackward: { inputs: { dy: T; y: T }; attrs: Record<string, never>; output: T };
  /** Softmax over the last axis of an (N, K) tensor, max-shifted. */
  softmax: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  /** dx = y ⊙ (dy − Σ_k dy_k y_k) per row. */
  softmaxBackward: { inputs: { dy: T; y: T }; attrs: Record<string, never>; output: T };
  /** log-softmax over the last axis of (N, K). */
  logSoftmax: { inputs: { x: T }; attrs: Record<string, never>; output: T };
  // ---- linear algebra --------------------------------------------------------------
  /**
   * C = op(A)·op(B) (+ bias broadcast over rows) then activation; A, B 2-D.
   * op(A) is Aᵀ when transposeA. `bias` has length = columns of C.
   */
  matMul: {
    inputs: { a: T; b: T; bias?: T };
    attrs: { transposeA: boolean; transposeB: boolean; activation: FusedActivation; alpha: number };
    output: T;
  };
  /** y = x + bias broadcast along axis 1 (x is (N, C) or (N, C, H, W)). */
  biasAdd: { inputs: { x: T; bias: T }; attrs: Record<string, never>; output: T };
  /** Σ over every axis except 1: the bias gradient of dense (N,C) or conv (N,C,H,W). */
  biasGrad: { inputs: { dy: T }; attrs: Record<string, never>; output: T };
  // ---- reductions --------------------------------------------------------------------
  /** Sum over `axes` (sorted, unique, non-empty); keepDims keeps them as size 1. */
  sum: { inputs: { x: T }; attrs: { axes: number[]; keepDims: boolean }; output: T };
  max: { inputs: { x: T }; attrs: { axes: number[]; keepDims: boolean }; output: T };
  /** Index of the first maximum along `axis`, dtype int32; NaN counts as the maximum. */
  argMax: { inputs: { x: T }; attrs: { axis: number }; output: T };
  /** (N) int32 labels → (N, depth) with 1 at the label, in `dtype`. */
  oneHot: { inputs: { indices: T }; attrs: { depth: number; dtype: DataType }; output: T };
  // ---- convolution (apps/docs/math/convolution.md) -----------------------------------------------------
  /** Y = act(X ⋆ K + b), cross-correlation, NCHW. */
  conv2d: {
    inputs: { x: T; filter: T; bias?: T };
    attrs: Conv2DGeometry & { activation: FusedActivation; alpha: number };
    output: T;
  };
  /** ∂K[f,c,u,v] = Σ_{n,i,j} G[n,f,i,j] · X̃[n,c,iS+u,jS+v]. */
  conv2dBackwardFilter: {
    inputs: { x: T; dy: T };
    attrs: Conv2DGeometry & { filterShape: [number, number, number, number] };
    output: T;
  };
  /** ∂X: scatter G·K into the padded input, then crop by the padding. */
  conv2dBackwardInput: {
    inputs: { dy: T; filter: T };
    attrs: Conv2DGeometry & { inputShape: [number, number, number, number] };
    output: T;
  };
  // ---- pooling (apps/docs/math/pooling.md) ------------------------------------------------------------
  maxPool: { inputs: { x: T }; attrs: PoolGeometry; output: T };
  /** Routes dy to the first maximum of each window (NaN wins), accumulating overlaps. */
  maxPoolBackward: { inputs: { dy: T; x: T }; attrs: PoolGeometry; output: T };
  avgPool: { inputs: { x: T }; attrs: PoolGeometry; output: T };
  avgPoolBackward: {
    inputs: { dy: T };
    attrs: PoolGeometry & { inputShape: [number, number, number, number] };
    output: T;
  };
  l2Pool: { inputs: { x: T }; attrs: PoolGeometry; output: T };
  /** dx += dy · x / y, 0 where y = 0. */
  l2PoolBackward: { inputs: { dy: T; x: T; y: T }; attrs: PoolGeometry; output: T };
  // ---- resampling (apps/docs/math/augmentation.md) ----------------------------------------------------
  /**
   * Bilinear resampling of each image of x (N, C, H, W) by its own affine map, the row n
   * of `transforms` (N, 6) = [a, b, c, d, e, f]: output pixel (i, j) (row, column) reads
   * the input at column u = a·j + b·i + c and row v = d·j + e·i + f (pixel indices, not
   * normalised), interpolated from its four neighbours, (1−α)(1−β)·x[v₀,u₀] +
   * α(1−β)·x[v₀,u₀+1] + (1−α)β·x[v₀+1,u₀] + αβ·x[v₀+1,u₀+1] with u₀ = ⌊u⌋, α = u − u₀,
   * v₀ = ⌊v⌋, β = v − v₀; a neighbour outside the image reads 0 (constant fill). The
   * same map for every channel. Added in spec v2.
   */
  affineResample: { inputs: { x: T; transforms: T }; attrs: Record<string, never>; output: T };
  // ---- fused loss heads (apps/docs/math/losses.md) --------------------------------------------------------
  /**
   * Softmax + categorical cross-entropy from logits (N, K) and targets (N, K).
   * Returns [loss: shape [] = mean over N, dLogits: (p·Σy − y)/N].
   */
  softmaxCrossEntropy: { inputs: { logits: T; labels: T }; attrs: Record<string, never>; output: [T, T] };
  /**
   * Sigmoid + binary cross-entropy from logits, any shape, M elements.
   * Returns [loss: shape [] = mean over M, dLogits: (σ(x) − y)/M].
   */
  sigmoidCrossEntropy: { inputs: { logits: T; labels: T }; attrs: Record<string, never>; output: [T, T] };
  // ---- optimizer updates, in place (apps/docs/math/gradient-descent.md) -----------------------------------------------
  /** θ ← θ − lr·(g + wd·θ). */
  sgdUpdate: { inputs: { param: T; grad: T }; attrs: UpdateAttrs; output: void };
  /** v ← μv + g'; θ ← θ − lr·v   (Nesterov: θ ← θ − lr·(g' + μv)), g' = g + wd·θ. */
  momentumUpdate: {
    inputs: { param: T; grad: T; velocity: T };
    attrs: UpdateAttrs & { momentum: number; nesterov: boolean };
    output: void;
  };
  /**
   * m ← β1 m + (1−β1) g';  v ← β2 v + (1−β2) g'²;
   * θ ← θ − lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + ε).   t ≥ 1 is the step count.
   */
  adamUpdate: {
    inputs: { param: T; grad: T; m: T; v: T };
    attrs: UpdateAttrs & { beta1: number; beta2: number; epsilon: number; step: number };
    output: void;
  };
  /** s ← ρ s + (1−ρ) g'²;  θ ← θ − lr · g' / (sqrt(s) + ε). */
  rmspropUpdate: {
    inputs: { param: T; grad: T; meanSquare: T };
    attrs: UpdateAttrs & { rho: number; epsilon: number };
    output: void;
  };
}

export type KernelName = keyof KernelSpecs;
export type KernelInputs<K extends KernelName> = KernelSpecs[K]['inputs'];
export type KernelAttrs<K extends KernelName> = KernelSpecs[K]['attrs'];
export type KernelOutput<K extends KernelName> = KernelSpecs[K]['output'];

/** Every kernel name, in spec order: backends and the conformance suite iterate this. */
export const KERNEL_NAMES = [
  'add', 'sub', 'mul', 'div', 'maximum', 'minimum',
  'addScalar', 'mulScalar', 'powScalar', 'maximumScalar', 'minimumScalar',
  'neg', 'exp', 'log', 'log1p', 'sqrt', 'square', 'abs', 'sign', 'cast',
  'relu', 'reluBackward', 'leakyRelu', 'leakyReluBackward', 'sigmoid', 'sigmoidBackward',
  'tanh', 'tanhBackward', 'softmax', 'softmaxBackward', 'logSoftmax',
  'matMul', 'biasAdd', 'biasGrad',
  'sum', 'max', 'argMax', 'oneHot',
  'conv2d', 'conv2dBackwardFilter', 'conv2dBackwardInput',
  'maxPool', 'maxPoolBackward', 'avgPool', 'avgPoolBackward', 'l2Pool', 'l2PoolBackward',
  'affineResample',
  'softmaxCrossEntropy', 'sigmoidCrossEntropy',
  'sgdUpdate', 'momentumUpdate', 'adamUpdate', 'rmspropUpdate',
] as const satisfies readonly KernelName[];

// Compile-time check that KERNEL_NAMES lists every kernel of the spec.
type MissingKernels = Exclude<KernelName, (typeof KERNEL_NAMES)[number]>;
const _allKernelsListed: MissingKernels extends never ? true : MissingKernels = true;
void _allKernelsListed;
