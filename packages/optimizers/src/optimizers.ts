import {
  BackpropError,
  cast,
  checkBoolean,
  checkHyperparameter,
  checkNonNegativeInt,
  checkNumberInRange,
  checkOptions,
  checkTensor,
  checkUpdateTensors,
  describeValue,
  formatChoices,
  tensor,
  UPDATE_HYPERPARAMETERS,
  zeros,
  type Optimizer,
  type OptimizerFactory,
  type OptimizerState,
  type ParamAndGrad,
  type Tensor,
  type UpdateHyperparameter,
} from '@backprop/tensor';
import { learningRateAt, learningRateConfig, parseLearningRate, type LearningRate } from './schedules.js';

/**
 * The update rules of apps/docs/math/gradient-descent.md (Eq 3.75–3.80; [N] Eq 26–29) and their usual
 * refinements. Every update runs in place on the backend through the update kernels
 * of @backprop/tensor (sgdUpdate, momentumUpdate, adamUpdate, rmspropUpdate), so
 * parameters and optimizer state never leave the device. g' = g + λθ when a
 * `weightDecay` λ > 0 is set (L2 decay added to the gradient).
 *
 * What is checked where: the config, once, when the optimizer is created, against the
 * ranges of the update ops (UPDATE_HYPERPARAMETERS), so errors name the optimizer and
 * the option; each step's parameters, gradients and state with the update ops' own
 * checkUpdateTensors, all of them before the first parameter is touched. The step then
 * runs the kernels directly: the update ops would only check the same things again.
 */

// ---- option parsing ------------------------------------------------------------------

type OptionParser = (where: string, name: string, value: unknown) => unknown;

const hyperparameter: OptionParser = (where, name, value) => checkHyperparameter(where, name as UpdateHyperparameter, value);
const boolean: OptionParser = (where, name, value) => checkBoolean(where, name, value);
const learningRate: OptionParser = (where, _name, value) => parseLearningRate(where, value);

interface OptionSpec {
  default: unknown;
  parse: OptionParser;
}

/** Rejects unknown keys and bad values, fills in defaults. Errors name the optimizer and the option. */
function parseOptions(where: string, config: unknown, specs: Record<string, OptionSpec>): Record<string, unknown> {
  const cfg = checkOptions(where, config, Object.keys(specs), { name: 'config' });
  return Object.fromEntries(
    Object.entries(specs).map(([key, spec]) => [key, spec.parse(where, key, cfg[key] === undefined ? spec.default : cfg[key])]),
  );
}

// ---- the shared machinery --------------------------------------------------------------

abstract class BaseOptimizer implements Optimizer {
  abstract readonly name: string;
  /** Slot names this optimizer keeps per parameter ('velocity', 'm', …). */
  protected abstract readonly slotNames: readonly string[];
  protected readonly learningRate: LearningRate;
  protected readonly weightDecay: number;
  private steps = 0;
  /** '<param name>/<slot>' → live slot tensor, never tracked by a scope. */
  private readonly slots = new Map<string, Tensor>();
  private disposed = false;

  constructor(options: Record<string, unknown>) {
    this.learningRate = options.learningRate as LearningRate;
    this.weightDecay = options.weightDecay as number;
  }

  get iterations(): number {
    return this.steps;
  }

  currentLearningRate(): number {
    return learningRateAt(this.learningRate, this.steps);
  }

  step(params: readonly ParamAndGrad[]): void {
    this.assertUsable('step');
    this.checkParams(params);
    const t = this.steps + 1;
    // A schedule that grows can overflow: the rate must stay what the kernels accept.
    const lr = checkNumberInRange(this.name, `learningRate at step ${t}`, this.currentLearningRate(), UPDATE_HYPERPARAMETERS.learningRate);
    const states = params.map((p) => this.stateOf(p));
    params.forEach((p, i) => this.update(p, states[i], lr, t));
    this.steps = t;
  }

  /**
   * Updates one parameter in place by running its update kernel (the entry and its
   * `state`, one tensor per slot name, are checked); `t` ≥ 1 is the number of this step.
   */
  protected abstract update(p: ParamAndGrad, state: Record<string, Tensor>, learningRate: number, t: number): void;

