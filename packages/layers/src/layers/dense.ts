import { biasGrad, checkBoolean, checkPositiveInt, matMul, type Tensor } from '@backprop/tensor';
import { type ActivationName, activate, activationBackward, checkActivation, checkAlpha, fusable } from '../activations.js';
import { checkInitializer, type InitializerName } from '../initializers.js';
import { type BackwardOptions, type BuildContext, type ForwardOptions, Layer, type LayerConfig, type Param } from '../layer.js';
import { MAX_LAYER_ARG } from './args.js';

export interface DenseConfig extends LayerConfig {
  units: number;
  activation?: ActivationName;
  alpha?: number;
  useBias?: boolean;
  kernelInitializer?: InitializerName;
  biasInitializer?: InitializerName;
}

/**
 * Z = X·Wᵀ + b with W of shape (out, in), A = f(Z) (apps/docs/math/dense.md, Eq 3.7–3.22
 * corrected). Backward: ∂W = Gᵀ X, ∂b = Σ_n G, ∂X = G W.
 */
export class Dense extends Layer {
  readonly className = 'Dense';
  readonly units: number;
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

  // The default only lets `new Dense()` reach the option checks (units is required).
  constructor(config: DenseConfig = {} as DenseConfig) {
    super(config);
    const where = `Dense${config.name ? ` '${config.name}'` : ''}`;
    // A scalar option: never the pair parser (units: [3, 99] is an error, not 3).
    this.units = checkPositiveInt(where, 'units', config.units, MAX_LAYER_ARG);
    this.activation = checkActivation(where, config.activation);
    this.alpha = checkAlpha(where, config.alpha);
    this.useBias = checkBoolean(where, 'useBias', config.useBias, true);
    this.kernelInitializer = checkInitializer(where, 'kernelInitializer', config.kernelInitializer ?? 'glorotUniform');
    this.biasInitializer = checkInitializer(where, 'biasInitializer', config.biasInitializer ?? 'zeros');
  }

  override get outputActivation(): string {
    return this.activation;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 1) {
      throw this.error(`expects a flat (features) input but got [${inputShape.join(', ')}]; add a Flatten layer before it`);
    }
    return [this.units];
  }

  override paramShapes(inputShape: readonly number[]): Record<string, number[]> {
    const [inputs] = inputShape;
    return this.useBias ? { kernel: [this.units, inputs], bias: [this.units] } : { kernel: [this.units, inputs] };
  }

  protected override createParams(context: BuildContext): void {
    const [inputs] = this.inputShape!;
    const shapes = this.paramShapes(this.inputShape!);
    this.kernel = this.addParam(context, 'kernel', shapes.kernel, this.kernelInitializer, inputs, this.units);
    if (shapes.bias) this.bias = this.addParam(context, 'bias', shapes.bias, this.biasInitializer, inputs, this.units);
  }

  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    this.checkInput(x);
    const kernel = this.requireSaved(this.kernel).value;
    const activation = options.skipActivation ? 'linear' : this.activation;
    const fused = fusable(activation);
    const y = fused
      ? matMul(x, kernel, { transposeB: true, bias: this.bias?.value, activation: fused, alpha: this.alpha })
      : activate(activation, matMul(x, kernel, { transposeB: true, bias: this.bias?.value }), this.alpha);
    this.x = x;
    this.y = y;
    this.appliedActivation = activation;
    return y;
  }

  backward(dy: Tensor, options: BackwardOptions = {}): Tensor | undefined {
    const x = this.requireSaved(this.x);
    const kernel = this.requireSaved(this.kernel);
    const dz = activationBackward(this.appliedActivation, dy, this.requireSaved(this.y), this.alpha);
    kernel.grad = matMul(dz, x, { transposeA: true });
    if (this.bias) this.bias.grad = biasGrad(dz);
    if (options.inputGradient === false) return undefined;
    return matMul(dz, kernel.value);
  }

  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      units: this.units,
      activation: this.activation,
      alpha: this.alpha,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
    };
  }
}
