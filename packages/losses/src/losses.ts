import {
  abs,
  addScalar,
  checkRank,
  div,
  log,
  log1p,
  matMul,
  maximumScalar,
  minimumScalar,
  mul,
  mulScalar,
  neg,
  powScalar,
  sigmoidCrossEntropy,
  sign,
  softmaxCrossEntropy,
  sqrt,
  square,
  sub,
  sum,
  type HostValues,
  type Loss,
  type LossFactory,
  type LossResult,
  type Tensor,
} from '@backprop/tensor';
import {
  checkCategoricalTargets,
  checkFinite,
  checkPair,
  checkUnitInterval,
  readOptions,
  sameDtype,
} from './validate.js';

/**
 * The losses of apps/docs/math/losses.md and its fused heads.
 *
 * Notation as in the table: ŷ = predictions, y = targets (same shape), M = number of
 * elements, N = batch size (rows of an (N, K) tensor). Every loss returns the scalar
 * value (shape []) and ∂L/∂ŷ; the 1/M (or 1/N) factor lives in that gradient
 * (apps/docs/math/index.md (conventions)), so layers never divide by the batch size again.
 *
 * Each `formulas.<loss>` below is one row of the table, written with @backprop/tensor
 * ops only, so it runs unchanged on every backend. They run inside a registry scope:
 * intermediates are disposed, only { loss, grad } survive.
 */

/** 1 − v. */
const oneMinus = (v: Tensor): Tensor => addScalar(neg(v), 1);

/** ln(1e-100)… the categorical/binary CE log clamp: each log is clamped at ≥ −100 (PyTorch). */
const LOG_FLOOR = -100;
/** e^−100, the probability floor of the categorical CE gradient (apps/docs/math/losses.md). */
const EXP_MINUS_100 = Math.exp(-100);
/**
 * In float32 e^−100 is a denormal and y/e^−100 overflows to Infinity, so the float32
 * gradient floors p at the smallest normal float32 instead (the value is unchanged:
 * the log clamp at −100 already applies). float64 uses e^−100 exactly.
 */
const FLOAT32_MIN_NORMAL = 2 ** -126;

