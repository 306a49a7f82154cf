import { affineResample, checkNonNegativeInt, checkNumberInRange, checkOneOf, type Random, type Tensor } from '@backprop/tensor';
import { type BackwardOptions, type BuildContext, type ForwardOptions, Layer, type LayerConfig } from '../layer.js';
import { checkSeed, RandomStream } from './random-stream.js';

export interface AugmentationConfig extends LayerConfig {
  /** Seed of the random maps; default: one drawn from the model's seed when the layer is built. */
  seed?: number;
}

/** A map [a, b, c, d, e, f]: output pixel (i, j) reads column a·j + b·i + c, row d·j + e·i + f. */
type Affine = [number, number, number, number, number, number];

/**
 * The augmentation layers (apps/docs/math/augmentation.md), active only while training,
 * as Keras's preprocessing layers: each image of the batch is resampled by its own random
 * affine map — bilinear interpolation, constant 0 outside the image — by the backend's
 * `affineResample` kernel; at inference they are the identity. No weights; the options
 * and seed are saved with the model's topology.
 *
 * They have no input gradient (the transpose of the resampling is not a kernel), so a
 * model refuses one after a layer with parameters: they go in front of the model, where
 * backpropagation never reaches them (`Sequential.backward` stops at the first layer with
 * trainable parameters).
 */
abstract class RandomAffine extends Layer {
  readonly seed: number | undefined;
  private readonly stream: RandomStream;
  private applied = false;

  constructor(config: AugmentationConfig) {
    super(config);
    this.seed = checkSeed(`${new.target.name}${config.name ? ` '${config.name}'` : ''}`, config.seed);
    this.stream = new RandomStream(this.seed);
  }

  /** The map of one image of height h and width w. */
  protected abstract draw(rng: Random, h: number, w: number): Affine;

  /** True when every map is the identity (all factors 0): training then skips the resampling. */
  protected abstract get isIdentity(): boolean;

  override get hasInputGradient(): boolean {
    return false;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 3) throw this.error(`expects a (channels, height, width) input but got [${inputShape.join(', ')}]`);
    return [...inputShape];
  }

  override paramShapes(): Record<string, number[]> {
    return {};
  }

  protected override createParams(context: BuildContext): void {
    this.stream.start(context.rng);
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
    this.applied = options.training === true && !this.isIdentity;
    if (!this.applied) return x;
    const [n, , h, w] = x.shape;
    const rng = this.stream.next();
    const maps = x.dtype === 'float64' ? new Float64Array(n * 6) : new Float32Array(n * 6);
    for (let s = 0; s < n; s++) maps.set(this.draw(rng, h, w), s * 6);
    return affineResample(x, x.registry.makeTensor(maps, [n, 6], x.dtype));
  }

  backward(dy: Tensor, options: BackwardOptions = {}): Tensor | undefined {
    if (options.inputGradient === false) return undefined;
    if (!this.applied) return dy;
    throw this.error('has no input gradient after a training forward (the augmentation layers go in front of the model, before every layer with parameters)');
  }
}

const centre = (size: number): number => (size - 1) / 2;

export interface RandomFlipConfig extends AugmentationConfig {
  /** Which flips are drawn, each with probability 1/2; default 'horizontal' (left ↔ right). */
  mode?: 'horizontal' | 'vertical' | 'horizontal_and_vertical';
}

/** Flips each image left ↔ right ('horizontal') and/or top ↔ bottom ('vertical'), each with probability 1/2. */
export class RandomFlip extends RandomAffine {
  readonly className = 'RandomFlip';
  readonly mode: 'horizontal' | 'vertical' | 'horizontal_and_vertical';

  constructor(config: RandomFlipConfig = {}) {
    super(config);
    this.mode = checkOneOf(this.where, 'mode', config.mode ?? 'horizontal', ['horizontal', 'vertical', 'horizontal_and_vertical'] as const);
  }

  protected get isIdentity(): boolean {
    return false;
  }

  protected draw(rng: Random, h: number, w: number): Affine {
    const horizontal = this.mode !== 'vertical' && rng.next() < 0.5;
    const vertical = this.mode !== 'horizontal' && rng.next() < 0.5;
    // Column w − 1 − j and row h − 1 − i: whole pixels, so the flip is exact.
    return [horizontal ? -1 : 1, 0, horizontal ? w - 1 : 0, 0, vertical ? -1 : 1, vertical ? h - 1 : 0];
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, mode: this.mode, seed: this.seed };
  }
}