  abstract getConfig(): Record<string, unknown>;

  protected commonConfig(): { learningRate: LearningRate; weightDecay: number } {
    return { learningRate: learningRateConfig(this.learningRate), weightDecay: this.weightDecay };
  }

  /** Checks every entry before touching any parameter, so a bad entry never leaves a half-done step. */
  private checkParams(params: readonly ParamAndGrad[]): void {
    if (!Array.isArray(params)) {
      throw new BackpropError(this.name, `step expects an array of { name, param, grad }, got ${describeValue(params)}`);
    }
    const seen = new Set<string>();
    params.forEach((entry: unknown, i) => {
      const { name, param, grad } = checkOptions(this.name, entry, undefined, { name: `params[${i}]`, required: true, expected: '{ name, param, grad }' });
      if (typeof name !== 'string' || name === '') {
        throw new BackpropError(this.name, `params[${i}].name must be a non-empty string, got ${describeValue(name)}`);
      }
      if (seen.has(name)) throw new BackpropError(this.name, `parameter '${name}' appears twice in one step`);
      seen.add(name);
      checkUpdateTensors(this.where(name), param, { grad });
    });
  }

  /** Where errors about parameter `name` point: "adam (parameter 'dense_1/kernel')". */
  private where(name: string): string {
    return `${this.name} (parameter '${name}')`;
  }

  /**
   * The parameter's slots, created or converted (see `slot`), checked against it: a
   * state restored with setState for a parameter of another shape is refused here,
   * before any parameter of the step is updated.
   */
  private stateOf(p: ParamAndGrad): Record<string, Tensor> {
    const state = Object.fromEntries(this.slotNames.map((slotName) => [slotName, this.slot(p, slotName)]));
    if (this.slotNames.length > 0) checkUpdateTensors(this.where(p.name), p.param, state);
    return state;
  }

  /**
   * The slot `slotName` of a parameter, created on first use as zeros of the
   * parameter's shape and dtype on its registry, exempt from scopes. A restored slot
   * of another dtype or backend is converted once.
   */
  protected slot(p: ParamAndGrad, slotName: string): Tensor {
    const key = `${p.name}/${slotName}`;
    const registry = p.param.registry;
    let t = this.slots.get(key);
    if (t && (t.dtype !== p.param.dtype || t.backendName !== p.param.backendName || t.registry !== registry)) {
      const converted =
        t.backendName === p.param.backendName && t.registry === registry
          ? cast(t, p.param.dtype)
          : tensor(t.dataSync(), t.shape, { registry, dtype: p.param.dtype });
      t.dispose();
      t = converted;
      registry.keep(t);
      this.slots.set(key, t);
    }
    if (!t) {
      t = registry.keep(zeros(p.param.shape, { dtype: p.param.dtype, registry }));
      this.slots.set(key, t);
    }
    return t;
  }

  getState(): OptimizerState {
    this.assertUsable('getState');
    return { iterations: this.steps, tensors: Object.fromEntries(this.slots) };
  }

  setState(state: OptimizerState): void {
    this.assertUsable('setState');
    const where = `${this.name}.setState`;
    const { iterations: given, tensors: givenTensors } = checkOptions(where, state, undefined, {
      name: 'state',
      required: true,
      expected: '{ iterations, tensors }',
    });
    const iterations = checkNonNegativeInt(where, 'iterations', given);
    const tensors = checkOptions(where, givenTensors, undefined, { name: 'tensors' });
    for (const [key, t] of Object.entries(tensors)) {
      const cut = key.lastIndexOf('/');
      const slotName = key.slice(cut + 1);
      if (cut <= 0 || !this.slotNames.includes(slotName)) {
        throw new BackpropError(
          where,
          `unknown state tensor '${key}'; expected '<param name>/<slot>' with slot ${this.slotNames.length ? formatChoices(this.slotNames) : '(none: this optimizer keeps no state)'}`,
        );
      }
      checkTensor(where, key, t);
    }
    // Copy everything first: the given tensors may be this optimizer's own live slots.
    const copies = new Map<string, Tensor>();
    for (const [key, t] of Object.entries(tensors as Record<string, Tensor>)) {
      const copy =
        t.backendName === t.registry.backendName
          ? cast(t, t.dtype)
          : tensor(t.dataSync(), t.shape, { registry: t.registry, dtype: t.dtype });
      copies.set(key, t.registry.keep(copy));
    }
    for (const t of this.slots.values()) t.dispose();
    this.slots.clear();
    for (const [key, t] of copies) this.slots.set(key, t);
    this.steps = iterations;
  }

