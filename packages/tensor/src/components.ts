import type { Tensor } from './tensor.js';

/**
 * The contracts between packages that never import each other: @backprop/layers
 * trains with any `Loss` and `Optimizer` found by name in the registry, and
 * @backprop/losses / @backprop/optimizers implement them.
 */

export interface LossResult {
  /** Scalar (shape []) loss value. */
  loss: Tensor;
  /** ∂loss/∂input, same shape as the input. The 1/N or 1/M factor is in here (apps/docs/math/index.md (conventions)). */
  grad: Tensor;
}

/** Values already read to the host, with their shape. */
export interface HostValues {
  readonly values: ArrayLike<number>;
  readonly shape: readonly number[];
}

export interface Loss {
  /** Registry name, e.g. 'categoricalCrossentropy'. */
  readonly name: string;
  /** Loss of `predictions` against `targets` (same shape) and its gradient. */
  compute(predictions: Tensor, targets: Tensor): LossResult;
  /**
   * When the model's last activation is `fusedActivation`, the model hands this loss
   * the pre-activation logits instead (the stable heads of apps/docs/math/losses.md).
   */
  readonly fusedActivation?: 'softmax' | 'sigmoid';
  computeFromLogits?(logits: Tensor, targets: Tensor): LossResult;
  /**
   * True when `compute` takes logits (pre-activation outputs) rather than
   * probabilities, as the `…FromLogits` losses do. A model's accuracy then thresholds
   * a single output at 0 instead of 0.5 (argmax is the same either way).
   */
  readonly fromLogits?: boolean;
  /**
   * The value checks of `compute` (of `computeFromLogits` when `fromLogits`) on values
   * already on the host; throws on the first bad value, nothing when the loss does
   * not validate. `compute` itself checks shapes and dtypes only: reading values back
   * on every call would stall the device on every batch. Call this where the values
   * are on the host anyway.
   */
  checkValues?(predictions: HostValues, targets: HostValues, fromLogits?: boolean): void;
  /**
   * The value checks that concern the targets alone (finite, in range, class rows),
   * the same for `compute` and `computeFromLogits`. `Sequential.fit`/`evaluate` run it
   * once on the whole target set when the data enters, not on every batch.
   */
  checkTargets?(targets: HostValues): void;
  /** JSON-serialisable options used to rebuild it through the registry. */
  getConfig(): Record<string, unknown>;
}

export type LossFactory = (config?: Record<string, unknown>) => Loss;

export interface ParamAndGrad {
  /** Stable, unique parameter name (e.g. 'conv2d_1/kernel'); optimizer state is keyed by it. */
  name: string;
  param: Tensor;
  grad: Tensor;
}

export interface OptimizerState {
  /** Number of steps taken. */
  iterations: number;
  /** Slot tensors by '<param name>/<slot>' (e.g. 'dense_1/kernel/m'). */
  tensors: Record<string, Tensor>;
}

export interface Optimizer {
  readonly name: string;
  /** Number of steps taken so far. */
  readonly iterations: number;
  /** One update of every parameter, in place on the backend. */
  step(params: readonly ParamAndGrad[]): void;
  /** The learning rate the next step will use (after any schedule). */
  currentLearningRate(): number;
  getConfig(): Record<string, unknown>;
  /** The live state (not copies): save it before the next step mutates it. */
  getState(): OptimizerState;
  /** Restores a saved state; the optimizer copies what it needs. */
  setState(state: OptimizerState): void;
  dispose(): void;
}

export type OptimizerFactory = (config?: Record<string, unknown>) => Optimizer;

/** Serialised form of any named component: `{ name, config }`. */
export interface ComponentJSON {
  name: string;
  config: Record<string, unknown>;
}

/**
 * The registry's view of a layer (@backprop/layers defines the class): built by a
 * factory from its JSON form `{ className, config }` and serialised back with
 * `getConfig`.
 */
export interface LayerComponent {
  readonly className: string;
  getConfig(): Record<string, unknown>;
}

/*
 * The instance tests of the component registries: `FactoryRegistry.create` returns an
 * instance as is and builds everything else from a name or `{ name, config }`. Duck
 * typed, so components from another copy of a package are recognised too.
 */

function hasMethods(value: unknown, methods: readonly string[]): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

/** A `Loss`: an object with a string `name` and a `compute` method. */
export function isLoss(value: unknown): value is Loss {
  return hasMethods(value, ['compute']) && typeof value.name === 'string';
}

/** An `Optimizer`: an object with a string `name` and a `step` method. */
export function isOptimizer(value: unknown): value is Optimizer {
  return hasMethods(value, ['step']) && typeof value.name === 'string';
}

/** A layer as the registry sees it: an object with a string `className` and a `getConfig` method. */
export function isLayerComponent(value: unknown): value is LayerComponent {
  return hasMethods(value, ['getConfig']) && typeof value.className === 'string';
}
