import {
  biasGrad,
  checkBoolean,
  checkIntPair,
  checkOneOf,
  checkPositiveInt,
  computeConv2DInfo,
  conv2d,
  conv2dBackwardFilter,
  conv2dBackwardInput,
  type Tensor,
} from '@backprop/tensor';
import { type ActivationName, activate, activationBackward, checkActivation, checkAlpha, fusable } from '../activations.js';
import { checkInitializer, type InitializerName } from '../initializers.js';
import { type BackwardOptions, type BuildContext, type ForwardOptions, Layer, type LayerConfig, type Param } from '../layer.js';
import { MAX_LAYER_ARG, type PairArg } from './args.js';

export interface Conv2DConfig extends LayerConfig {
  /** Number of kernels F (the paper's K_D). */
  filters: number;
  kernelSize: PairArg;
  /** Stride Z_S, default 1. */
  strides?: PairArg;
  /** 'valid' (no padding), 'same' (odd kernels: (k−1)/2 on each side) or explicit Z_P. */
  padding?: 'valid' | 'same' | PairArg;
  activation?: Exclude<ActivationName, 'softmax'>;
  /** Leaky ReLU slope. */
  alpha?: number;
  useBias?: boolean;
  kernelInitializer?: InitializerName;
  biasInitializer?: InitializerName;
}

/**
 * Z = X ⋆ K + b, Y = f(Z) (apps/docs/math/convolution.md, the paper's Eq 3.1–3.4 corrected).
 * Backward: ∂K = X̃ ⋆ G↑S, ∂b = Σ G, ∂X = crop(pad(G↑S) ⋆ rot180 K).
 */
export class Conv2D extends Layer {
  readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same' | [number, number];
  readonly activation: ActivationName;
  readonly alpha: number;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerName;
  readonly biasInitializer: InitializerName;
  private kernel: Param | undefined;
  private bias: Param | undefined;
  private x: Tensor | undefined;
  private y: Tensor | undefined;
  private appliedActivation: ActivationName = 'linear';

  // The default only lets `new Conv2D()` reach the option checks (filters is required).
  constructor(config: Conv2DConfig = {} as Conv2DConfig) {
    super(config);
    const where = `Conv2D${config.name ? ` '${config.name}'` : ''}`;
    this.filters = checkPositiveInt(where, 'filters', config.filters, MAX_LAYER_ARG);
    this.kernelSize = checkIntPair(where, 'kernelSize', config.kernelSize, 'positive', MAX_LAYER_ARG);
    this.strides = checkIntPair(where, 'strides', config.strides ?? 1, 'positive', MAX_LAYER_ARG);
    const padding = config.padding ?? 'valid';
    this.padding =
      typeof padding === 'string'
        ? checkOneOf(where, 'padding', padding, ['valid', 'same'] as const)
        : checkIntPair(where, 'padding', padding, 'non-negative', MAX_LAYER_ARG);
    this.activation = checkActivation(where, config.activation);
    if (this.activation === 'softmax') {
      throw this.error("activation 'softmax' needs a (batch, classes) input; use it on a Dense layer");
    }
    this.alpha = checkAlpha(where, config.alpha);
    this.useBias = checkBoolean(where, 'useBias', config.useBias, true);
    this.kernelInitializer = checkInitializer(where, 'kernelInitializer', config.kernelInitializer ?? 'heNormal');
    this.biasInitializer = checkInitializer(where, 'biasInitializer', config.biasInitializer ?? 'zeros');
  }

  override get outputActivation(): string {
    return this.activation;
  }

  /** The zero padding Z_P on each side. */
  get pad(): [number, number] {
    if (this.padding === 'valid') return [0, 0];
    if (this.padding === 'same') {
      const [kh, kw] = this.kernelSize;
      if (kh % 2 === 0 || kw % 2 === 0) {
        throw this.error(`padding 'same' needs an odd kernel size (symmetric zero padding), got ${kh}×${kw}`);
      }
      return [(kh - 1) / 2, (kw - 1) / 2];
    }
    return this.padding;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 3) {
      throw this.error(`expects a (channels, height, width) input but got [${inputShape.join(', ')}]`);
    }
    // Eq 2.1 with the floor of apps/docs/math/convolution.md, and the check that the kernel fits: @backprop/tensor's geometry.
    const filter = { filters: this.filters, kernelSize: this.kernelSize };
    const [, f, ho, wo] = computeConv2DInfo([1, ...inputShape], filter, this.strides, this.pad, this.where).outShape;
    return [f, ho, wo];
  }

  override paramShapes(inputShape: readonly number[]): Record<string, number[]> {
    const [c] = inputShape;
    const [kh, kw] = this.kernelSize;
    const kernel = [this.filters, c, kh, kw];
    return this.useBias ? { kernel, bias: [this.filters] } : { kernel };
  }

  protected override createParams(context: BuildContext): void {
    const [c] = this.inputShape!;
    const [kh, kw] = this.kernelSize;
    const shapes = this.paramShapes(this.inputShape!);
    this.kernel = this.addParam(context, 'kernel', shapes.kernel, this.kernelInitializer, c * kh * kw, this.filters * kh * kw);
    if (shapes.bias) this.bias = this.addParam(context, 'bias', shapes.bias, this.biasInitializer, c * kh * kw, this.filters);
  }

  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    this.checkInput(x);
    const kernel = this.requireSaved(this.kernel).value;
    const activation = options.skipActivation ? 'linear' : this.activation;
    const geometry = { strides: this.strides, pad: this.pad };
    const fused = fusable(activation);
    const y = fused
      ? conv2d(x, kernel, { ...geometry, bias: this.bias?.value, activation: fused, alpha: this.alpha })
      : activate(activation, conv2d(x, kernel, { ...geometry, bias: this.bias?.value }), this.alpha);
    this.x = x;
    this.y = y;
    this.appliedActivation = activation;
    return y;
  }

  backward(dy: Tensor, options: BackwardOptions = {}): Tensor | undefined {
    const x = this.requireSaved(this.x);
    const kernel = this.requireSaved(this.kernel);
    const dz = activationBackward(this.appliedActivation, dy, this.requireSaved(this.y), this.alpha);
    const geometry = { strides: this.strides, pad: this.pad };
    kernel.grad = conv2dBackwardFilter(x, dz, kernel.value.shape, geometry);
    if (this.bias) this.bias.grad = biasGrad(dz);
    // The first layer's input gradient is never used: skipping it saves a whole conv.
    if (options.inputGradient === false) return undefined;
    return conv2dBackwardInput(dz, kernel.value, x.shape, geometry);
  }

  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      activation: this.activation,
      alpha: this.alpha,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
    };
  }
}
