import { checkNonNegativeInt, checkNumberInRange, mul, type Tensor } from '@backprop/tensor';
import { type BuildContext, type ForwardOptions, Layer, type LayerConfig } from '../layer.js';
import { checkSeed, RandomStream } from './random-stream.js';

export interface DropoutConfig extends LayerConfig {
  /** Fraction of the inputs set to 0 while training, in [0, 1). */
  rate: number;
  /** Seed of the masks; default: one drawn from the model's seed when the layer is built. */
  seed?: number;
}

/**
 * Inverted dropout (apps/docs/math/dropout.md). Training: m_i = 1[u_i ≥ rate] / (1 − rate)
 * with u_i uniform in [0, 1), y = x ⊙ m; backward ∂x = ∂y ⊙ m. Inference: y = x (the
 * 1/(1 − rate) scaling while training keeps E[y] = x, so nothing is rescaled here).
 * No parameters; the mask is a host draw from the layer's seeded stream, multiplied on
 * the backend (one `mul` each way).
 */
export class Dropout extends Layer {
  readonly className = 'Dropout';
  readonly rate: number;
  readonly seed: number | undefined;
  private readonly stream: RandomStream;
  private mask: Tensor | undefined;
  private applied = false;

  // The default only lets `new Dropout()` reach the option checks (rate is required).
  constructor(config: DropoutConfig = {} as DropoutConfig) {
    super(config);
    const where = `Dropout${config.name ? ` '${config.name}'` : ''}`;
    this.rate = checkNumberInRange(where, 'rate', config.rate, { min: 0, max: 1, maxExclusive: true });
    this.seed = checkSeed(where, config.seed);
    this.stream = new RandomStream(this.seed);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  protected override createParams(context: BuildContext): void {
    this.stream.start(context.rng);
  }

  override paramShapes(): Record<string, number[]> {
    return {};
  }

  override restartRandomStream(): void {
    this.stream.restart();
  }

  override get randomStreamPosition(): number {
    return this.stream.position;
  }

  override seekRandomStream(position: number): void {
    this.stream.seek(checkNonNegativeInt(this.where, 'position', position));
  }

  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    this.checkInput(x);
    this.applied = options.training === true && this.rate > 0;
    if (!this.applied) return x;
    const rng = this.stream.next();
    const keep = 1 / (1 - this.rate);
    const values = x.dtype === 'float64' ? new Float64Array(x.size) : new Float32Array(x.size);
    for (let i = 0; i < values.length; i++) values[i] = rng.next() < this.rate ? 0 : keep;
    this.mask = x.registry.makeTensor(values, x.shape, x.dtype);
    return mul(x, this.mask);
  }

  backward(dy: Tensor): Tensor {
    return this.applied ? mul(dy, this.requireSaved(this.mask)) : dy;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, rate: this.rate, seed: this.seed };
  }
}
