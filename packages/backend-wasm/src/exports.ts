/** What assembly/index.ts exports: pointers are byte offsets into the linear memory, sizes are element counts. */
type Ptr = number;
type Unary = (x: Ptr, o: Ptr, n: number) => void;
type Binary = (a: Ptr, b: Ptr, o: Ptr, n: number) => void;
type WithScalar = (x: Ptr, s: number, o: Ptr, n: number) => void;
type Activation = (x: Ptr, o: Ptr, n: number, alpha: number) => void;
type ActivationBackward = (dy: Ptr, xOrY: Ptr, o: Ptr, n: number, alpha: number) => void;
type Rows = (x: Ptr, o: Ptr, n: number, k: number) => void;
/** planes, h, w, kh, kw, sh, sw, ho, wo. */
type PoolDims = [number, number, number, number, number, number, number, number, number];
type Pool = (x: Ptr, o: Ptr, ...dims: PoolDims) => void;
/** n, c, h, w, f, kh, kw, sh, sw, ph, pw, ho, wo. */
type ConvDims = [number, number, number, number, number, number, number, number, number, number, number, number, number];
/** n, c, h, w, f, ph, pw, ho, wo, act, alpha, group, u, v, m, pad, scratch. */
type WinogradArgs = [number, number, number, number, number, number, number, number, number, number, number, number, Ptr, Ptr, Ptr, Ptr, Ptr];

export interface WasmExports {
  heapBase(): Ptr;
  gemm(transA: number, transB: number, m: number, n: number, k: number, a: Ptr, lda: number, b: Ptr, ldb: number, c: Ptr, ldc: number, accumulate: number, scratch: Ptr): void;
  gemmScratchBytes(m: number, n: number, k: number): number;
  add_f32: Binary; sub_f32: Binary; mul_f32: Binary; div_f32: Binary; maximum_f32: Binary; minimum_f32: Binary;
  addScalar_f32: WithScalar; mulScalar_f32: WithScalar; maximumScalar_f32: WithScalar; minimumScalar_f32: WithScalar;
  powScalar_f32: WithScalar;
  neg_f32: Unary; exp_f32: Unary; log_f32: Unary; log1p_f32: Unary; sqrt_f32: Unary; square_f32: Unary; abs_f32: Unary; sign_f32: Unary;
  // Activations take alpha last; only the leaky ReLU kernels read it (wasm ignores extra arguments).
  relu_f32: Activation; sigmoid_f32: Activation; tanh_f32: Activation; leakyRelu_f32: Activation;
  reluBackward_f32: ActivationBackward; sigmoidBackward_f32: ActivationBackward; tanhBackward_f32: ActivationBackward;
  leakyReluBackward_f32: ActivationBackward;
  softmax_f32: Rows; logSoftmax_f32: Rows;
  softmaxBackward_f32(dy: Ptr, y: Ptr, o: Ptr, n: number, k: number): void;
  biasColumnsActivate_f32(c: Ptr, rows: number, cols: number, bias: Ptr, hasBias: number, act: number, alpha: number): void;
  biasAdd_f32(x: Ptr, bias: Ptr, o: Ptr, n: number, ch: number, inner: number): void;
  biasGradChunks_f64(dy: Ptr, partials: Ptr, n: number, ch: number, inner: number, chunk: number): void;
  biasGradSum_f32(partials: Ptr, count: number, ch: number, o: Ptr): void;
  reduce_f32(x: Ptr, o: Ptr, outSize: number, dims: Ptr, rank: number, isMax: number, acc: Ptr, ostride: Ptr, counters: Ptr): void;
  argMax_f32(x: Ptr, o: Ptr, outer: number, len: number, inner: number): void;
  oneHot(indices: Ptr, o: Ptr, n: number, depth: number, dtype: number): void;
  cast(x: Ptr, from: number, o: Ptr, to: number, n: number): void;
  conv2d_f32(x: Ptr, k: Ptr, bias: Ptr, hasBias: number, y: Ptr, ...rest: [...ConvDims, number, number, Ptr, Ptr]): void;
  /** group: images per set of 16 GEMMs; u, v, m: the transformed filters, inputs and products; pad: a padded image; scratch: the GEMM's. */
  conv2dWinograd_f32(x: Ptr, k: Ptr, bias: Ptr, hasBias: number, y: Ptr, ...rest: WinogradArgs): void;
  conv2dBackwardInput_f32(dy: Ptr, k: Ptr, dx: Ptr, ...rest: [...ConvDims, Ptr, Ptr]): void;
  /** Writes ceil(n / chunk) partial sums of F·C·kh·kw floats from `partials`. */
  conv2dBackwardFilter_f32(x: Ptr, dy: Ptr, partials: Ptr, ...rest: [...ConvDims, number, Ptr, Ptr]): void;
  /** hp, wp, chunk, then the scratch pointers. */
  conv2dBackwardFilterSparse_f32(x: Ptr, dy: Ptr, partials: Ptr, ...rest: [...ConvDims, number, number, number, Ptr, Ptr, Ptr, Ptr]): void;
  sumChunks_f32(partials: Ptr, count: number, len: number, o: Ptr): void;
  nonZeroCount_f32(x: Ptr, n: number): number;
  allFinite_f32(x: Ptr, n: number): number;
  maxPool_f32: Pool;
  maxPoolBackward_f32(dy: Ptr, x: Ptr, dx: Ptr, ...dims: PoolDims): void;
  /** l2: 0 average pooling, 1 L2 pooling. */
  sumPool_f32(l2: number, x: Ptr, o: Ptr, ...dims: PoolDims): void;
  sumPoolBackward_f32(l2: number, dy: Ptr, x: Ptr, y: Ptr, dx: Ptr, ...dims: PoolDims): void;
  affineResample_f32(x: Ptr, maps: Ptr, o: Ptr, n: number, c: number, h: number, w: number): void;
  softmaxCrossEntropy_f32(x: Ptr, y: Ptr, loss: Ptr, grad: Ptr, n: number, k: number): void;
  sigmoidCrossEntropy_f32(x: Ptr, y: Ptr, loss: Ptr, grad: Ptr, m: number): void;
  sgdUpdate_f32(p: Ptr, g: Ptr, n: number, lr: number, wd: number): void;
  momentumUpdate_f32(p: Ptr, g: Ptr, v: Ptr, n: number, lr: number, wd: number, mu: number, nesterov: number): void;
  adamUpdate_f32(p: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lr: number, wd: number, b1: number, b2: number, eps: number, c1: number, c2: number): void;
  rmspropUpdate_f32(p: Ptr, g: Ptr, s: Ptr, n: number, lr: number, wd: number, rho: number, eps: number): void;
}
