import {
  BackpropError,
  checkNonEmptyString,
  checkOptions,
  type FloatDataType,
  MAX_TENSOR_BYTES,
  maxElements,
  type Random,
  type Registry,
  shapeToString,
  sizeOfShape,
  type Tensor,
} from '@backprop/tensor';
import { type InitializerName, initialValues } from './initializers.js';

/** What a layer will be for an input shape: its output shape and parameter shapes, allocated nothing. */
export interface LayerPlan {
  outputShape: number[];
  /** Short parameter name → shape; undefined when the layer does not declare them before building. */
  params: Record<string, number[]> | undefined;
}

/** A tensor of a layer (a trainable parameter, or state such as a moving mean) and, after `backward`, its gradient. */
export interface Param {
  /** Unique within a model: '<layer name>/<param>' once the model names its layers. */
  name: string;
  value: Tensor;
  /** ∂L/∂value from the last backward pass (valid until the training step's scope ends). */
  grad?: Tensor;
  /**
   * False for state a layer updates itself rather than the optimizer (BatchNormalization's
   * moving mean and variance): saved and loaded with the weights, never given a gradient.
   * Absent means true.
   */
  trainable?: boolean;
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
    // new.target: the subclass's own fields (className) are not set yet while this runs.
    const where = new.target.name;
    const { name } = checkOptions(where, config, undefined, { name: 'config' });
    // It prefixes the parameter names that saved weights are keyed by.
    this.name = name === undefined ? undefined : checkNonEmptyString(where, 'name', name);
  }

  /**
   * False for a layer whose backward cannot give ∂L/∂x after a training forward (the
   * augmentation layers): a model refuses it after any layer with parameters.
   */
  get hasInputGradient(): boolean {
    return true;
  }

  /** The activation on this layer's output, if any (for fusing with the loss). */
  get outputActivation(): string | undefined {
    return undefined;
  }

  /** Output shape for a per-sample input shape; throws if the layer cannot take it. */
  abstract computeOutputShape(inputShape: readonly number[]): number[];

  /**
   * Shapes of the parameters `createParams` will create for `inputShape` (after
   * `computeOutputShape` accepted it), by short name, without allocating them: the
   * model checks sizes, and a loader checks saved weights, before any memory is
   * spent. A layer that never overrides `createParams` has none; one that does but
   * does not override this returns undefined (known only once built).
   */
  paramShapes(_inputShape: readonly number[]): Record<string, number[]> | undefined {
    return this.createParams === Layer.prototype.createParams ? {} : undefined;
  }

  /**
   * The output and parameter shapes for `inputShape` with the checks every build
   * makes (positive integer dimensions; one sample's output and each parameter
   * within MAX_TENSOR_BYTES as `dtype`). Allocates nothing.
   */
  plan(inputShape: readonly number[], dtype: FloatDataType = 'float32'): LayerPlan {
    const outputShape = this.computeOutputShape(inputShape);
    if (!Array.isArray(outputShape) || outputShape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
      throw this.error(`computes an invalid output shape ${JSON.stringify(outputShape)} for the input [${inputShape.join(', ')}]`);
    }
    // Parameters first: for a Dense layer of 1e9 units the kernel is what the user must fix.
    const params = this.paramShapes(inputShape);
    for (const [name, shape] of Object.entries(params ?? {})) checkSize(this, `parameter '${name}'`, shape, dtype, '');
    checkSize(this, 'output', outputShape, dtype, ' per sample');
    return { outputShape, params };
  }

  /** Creates the parameters for `inputShape`. Layers without params only record shapes. */
  build(inputShape: readonly number[], context: BuildContext): number[] {
    const out = this.plan(inputShape, context.dtype).outputShape;
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

  /**
   * Layers that draw random numbers while training (Dropout, the augmentation layers)
   * start their stream again: the next training forward draws what the first one did.
   * Gradient checks hold dropout masks and augmentation transforms fixed this way.
   */
  restartRandomStream(): void {}

  /**
   * How many training forwards have drawn from the layer's random stream (Dropout, the
   * augmentation layers); undefined for a layer that draws nothing. Saved with a model's
   * training state (`randomStreams` in the manifest) so that a resumed run draws the
   * masks and transforms the uninterrupted run would have, not the first epoch's again.
   */
  get randomStreamPosition(): number | undefined {
    return undefined;
  }

  /** Moves the random stream to `position` (a saved `randomStreamPosition`); only for a layer that has one. */
  seekRandomStream(_position: number): void {
    throw this.error('draws no random numbers; it has no random stream to move');
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
    trainable = true,
  ): Param {
    // Again here for layers that create parameters without declaring them in paramShapes.
    const size = checkSize(this, `parameter '${shortName}'`, shape, context.dtype, '');
    let value: Tensor;
    try {
      const values = initialValues(initializer, size, fanIn, fanOut, context.rng);
      value = context.registry.keep(context.registry.makeTensor(values, shape, context.dtype));
    } catch (error) {
      // Within the limit but more than this machine can allocate now.
      if (error instanceof RangeError) throw this.error(`cannot allocate parameter '${shortName}' of shape ${shapeToString(shape)} (${error.message})`);
      throw error;
    }
    const param: Param = trainable ? { name: shortName, value } : { name: shortName, value, trainable };
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
    return layerError(this, detail);
  }

  /** How errors name this layer (`this.error`'s prefix): its label in a model, else its class and name. */
  protected get where(): string {
    return layerWhere(this);
  }
}

/** Throws unless `shape` is positive integers of at most MAX_TENSOR_BYTES as `dtype`; returns the element count. */
function checkSize(layer: Layer, what: string, shape: readonly number[], dtype: FloatDataType, per: string): number {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 1)) throw layerError(layer, `${what} has the invalid shape ${JSON.stringify(shape)}`);
  const size = sizeOfShape(shape);
  // @backprop/tensor's per-tensor limit, checked here before anything is allocated
  // (initialValues builds a float64 array first) and with the layer in the message.
  const limit = maxElements(dtype);
  if (size > limit) {
    throw layerError(
      layer,
      `${what} of shape ${shapeToString(shape)} has ${size.toLocaleString('en-US')} values${per}, more than the ${limit.toLocaleString('en-US')} ${dtype} values one tensor may hold (MAX_TENSOR_BYTES = ${MAX_TENSOR_BYTES} bytes); check the layer options and the input shape`,
    );
  }
  return size;
}

function layerWhere(layer: Layer): string {
  return layer.label || `${layer.className}${layer.name ? ` '${layer.name}'` : ''}`;
}

function layerError(layer: Layer, detail: string): BackpropError {
  return new BackpropError(layerWhere(layer), detail);
}