  dispose(): void {
    for (const t of this.slots.values()) t.dispose();
    this.slots.clear();
    this.disposed = true;
  }

  private assertUsable(where: string): void {
    if (this.disposed) throw new BackpropError(this.name, `${where} called after dispose()`);
  }
}

const COMMON: Record<string, OptionSpec> = {
  learningRate: { default: 0.01, parse: learningRate },
  weightDecay: { default: 0, parse: hyperparameter },
};

// ---- SGD -------------------------------------------------------------------------------

export interface SGDConfig {
  /** α: a number or a schedule (see LearningRateSchedule). Default 0.01. */
  learningRate?: LearningRate;
  /** λ ≥ 0: g' = g + λθ. Default 0. */
  weightDecay?: number;
}

const SGD_OPTIONS: Record<string, OptionSpec> = { ...COMMON };

/** Plain gradient descent, apps/docs/math/gradient-descent.md (Eq 3.75–3.80): θ ← θ − α ∂L/∂θ (g' with weight decay). */
export class SGD extends BaseOptimizer {
  readonly name = 'sgd';
  protected readonly slotNames = [] as const;

  constructor(config: SGDConfig | Record<string, unknown> = {}) {
    super(parseOptions('sgd', config, SGD_OPTIONS));
  }

  protected update({ param, grad }: ParamAndGrad, _state: Record<string, Tensor>, learningRate: number): void {
    param.registry.runKernel('sgdUpdate', { param, grad }, { learningRate, weightDecay: this.weightDecay });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.commonConfig() };
  }
}

// ---- momentum --------------------------------------------------------------------------

export interface MomentumConfig extends SGDConfig {
  /** μ in [0, 1]. Default 0.9. */
  momentum?: number;
  /** Nesterov's look-ahead form. Default false. */
  nesterov?: boolean;
}

const MOMENTUM_OPTIONS: Record<string, OptionSpec> = {
  ...COMMON,
  momentum: { default: 0.9, parse: hyperparameter },
  nesterov: { default: false, parse: boolean },
};

/**
 * Heavy-ball momentum: v ← μv + g', θ ← θ − α v; Nesterov: θ ← θ − α (g' + μv) with
 * the updated v. Slot: 'velocity'.
 */
export class Momentum extends BaseOptimizer {
  readonly name = 'momentum';
  protected readonly slotNames = ['velocity'] as const;
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(config: MomentumConfig | Record<string, unknown> = {}) {
    const options = parseOptions('momentum', config, MOMENTUM_OPTIONS);
    super(options);
    this.momentum = options.momentum as number;
    this.nesterov = options.nesterov as boolean;
  }

  protected update({ param, grad }: ParamAndGrad, { velocity }: Record<string, Tensor>, learningRate: number): void {
    param.registry.runKernel(
      'momentumUpdate',
      { param, grad, velocity },
      { learningRate, weightDecay: this.weightDecay, momentum: this.momentum, nesterov: this.nesterov },
    );
  }

  getConfig(): Record<string, unknown> {
    return { ...this.commonConfig(), momentum: this.momentum, nesterov: this.nesterov };
  }
}

// ---- Adam ------------------------------------------------------------------------------

export interface AdamConfig extends SGDConfig {
  /** β1 in [0, 1). Default 0.9. */
  beta1?: number;
  /** β2 in [0, 1). Default 0.999. */
  beta2?: number;
  /** ε > 0. Default 1e-8. */
  epsilon?: number;
}

