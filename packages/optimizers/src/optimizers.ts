import {
  adamUpdate,
  BackpropError,
  cast,
  describeValue,
  momentumUpdate,
  rmspropUpdate,
  sgdUpdate,
  shapeToString,
  tensor,
  zeros,
  type Optimizer,
  type OptimizerFactory,
  type OptimizerState,
  type ParamAndGrad,
  type Tensor,
} from '@backprop/tensor';
import { learningRateAt, learningRateConfig, parseLearningRate, type LearningRate } from './schedules.js';

/**
 * The update rules of MATH.md §2.9 (Eq 3.75–3.80; [N] Eq 26–29) and their usual
 * refinements. Every update runs in place on the backend through the update ops of
 * @backprop/tensor (sgdUpdate, momentumUpdate, adamUpdate, rmspropUpdate), so
 * parameters and optimizer state never leave the device. g' = g + λθ when a
 * `weightDecay` λ > 0 is set (L2 decay added to the gradient).
 */

function isTensor(t: unknown): t is Tensor {
  return t !== null && typeof t === 'object' && 'shape' in t && 'dtype' in t && 'assertLive' in t;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// ---- option parsing ------------------------------------------------------------------

type OptionParser = (where: string, name: string, value: unknown) => unknown;

const nonNegative: OptionParser = (where, name, v) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new BackpropError(where, `${name} must be a finite number ≥ 0, got ${describeValue(v)}`);
  }
  return v;
};

const positive: OptionParser = (where, name, v) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new BackpropError(where, `${name} must be a finite number > 0, got ${describeValue(v)}`);
  }
  return v;
};

/** [0, 1), or [0, 1] with `closed`. */
const unit =
  (closed = false): OptionParser =>
  (where, name, v) => {
    if (typeof v !== 'number' || !(v >= 0) || (closed ? v > 1 : v >= 1)) {
      throw new BackpropError(where, `${name} must be a number in [0, 1${closed ? ']' : ')'}, got ${describeValue(v)}`);
    }
    return v;
  };

const boolean: OptionParser = (where, name, v) => {
  if (typeof v !== 'boolean') throw new BackpropError(where, `${name} must be a boolean, got ${describeValue(v)}`);
  return v;
};

const learningRate: OptionParser = (where, _name, v) => parseLearningRate(where, v);

interface OptionSpec {
  default: unknown;
  parse: OptionParser;
}