export const formulas = {
  /** MSE (Eq 2.4): L = (1/M) Σ (ŷ − y)²,  ∂L/∂ŷ = (2/M)(ŷ − y). */
  mse(yHat: Tensor, y: Tensor): LossResult {
    const M = yHat.size;
    const d = sub(yHat, y);
    return { loss: mulScalar(sum(square(d)), 1 / M), grad: mulScalar(d, 2 / M) };
  },

  /**
   * MSLE (Eq 2.5 corrected, E10): ℓ_v = log1p(max(v, 0)),
   * L = (1/M) Σ (ℓ_ŷ − ℓ_y)²,  ∂L/∂ŷ = (2/M)(ℓ_ŷ − ℓ_y)/(1 + ŷ) if ŷ ≥ 0, else 0.
   */
  msle(yHat: Tensor, y: Tensor): LossResult {
    const M = yHat.size;
    const lYHat = log1p(maximumScalar(yHat, 0));
    const lY = log1p(maximumScalar(y, 0));
    const e = sub(lYHat, lY);
    // 1[ŷ ≥ 0] = min(sign(ŷ) + 1, 1); (1 + max(ŷ, 0)) equals 1 + ŷ wherever the mask is 1
    // and never divides by zero where it is 0.
    const mask = minimumScalar(addScalar(sign(yHat), 1), 1);
    const grad = mul(mulScalar(div(e, addScalar(maximumScalar(yHat, 0), 1)), 2 / M), mask);
    return { loss: mulScalar(sum(square(e)), 1 / M), grad };
  },

  /**
   * L2 (Eq 2.6 as written, E11): the sum of squared errors, L = Σ (ŷ − y)²,
   * ∂L/∂ŷ = 2(ŷ − y). A sum over samples: it grows with the batch size (E12).
   */
  l2(yHat: Tensor, y: Tensor): LossResult {
    const d = sub(yHat, y);
    return { loss: sum(square(d)), grad: mulScalar(d, 2) };
  },

  /**
   * L2 norm (E11, optional root form): L = ‖ŷ − y‖₂ = sqrt(Σ (ŷ − y)²),
   * ∂L/∂ŷ = (ŷ − y)/‖ŷ − y‖₂, defined as 0 where the norm is 0.
   */
  l2norm(yHat: Tensor, y: Tensor): LossResult {
    const M = yHat.size;
    const d = sub(yHat, y);
    const norm = sqrt(sum(square(d)));
    // (ŷ − y)·(1/max(‖·‖, tiny)): at a zero norm d is 0, so the product is 0.
    const tiny = yHat.dtype === 'float64' ? 1e-300 : 1e-30;
    const inv = powScalar(maximumScalar(norm, tiny), -1);
    // No broadcasting op: scale the column d (M, 1) by the 1×1 matrix 1/‖d‖.
    const grad = matMul(d.reshape([M, 1]), inv.reshape([1, 1])).reshape(yHat.shape);
    return { loss: norm, grad };
  },

  /** L1 (Eq 2.7): L = Σ |ŷ − y|, ∂L/∂ŷ = sign(ŷ − y) with sign(0) = 0. A sum: grows with the batch (E12). */
  l1(yHat: Tensor, y: Tensor): LossResult {
    const d = sub(yHat, y);
    return { loss: sum(abs(d)), grad: sign(d) };
  },

  /** MAE (Eq 2.8): L = (1/M) Σ |ŷ − y|, ∂L/∂ŷ = sign(ŷ − y)/M. */
  mae(yHat: Tensor, y: Tensor): LossResult {
    const M = yHat.size;
    const d = sub(yHat, y);
    return { loss: mulScalar(sum(abs(d)), 1 / M), grad: mulScalar(sign(d), 1 / M) };
  },

  /**
   * MAPE (Eq 2.9, E13): L = (100/M) Σ |ŷ − y| / max(|y|, ε), ε = 1e−7,
   * ∂L/∂ŷ = (100/M) sign(ŷ − y) / max(|y|, ε).
   */
  mape(yHat: Tensor, y: Tensor): LossResult {
    const M = yHat.size;
    const d = sub(yHat, y);
    const denominator = maximumScalar(abs(y), 1e-7);
    return {
      loss: mulScalar(sum(div(abs(d), denominator)), 100 / M),
      grad: mulScalar(div(sign(d), denominator), 100 / M),
    };
  },

  /**
   * Binary CE on probabilities (Eq 2.14 / 3.23, E14–E17):
   * L = −(1/M) Σ [y log ŷ + (1 − y) log(1 − ŷ)], each log clamped ≥ −100,
   * ∂L/∂ŷ = (1/M)(ŷ − y) / max(ŷ(1 − ŷ), 1e−12).
   */
  binaryCrossentropy(yHat: Tensor, y: Tensor): LossResult {
    const M = yHat.size;
    const logYHat = maximumScalar(log(yHat), LOG_FLOOR);
    const logOneMinusYHat = maximumScalar(log(oneMinus(yHat)), LOG_FLOOR);
    const total = sum(sub(neg(mul(y, logYHat)), mul(oneMinus(y), logOneMinusYHat)));
    const grad = mulScalar(div(sub(yHat, y), maximumScalar(mul(yHat, oneMinus(yHat)), 1e-12)), 1 / M);
    return { loss: mulScalar(total, 1 / M), grad };
  },

  /**
   * Categorical CE on probabilities (needed by Eq 3.27): p, y of shape (N, K),
   * L = −(1/N) Σ_{n,k} y log p (log clamped ≥ −100), ∂L/∂p = −y / (N max(p, e^−100)).
   * Divides by N, not M.
   */
  categoricalCrossentropy(p: Tensor, y: Tensor): LossResult {
    const N = p.shape[0];
    const floor = p.dtype === 'float64' ? EXP_MINUS_100 : FLOAT32_MIN_NORMAL;
    const logP = maximumScalar(log(p), LOG_FLOOR);
    return {
      loss: mulScalar(sum(mul(y, logP)), -1 / N),
      grad: div(mulScalar(y, -1 / N), maximumScalar(p, floor)),
    };
  },

  /**
   * [N] D (Eq 20/21, N5): D = ½ Σ_μ Σ_i (ζ − s)², ∂D/∂s = s − ζ. A sum with no 1/m:
   * its gradient scales with the number of samples m (apps/docs/math/gradient-descent.md: ε = α/m gives the
   * mean-loss step). Here s = predictions, ζ = targets.
   */
  halfSumSquares(s: Tensor, zeta: Tensor): LossResult {
    const d = sub(s, zeta);
    return { loss: mulScalar(sum(square(d)), 0.5), grad: d };
  },

  /**
   * Softmax + CE from logits x (apps/docs/math/losses.md): ℓ_n = (Σ_k y) LSE(x_n) − Σ_k y x,
   * L = (1/N) Σ_n ℓ_n, ∂L/∂x = (p Σ_j y − y)/N (= (p − y)/N for one-hot rows).
   */
  softmaxCrossEntropyFromLogits(x: Tensor, y: Tensor): LossResult {
    return softmaxCrossEntropy(x, y);
  },

  /**
   * Sigmoid + BCE from logits x (apps/docs/math/losses.md): ℓ = max(x, 0) − xy + log1p(e^−|x|),
   * L = (1/M) Σ ℓ, ∂L/∂x = (σ(x) − y)/M.
   */
  sigmoidCrossEntropyFromLogits(x: Tensor, y: Tensor): LossResult {
    return sigmoidCrossEntropy(x, y);
  },
} as const;