export interface RandomTranslationConfig extends AugmentationConfig {
  /** Vertical shift, a fraction of the height in [0, 1]: uniform in [−heightFactor·H, heightFactor·H] pixels. */
  heightFactor: number;
  /** Horizontal shift, a fraction of the width in [0, 1]. */
  widthFactor: number;
}

/** Shifts each image by (t_y, t_x) pixels, uniform in ±heightFactor·H and ±widthFactor·W. */
export class RandomTranslation extends RandomAffine {
  readonly className = 'RandomTranslation';
  readonly heightFactor: number;
  readonly widthFactor: number;

  // The default only lets `new RandomTranslation()` reach the option checks (both factors are required).
  constructor(config: RandomTranslationConfig = {} as RandomTranslationConfig) {
    super(config);
    this.heightFactor = checkNumberInRange(this.where, 'heightFactor', config.heightFactor, { min: 0, max: 1 });
    this.widthFactor = checkNumberInRange(this.where, 'widthFactor', config.widthFactor, { min: 0, max: 1 });
  }

  protected get isIdentity(): boolean {
    return this.heightFactor === 0 && this.widthFactor === 0;
  }

  protected draw(rng: Random, h: number, w: number): Affine {
    const ty = rng.uniform(-this.heightFactor, this.heightFactor) * h;
    const tx = rng.uniform(-this.widthFactor, this.widthFactor) * w;
    // Content moves by (t_y, t_x): output (i, j) reads (i − t_y, j − t_x).
    return [1, 0, -tx, 0, 1, -ty];
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, heightFactor: this.heightFactor, widthFactor: this.widthFactor, seed: this.seed };
  }
}

export interface RandomRotationConfig extends AugmentationConfig {
  /** Angle as a fraction of a full turn, in [0, 0.5]: θ uniform in [−factor·2π, factor·2π]. */
  factor: number;
}

/** Rotates each image about its centre by θ uniform in ±factor·2π. */
export class RandomRotation extends RandomAffine {
  readonly className = 'RandomRotation';
  readonly factor: number;

  // The default only lets `new RandomRotation()` reach the option checks (factor is required).
  constructor(config: RandomRotationConfig = {} as RandomRotationConfig) {
    super(config);
    this.factor = checkNumberInRange(this.where, 'factor', config.factor, { min: 0, max: 0.5 });
  }

  protected get isIdentity(): boolean {
    return this.factor === 0;
  }

  protected draw(rng: Random, h: number, w: number): Affine {
    const theta = rng.uniform(-this.factor, this.factor) * 2 * Math.PI;
    const cos = Math.cos(theta), sin = Math.sin(theta);
    const cx = centre(w), cy = centre(h);
    // (u, v) = c + R(θ)ᵀ((j, i) − c): the output is the input turned by θ about the centre c.
    return [cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy];
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, factor: this.factor, seed: this.seed };
  }
}

export interface RandomZoomConfig extends AugmentationConfig {
  /** Vertical zoom in [0, 1): the height scale z_y is uniform in [1 − heightFactor, 1 + heightFactor]; z > 1 zooms out. */
  heightFactor: number;
  /** Horizontal zoom in [0, 1); default: z_x = z_y (the aspect ratio is kept). */
  widthFactor?: number;
}

/** Scales each image about its centre: output (i, j) reads c + (z_x (j − c_x), z_y (i − c_y)); z > 1 zooms out, z < 1 in. */
export class RandomZoom extends RandomAffine {
  readonly className = 'RandomZoom';
  readonly heightFactor: number;
  readonly widthFactor: number | undefined;

  // The default only lets `new RandomZoom()` reach the option checks (heightFactor is required).
  constructor(config: RandomZoomConfig = {} as RandomZoomConfig) {
    super(config);
    const range = { min: 0, max: 1, maxExclusive: true };
    this.heightFactor = checkNumberInRange(this.where, 'heightFactor', config.heightFactor, range);
    this.widthFactor = config.widthFactor === undefined ? undefined : checkNumberInRange(this.where, 'widthFactor', config.widthFactor, range);
  }

  protected get isIdentity(): boolean {
    return this.heightFactor === 0 && (this.widthFactor ?? 0) === 0;
  }

  protected draw(rng: Random, h: number, w: number): Affine {
    const zy = 1 + rng.uniform(-this.heightFactor, this.heightFactor);
    const zx = this.widthFactor === undefined ? zy : 1 + rng.uniform(-this.widthFactor, this.widthFactor);
    const cx = centre(w), cy = centre(h);
    return [zx, 0, cx - zx * cx, 0, zy, cy - zy * cy];
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, heightFactor: this.heightFactor, widthFactor: this.widthFactor, seed: this.seed };
  }
}