/** Rejects unknown keys and bad values, fills in defaults. Errors name the optimizer and the option. */
function parseOptions(where: string, config: unknown, specs: Record<string, OptionSpec>): Record<string, unknown> {
  const cfg = config ?? {};
  if (!isPlainObject(cfg)) throw new BackpropError(where, `config must be a plain object, got ${describeValue(cfg)}`);
  for (const key of Object.keys(cfg)) {
    if (!Object.prototype.hasOwnProperty.call(specs, key)) {
      throw new BackpropError(where, `unknown option '${key}'; valid options: ${Object.keys(specs).join(', ')}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const value = cfg[key] === undefined ? spec.default : cfg[key];
    out[key] = spec.parse(where, key, value);
  }
  return out;
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
    this.validate(params);
    const lr = this.currentLearningRate();
    const t = this.steps + 1;
    for (const p of params) this.update(p, lr, t);
    this.steps = t;
  }

  /** Updates one parameter in place; `t` ≥ 1 is the number of this step. */
  protected abstract update(p: ParamAndGrad, learningRate: number, t: number): void;

  abstract getConfig(): Record<string, unknown>;

  protected commonConfig(): { learningRate: LearningRate; weightDecay: number } {
    return { learningRate: learningRateConfig(this.learningRate), weightDecay: this.weightDecay };
  }

  /** Checks every entry before touching any parameter, so a bad entry never leaves a half-done step. */
  private validate(params: readonly ParamAndGrad[]): void {
    if (!Array.isArray(params)) {
      throw new BackpropError(this.name, `step expects an array of { name, param, grad }, got ${describeValue(params)}`);
    }
    const seen = new Set<string>();
    params.forEach((entry, i) => {
      if (!isPlainObject(entry) || typeof entry.name !== 'string' || entry.name === '') {
        throw new BackpropError(this.name, `params[${i}] must be { name: non-empty string, param, grad }`);
      }
      const { name, param, grad } = entry;
      if (seen.has(name)) throw new BackpropError(this.name, `parameter '${name}' appears twice in one step`);
      seen.add(name);
      if (!isTensor(param)) throw new BackpropError(this.name, `param of '${name}' must be a Tensor, got ${describeValue(param)}`);
      if (!isTensor(grad)) throw new BackpropError(this.name, `grad of '${name}' must be a Tensor, got ${describeValue(grad)}`);
      param.assertLive(`${this.name} (param '${name}')`);
      grad.assertLive(`${this.name} (grad of '${name}')`);
      if (param.dtype === 'int32') throw new BackpropError(this.name, `parameter '${name}' must be float32 or float64, got int32`);
      if (grad.shape.length !== param.shape.length || grad.shape.some((d, k) => d !== param.shape[k])) {
        throw new BackpropError(
          this.name,
          `grad of '${name}' has shape ${shapeToString(grad.shape)} but the parameter has shape ${shapeToString(param.shape)}`,
        );
      }
      if (grad.dtype !== param.dtype) {
        throw new BackpropError(this.name, `grad of '${name}' is ${grad.dtype} but the parameter is ${param.dtype}`);
      }
      for (const slotName of this.slotNames) {
        const slot = this.slots.get(`${name}/${slotName}`);
        if (slot && (slot.shape.length !== param.shape.length || slot.shape.some((d, k) => d !== param.shape[k]))) {
          throw new BackpropError(
            this.name,
            `state '${name}/${slotName}' has shape ${shapeToString(slot.shape)} but parameter '${name}' has shape ${shapeToString(param.shape)}`,
          );
        }
      }
    });
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
    if (!isPlainObject(state)) throw new BackpropError(this.name, `setState expects { iterations, tensors }, got ${describeValue(state)}`);
    const { iterations, tensors = {} } = state;
    if (typeof iterations !== 'number' || !Number.isInteger(iterations) || iterations < 0) {
      throw new BackpropError(this.name, `state iterations must be a non-negative integer, got ${describeValue(iterations)}`);
    }
    if (!isPlainObject(tensors)) throw new BackpropError(this.name, `state tensors must be an object, got ${describeValue(tensors)}`);
    for (const [key, t] of Object.entries(tensors)) {
      const cut = key.lastIndexOf('/');
      const slotName = key.slice(cut + 1);
      if (cut <= 0 || !this.slotNames.includes(slotName)) {
        throw new BackpropError(
          this.name,
          `unknown state tensor '${key}'; expected '<param name>/<slot>' with slot ${this.slotNames.length ? this.slotNames.map((s) => `'${s}'`).join(' or ') : '(none: this optimizer keeps no state)'}`,
        );
      }
      if (!isTensor(t)) throw new BackpropError(this.name, `state tensor '${key}' must be a Tensor, got ${describeValue(t)}`);
      t.assertLive(`${this.name}.setState('${key}')`);
    }
    // Copy everything first: the given tensors may be this optimizer's own live slots.
    const copies = new Map<string, Tensor>();
    for (const [key, t] of Object.entries(tensors)) {
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
  weightDecay: { default: 0, parse: nonNegative },
};

// ---- SGD -------------------------------------------------------------------------------

export interface SGDConfig {
  /** α: a number or a schedule (see LearningRateSchedule). Default 0.01. */
  learningRate?: LearningRate;
  /** λ ≥ 0: g' = g + λθ. Default 0. */
  weightDecay?: number;
}

const SGD_OPTIONS: Record<string, OptionSpec> = { ...COMMON };

/** Plain gradient descent, MATH.md §2.9 (Eq 3.75–3.80): θ ← θ − α ∂L/∂θ (g' with weight decay). */
export class SGD extends BaseOptimizer {
  readonly name = 'sgd';
  protected readonly slotNames = [] as const;

  constructor(config: SGDConfig | Record<string, unknown> = {}) {
    super(parseOptions('sgd', config, SGD_OPTIONS));
  }

  protected update(p: ParamAndGrad, lr: number): void {
    sgdUpdate(p.param, p.grad, lr, this.weightDecay);
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
  momentum: { default: 0.9, parse: unit(true) },
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

  protected update(p: ParamAndGrad, lr: number): void {
    momentumUpdate(p.param, p.grad, this.slot(p, 'velocity'), {
      learningRate: lr,
      momentum: this.momentum,
      nesterov: this.nesterov,
      weightDecay: this.weightDecay,
    });
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
  beta1: { default: 0.9, parse: unit() },
  beta2: { default: 0.999, parse: unit() },
  epsilon: { default: 1e-8, parse: positive },
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

  protected update(p: ParamAndGrad, lr: number, t: number): void {
    adamUpdate(p.param, p.grad, this.slot(p, 'm'), this.slot(p, 'v'), {
      learningRate: lr,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      step: t,
      weightDecay: this.weightDecay,
    });
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
  rho: { default: 0.9, parse: unit() },
  epsilon: { default: 1e-8, parse: positive },
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

  protected update(p: ParamAndGrad, lr: number): void {
    rmspropUpdate(p.param, p.grad, this.slot(p, 'meanSquare'), {
      learningRate: lr,
      rho: this.rho,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    });
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
