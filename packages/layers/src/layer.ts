import {
  BackpropError,
  type FloatDataType,
  type Random,
  type Registry,
  shapeToString,
  type Tensor,
} from '@backprop/tensor';
import { type InitializerName, initialValues } from './initializers.js';

/** A trainable tensor of a layer and, after `backward`, its gradient. */
export interface Param {
  /** Unique within a model: '<layer name>/<param>' once the model names its layers. */
  name: string;
  value: Tensor;
  /** ∂L/∂value from the last backward pass (valid until the training step's scope ends). */
  grad?: Tensor;
}

export interface BuildContext {
  registry: Registry;
  dtype: FloatDataType;
  rng: Random;
}

export interface ForwardOptions {
  training?: boolean;
  /**
   * Return the pre-activation output (logits) and skip the output activation; the
   * model does this for the last layer when the loss fuses that activation.
   */
  skipActivation?: boolean;
}

export interface BackwardOptions {
  /**
   * Set to false when nobody needs ∂L/∂x (the model's first layer): layers then skip
   * that computation and return undefined.
   */
  inputGradient?: boolean;
}

export interface LayerConfig {
  name?: string;
}

/**
 * A layer maps a batch (N, …inputShape) to (N, …outputShape). `forward` keeps what
 * `backward` needs; `backward(dy)` returns ∂L/∂x and sets each param's `grad`.
 * Shapes exclude the batch dimension.
 */
export abstract class Layer {
  /** The registry name of the layer type ('Conv2D', 'Dense', …). */
  abstract readonly className: string;
  name: string | undefined;
  protected inputShape: number[] | undefined;
  protected outputShape: number[] | undefined;
  protected readonly paramList: Param[] = [];
  /** Set by the model: 'layer 2 (Dense)', used in error messages. */
  label = '';

  constructor(config: LayerConfig = {}) {
    this.name = config.name;
  }

  /** The activation on this layer's output, if any (for fusing with the loss). */
  get outputActivation(): string | undefined {
    return undefined;
  }

  /** Output shape for a per-sample input shape; throws if the layer cannot take it. */
  abstract computeOutputShape(inputShape: readonly number[]): number[];

  /** Creates the parameters for `inputShape`. Layers without params only record shapes. */
  build(inputShape: readonly number[], context: BuildContext): number[] {
    const out = this.computeOutputShape(inputShape);
    this.inputShape = [...inputShape];
    this.outputShape = out;
    this.createParams(context);
    return out;
  }

  protected createParams(_context: BuildContext): void {}

  abstract forward(x: Tensor, options?: ForwardOptions): Tensor;
  /**
   * Sets each param's `grad` and returns ∂L/∂x (undefined only when
   * `options.inputGradient` is false).
   */
  abstract backward(dy: Tensor, options?: BackwardOptions): Tensor | undefined;

  params(): Param[] {
    return this.paramList;
  }

  get built(): boolean {
    return this.outputShape !== undefined;
  }

  getOutputShape(): number[] {
    if (!this.outputShape) throw this.error('is not built yet; add it to a model with an input shape');
    return [...this.outputShape];
  }

  countParams(): number {
    return this.paramList.reduce((n, p) => n + p.value.size, 0);
  }

  /** JSON-serialisable options that rebuild this layer through the registry. */
  abstract getConfig(): Record<string, unknown>;

  /** Frees parameters (and cached forward tensors). */
  dispose(): void {
    for (const p of this.paramList) p.value.dispose();
    this.paramList.length = 0;
  }

  protected addParam(
    context: BuildContext,
    shortName: string,
    shape: number[],
    initializer: InitializerName,
    fanIn: number,
    fanOut: number,
  ): Param {
    let size = 1;
    for (const d of shape) size *= d;
    const values = initialValues(initializer, size, fanIn, fanOut, context.rng);
    const value = context.registry.keep(context.registry.makeTensor(values, shape, context.dtype));
    const param: Param = { name: shortName, value };
    this.paramList.push(param);
    return param;
  }

  /** Checks a forward input against the built input shape. */
  protected checkInput(x: Tensor): void {
    if (!this.inputShape) throw this.error('is not built; build the model before calling forward');
    const expected = this.inputShape;
    if (x.rank !== expected.length + 1 || expected.some((d, i) => x.shape[i + 1] !== d)) {
      throw this.error(`expects input of shape [batch, ${expected.join(', ')}] but got ${shapeToString(x.shape)}`);
    }
  }

  protected requireSaved<T>(value: T | undefined): T {
    if (value === undefined) throw this.error('backward called before forward');
    return value;
  }

  protected error(detail: string): BackpropError {
    return new BackpropError(this.label || `${this.className}${this.name ? ` '${this.name}'` : ''}`, detail);
  }
}