const ADAM_OPTIONS: Record<string, OptionSpec> = {
  ...COMMON,
  learningRate: { default: 0.001, parse: learningRate },
  beta1: { default: 0.9, parse: hyperparameter },
  beta2: { default: 0.999, parse: hyperparameter },
  epsilon: { default: 1e-8, parse: hyperparameter },
};

/**
 * Adam with bias correction by division: m ← β1 m + (1−β1) g', v ← β2 v + (1−β2) g'²,
 * θ ← θ − α (m/(1−β1ᵗ)) / (sqrt(v/(1−β2ᵗ)) + ε), t = 1, 2, … Slots: 'm', 'v'.
 */
export class Adam extends BaseOptimizer {
  readonly name = 'adam';
  protected readonly slotNames = ['m', 'v'] as const;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(config: AdamConfig | Record<string, unknown> = {}) {
    const options = parseOptions('adam', config, ADAM_OPTIONS);
    super(options);
    this.beta1 = options.beta1 as number;
    this.beta2 = options.beta2 as number;
    this.epsilon = options.epsilon as number;
  }

  protected update({ param, grad }: ParamAndGrad, { m, v }: Record<string, Tensor>, learningRate: number, step: number): void {
    param.registry.runKernel(
      'adamUpdate',
      { param, grad, m, v },
      { learningRate, weightDecay: this.weightDecay, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, step },
    );
  }

  getConfig(): Record<string, unknown> {
    return { ...this.commonConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

// ---- RMSprop ---------------------------------------------------------------------------

export interface RMSpropConfig extends SGDConfig {
  /** ρ in [0, 1). Default 0.9. */
  rho?: number;
  /** ε > 0. Default 1e-8. */
  epsilon?: number;
}

const RMSPROP_OPTIONS: Record<string, OptionSpec> = {
  ...COMMON,
  learningRate: { default: 0.001, parse: learningRate },
  rho: { default: 0.9, parse: hyperparameter },
  epsilon: { default: 1e-8, parse: hyperparameter },
};

/** RMSprop: s ← ρ s + (1−ρ) g'², θ ← θ − α g' / (sqrt(s) + ε). Slot: 'meanSquare'. */
export class RMSprop extends BaseOptimizer {
  readonly name = 'rmsprop';
  protected readonly slotNames = ['meanSquare'] as const;
  readonly rho: number;
  readonly epsilon: number;

  constructor(config: RMSpropConfig | Record<string, unknown> = {}) {
    const options = parseOptions('rmsprop', config, RMSPROP_OPTIONS);
    super(options);
    this.rho = options.rho as number;
    this.epsilon = options.epsilon as number;
  }

  protected update({ param, grad }: ParamAndGrad, { meanSquare }: Record<string, Tensor>, learningRate: number): void {
    param.registry.runKernel('rmspropUpdate', { param, grad, meanSquare }, { learningRate, weightDecay: this.weightDecay, rho: this.rho, epsilon: this.epsilon });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.commonConfig(), rho: this.rho, epsilon: this.epsilon };
  }
}

// ---- factories -------------------------------------------------------------------------

/** `sgd({ learningRate: 0.1 })`. */
export const sgd = ((config?: SGDConfig) => new SGD(config)) as OptimizerFactory & ((config?: SGDConfig) => SGD);
export const momentum = ((config?: MomentumConfig) => new Momentum(config)) as OptimizerFactory &
  ((config?: MomentumConfig) => Momentum);
export const adam = ((config?: AdamConfig) => new Adam(config)) as OptimizerFactory & ((config?: AdamConfig) => Adam);
export const rmsprop = ((config?: RMSpropConfig) => new RMSprop(config)) as OptimizerFactory &
  ((config?: RMSpropConfig) => RMSprop);

export type OptimizerName = 'sgd' | 'momentum' | 'adam' | 'rmsprop';

export const OPTIMIZER_FACTORIES: Readonly<Record<OptimizerName, OptimizerFactory>> = Object.freeze({
  sgd,
  momentum,
  adam,
  rmsprop,
});