export type LossName =
  | 'mse'
  | 'msle'
  | 'l2'
  | 'l2norm'
  | 'l1'
  | 'mae'
  | 'mape'
  | 'binaryCrossentropy'
  | 'categoricalCrossentropy'
  | 'halfSumSquares'
  | 'softmaxCrossEntropyFromLogits'
  | 'sigmoidCrossEntropyFromLogits';

type Math2 = (predictions: Tensor, targets: Tensor) => LossResult;
type Check = (loss: string, values: HostValues) => void;

interface Definition {
  name: LossName;
  math: Math2;
  /** Value checks on `compute`'s predictions beyond finiteness (none apply to logits). */
  predictions?: Check;
  /** Value checks on the targets beyond finiteness: the same for `compute` and `computeFromLogits`. */
  targets?: Check;
  /** Predictions must be (N, K). */
  rank2?: boolean;
  fused?: { activation: 'softmax' | 'sigmoid'; math: Math2 };
}

const PROBABILITY_HINT = (loss: string, activation: string, fused: string): string =>
  `; ${loss} expects probabilities: apply ${activation} first, or train on logits with the fused '${fused}' loss`;

const binaryTargets: Check = (loss, y) => checkUnitInterval(loss, 'targets', y);
const binaryProbabilities: Check = (loss, p) =>
  checkUnitInterval(loss, 'predictions', p, PROBABILITY_HINT(loss, 'a sigmoid', 'sigmoidCrossEntropyFromLogits'));
const categoricalTargets: Check = (loss, y) => checkCategoricalTargets(loss, y);
const categoricalProbabilities: Check = (loss, p) =>
  checkUnitInterval(loss, 'predictions', p, PROBABILITY_HINT(loss, 'a softmax', 'softmaxCrossEntropyFromLogits'));

const DEFINITIONS: Record<LossName, Definition> = {
  mse: { name: 'mse', math: formulas.mse },
  msle: { name: 'msle', math: formulas.msle },
  l2: { name: 'l2', math: formulas.l2 },
  l2norm: { name: 'l2norm', math: formulas.l2norm },
  l1: { name: 'l1', math: formulas.l1 },
  mae: { name: 'mae', math: formulas.mae },
  mape: { name: 'mape', math: formulas.mape },
  halfSumSquares: { name: 'halfSumSquares', math: formulas.halfSumSquares },
  binaryCrossentropy: {
    name: 'binaryCrossentropy',
    math: formulas.binaryCrossentropy,
    predictions: binaryProbabilities,
    targets: binaryTargets,
    fused: { activation: 'sigmoid', math: formulas.sigmoidCrossEntropyFromLogits },
  },
  categoricalCrossentropy: {
    name: 'categoricalCrossentropy',
    math: formulas.categoricalCrossentropy,
    predictions: categoricalProbabilities,
    targets: categoricalTargets,
    rank2: true,
    fused: { activation: 'softmax', math: formulas.softmaxCrossEntropyFromLogits },
  },
  // The explicit fused losses take logits in `compute`. They also declare the fused
  // activation, so a model whose last layer applies that activation hands them the
  // logits through `computeFromLogits`: both set-ups train correctly.
  softmaxCrossEntropyFromLogits: {
    name: 'softmaxCrossEntropyFromLogits',
    math: formulas.softmaxCrossEntropyFromLogits,
    targets: categoricalTargets,
    rank2: true,
    fused: { activation: 'softmax', math: formulas.softmaxCrossEntropyFromLogits },
  },
  sigmoidCrossEntropyFromLogits: {
    name: 'sigmoidCrossEntropyFromLogits',
    math: formulas.sigmoidCrossEntropyFromLogits,
    targets: binaryTargets,
    fused: { activation: 'sigmoid', math: formulas.sigmoidCrossEntropyFromLogits },
  },
};

const oneHotHint = (p: Tensor, t: Tensor): string =>
  p.rank === 2 && t.rank === 1 && t.shape[0] === p.shape[0]
    ? `; give one-hot rows, e.g. toOneHot(labels, ${p.shape[1]})`
    : '';

