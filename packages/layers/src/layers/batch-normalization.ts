import {
  add,
  addScalar,
  biasAdd,
  biasGrad,
  checkBoolean,
  checkOneOf,
  checkNumberInRange,
  mul,
  mulScalar,
  neg,
  powScalar,
  square,
  sub,
  type Tensor,
  zerosLike,
} from '@backprop/tensor';
import { type BackwardOptions, type BuildContext, type ForwardOptions, Layer, type LayerConfig, type Param } from '../layer.js';

export interface BatchNormalizationConfig extends LayerConfig {
  /** The axis normalised per entry: 1, the channels of (N, C, H, W) or the features of (N, C); the only one supported. */
  axis?: 1;
  /** Weight of the old value in the moving averages, in [0, 1]; default 0.99. */
  momentum?: number;
  /** ε added to the variance, > 0; default 1e-3. */
  epsilon?: number;
  /** Learn the shift β; default true. */
  center?: boolean;
  /** Learn the scale γ; default true. */
  scale?: boolean;
}

/**
 * Batch normalisation over axis 1 (apps/docs/math/batch-normalization.md), one (μ, σ²)
 * per channel c over the M = N·H·W values of the batch (M = N for (N, C)):
 *
 *   training   μ = (1/M) Σ x,  σ² = (1/M) Σ (x − μ)²  (biased, as Keras),
 *              moving ← momentum·moving + (1 − momentum)·batch  (μ, and σ² as is)
 *   inference  μ, σ² = the moving averages
 *   both       x̂ = (x − μ)/√(σ² + ε),  y = γ x̂ + β
 *
 * Backward (batch statistics): ∂β = Σ ∂y, ∂γ = Σ ∂y ⊙ x̂, ∂x̂ = ∂y γ,
 * ∂x = (1/(M √(σ² + ε))) (M ∂x̂ − Σ ∂x̂ − x̂ Σ ∂x̂ ⊙ x̂); after an inference forward the
 * statistics are constants and ∂x = ∂x̂/√(σ² + ε).
 *
 * Parameters gamma and beta are trained; movingMean and movingVariance are weights the
 * layer updates itself (`trainable: false`), saved and loaded with the others. Composed
 * from backend ops: per-channel sums are `biasGrad`, per-channel shifts `biasAdd`, and a
 * per-channel product is a `mul` by the vector spread over the shape (`alongChannels`).
 */
export class BatchNormalization extends Layer {
  readonly className = 'BatchNormalization';
  readonly axis = 1;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private gamma: Param | undefined;
  private beta: Param | undefined;
  private movingMean: Param | undefined;
  private movingVariance: Param | undefined;
  /** Saved by forward for backward. */
  private xHat: Tensor | undefined;
  private invStd: Tensor | undefined;
  private batchStatistics = false;

  constructor(config: BatchNormalizationConfig = {}) {
    super(config);
    const where = `BatchNormalization${config.name ? ` '${config.name}'` : ''}`;
    // Axis 1 is the channels of NCHW and the features of (N, C); an option so saved models say so.
    checkOneOf(where, 'axis', config.axis ?? 1, [1] as const);
    this.momentum = checkNumberInRange(where, 'momentum', config.momentum ?? 0.99, { min: 0, max: 1 });
    this.epsilon = checkNumberInRange(where, 'epsilon', config.epsilon ?? 1e-3, { min: 0, minExclusive: true });
    this.center = checkBoolean(where, 'center', config.center, true);
    this.scale = checkBoolean(where, 'scale', config.scale, true);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  override paramShapes(inputShape: readonly number[]): Record<string, number[]> {
    const channels = [inputShape[0]];
    return {
      ...(this.scale ? { gamma: channels } : {}),
      ...(this.center ? { beta: channels } : {}),
      movingMean: channels,
      movingVariance: channels,
    };
  }

  protected override createParams(context: BuildContext): void {
    const [c] = this.inputShape!;
    if (this.scale) this.gamma = this.addParam(context, 'gamma', [c], 'ones', c, c);
    if (this.center) this.beta = this.addParam(context, 'beta', [c], 'zeros', c, c);
    this.movingMean = this.addParam(context, 'movingMean', [c], 'zeros', c, c, false);
    this.movingVariance = this.addParam(context, 'movingVariance', [c], 'ones', c, c, false);
  }

  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    this.checkInput(x);
    const movingMean = this.requireSaved(this.movingMean);
    const movingVariance = this.requireSaved(this.movingVariance);
    this.batchStatistics = options.training === true;
    let mean: Tensor;
    let variance: Tensor;
    let centred: Tensor;
    if (this.batchStatistics) {
      const m = x.size / x.shape[1];
      mean = mulScalar(biasGrad(x), 1 / m);
      centred = biasAdd(x, neg(mean));
      variance = mulScalar(biasGrad(square(centred)), 1 / m);
      updateMovingAverage(movingMean, mean, this.momentum);
      updateMovingAverage(movingVariance, variance, this.momentum);
    } else {
      mean = movingMean.value;
      variance = movingVariance.value;
      centred = biasAdd(x, neg(mean));
    }
    this.invStd = powScalar(addScalar(variance, this.epsilon), -0.5);
    this.xHat = mul(centred, alongChannels(this.invStd, x));
    let y = this.xHat;
    if (this.gamma) y = mul(y, alongChannels(this.gamma.value, x));
    if (this.beta) y = biasAdd(y, this.beta.value);
    return y;
  }

  backward(dy: Tensor, options: BackwardOptions = {}): Tensor | undefined {
    const xHat = this.requireSaved(this.xHat);
    const invStd = this.requireSaved(this.invStd);
    if (this.beta) this.beta.grad = biasGrad(dy);
    if (this.gamma) this.gamma.grad = biasGrad(mul(dy, xHat));
    if (options.inputGradient === false) return undefined;
    const dxHat = this.gamma ? mul(dy, alongChannels(this.gamma.value, dy)) : dy;
    if (!this.batchStatistics) return mul(dxHat, alongChannels(invStd, dy));
    const m = dy.size / dy.shape[1];
    const sumDxHat = alongChannels(biasGrad(dxHat), dy);
    const sumDxHatXHat = alongChannels(biasGrad(mul(dxHat, xHat)), dy);
    const bracket = sub(sub(mulScalar(dxHat, m), sumDxHat), mul(xHat, sumDxHatXHat));
    return mul(alongChannels(mulScalar(invStd, 1 / m), dy), bracket);
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, axis: this.axis, momentum: this.momentum, epsilon: this.epsilon, center: this.center, scale: this.scale };
  }
}

/** moving ← momentum·moving + (1 − momentum)·batch, kept beyond the training step's scope. */
function updateMovingAverage(moving: Param, batch: Tensor, momentum: number): void {
  const old = moving.value;
  moving.value = old.registry.keep(add(mulScalar(old, momentum), mulScalar(batch, 1 - momentum)));
  old.dispose();
}

/** A per-channel vector v (C) spread over the shape of `like` (N, C, …): v[c] at every (n, c, …), for element-wise products. */
function alongChannels(v: Tensor, like: Tensor): Tensor {
  return biasAdd(zerosLike(like), v);
}