function build(def: Definition, config: Record<string, unknown> | undefined): Loss {
  const { validate } = readOptions(def.name, config);
  const fromLogits = def.name.endsWith('FromLogits');
  const computeArg = fromLogits ? 'logits' : 'predictions';
  /** The checks on the targets alone (finite, and the loss's range or row rule). */
  const checkTargets = (targets: HostValues): void => {
    if (!validate) return;
    checkFinite(def.name, 'targets', targets);
    // Class rows need (N, K) targets; other shapes are refused by compute's shape checks.
    if (!def.rank2 || targets.shape.length === 2) def.targets?.(def.name, targets);
  };
  /** Every value check of `compute` (or of `computeFromLogits`) on host values. */
  const checkValues = (predictions: HostValues, targets: HostValues, logits = false): void => {
    if (!validate) return;
    checkFinite(def.name, logits ? 'logits' : computeArg, predictions);
    checkFinite(def.name, 'targets', targets);
    if (!logits) def.predictions?.(def.name, predictions);
    def.targets?.(def.name, targets);
  };
  // compute checks what needs no read-back (tensors, shapes, dtypes); the value checks
  // would read both arguments back from the device on every call (see validate.ts).
  const runner =
    (argName: string, math: Math2) =>
    (predictions: Tensor, targets: Tensor): LossResult => {
      checkPair(def.name, predictions, targets, argName, def.rank2 ? oneHotHint : undefined);
      if (def.rank2) checkRank(def.name, argName, predictions, 2, '(batch, classes)');
      return predictions.registry.scope(() => math(predictions, sameDtype(targets, predictions)));
    };
  const loss: Loss = {
    name: def.name,
    compute: runner(computeArg, def.math),
    fromLogits,
    checkValues,
    checkTargets,
    getConfig: () => (validate ? {} : { validate: false }),
    ...(def.fused ? { fusedActivation: def.fused.activation, computeFromLogits: runner('logits', def.fused.math) } : {}),
  };
  return Object.freeze(loss);
}

const factory =
  (name: LossName): LossFactory =>
  (config?: Record<string, unknown>) =>
    build(DEFINITIONS[name], config);

/** Mean squared error, Eq 2.4. */
export const mse: LossFactory = factory('mse');
/** Mean squared logarithmic error, Eq 2.5 corrected (E10). */
export const msle: LossFactory = factory('msle');
/** Sum of squared errors, Eq 2.6 as written (E11); scales with the batch (E12). */
export const l2: LossFactory = factory('l2');
/** Euclidean norm of the error, the root form of E11. */
export const l2norm: LossFactory = factory('l2norm');
/** Sum of absolute errors, Eq 2.7; scales with the batch (E12). */
export const l1: LossFactory = factory('l1');
/** Mean absolute error, Eq 2.8. */
export const mae: LossFactory = factory('mae');
/** Mean absolute percentage error, Eq 2.9 with denominator max(|y|, 1e−7) (E13). */
export const mape: LossFactory = factory('mape');
/** Binary CE on probabilities, Eq 2.14/3.23; fuses with a final sigmoid (the fused heads of apps/docs/math/losses.md). */
export const binaryCrossentropy: LossFactory = factory('binaryCrossentropy');
/** Categorical CE on probabilities (one-hot rows); fuses with a final softmax (the fused heads of apps/docs/math/losses.md). */
export const categoricalCrossentropy: LossFactory = factory('categoricalCrossentropy');
/** [N]'s D = ½ Σ (s − ζ)², Eq 20/21, gradient s − ζ (no 1/m). */
export const halfSumSquares: LossFactory = factory('halfSumSquares');
/** Softmax + categorical CE from logits (the fused heads of apps/docs/math/losses.md). */
export const softmaxCrossEntropyFromLogits: LossFactory = factory('softmaxCrossEntropyFromLogits');
/** Sigmoid + binary CE from logits (the fused heads of apps/docs/math/losses.md). */
export const sigmoidCrossEntropyFromLogits: LossFactory = factory('sigmoidCrossEntropyFromLogits');

/** Every loss factory by registry name. */
export const LOSS_FACTORIES: Readonly<Record<LossName, LossFactory>> = Object.freeze({
  mse,
  msle,
  l2,
  l2norm,
  l1,
  mae,
  mape,
  binaryCrossentropy,
  categoricalCrossentropy,
  halfSumSquares,
  softmaxCrossEntropyFromLogits,
  sigmoidCrossEntropyFromLogits,
});
