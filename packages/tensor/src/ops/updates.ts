import type { Tensor } from '../tensor.js';
import {
  checkBoolean,
  checkFloatTensor,
  checkNumberInRange,
  checkOptions,
  checkPositiveInt,
  checkSameDtype,
  checkSameShape,
  checkTensor,
  type NumberRange,
} from '../validation.js';

/**
 * In-place optimizer updates (apps/docs/math/gradient-descent.md). Every element is updated from the
 * gradient computed before the step; parameters never leave the backend.
 *
 * The checks of these ops are the optimizers' too: @backprop/optimizers checks its
 * configs against UPDATE_HYPERPARAMETERS once, when an optimizer is created (errors name
 * the optimizer), and every step's tensors with checkUpdateTensors before it updates
 * anything, then runs the kernels without checking again.
 */

/** The valid range of each hyperparameter of the update ops. */
export const UPDATE_HYPERPARAMETERS = {
  learningRate: { min: 0 },
  /** λ: g' = g + λθ. */
  weightDecay: { min: 0 },
  momentum: { min: 0, max: 1 },
  beta1: { min: 0, max: 1, maxExclusive: true },
  beta2: { min: 0, max: 1, maxExclusive: true },
  rho: { min: 0, max: 1, maxExclusive: true },
  epsilon: { min: 0, minExclusive: true },
} as const satisfies Record<string, NumberRange>;

export type UpdateHyperparameter = keyof typeof UPDATE_HYPERPARAMETERS;

/** `value` as hyperparameter `name`: "learningRate must be a finite number ≥ 0, got -1". */
export function checkHyperparameter(where: string, name: UpdateHyperparameter, value: unknown): number {
  return checkNumberInRange(where, name, value, UPDATE_HYPERPARAMETERS[name]);
}

/**
 * The tensors of one in-place update: `param` a live float tensor, and each tensor of
 * `state` (its gradient, the optimizer's slots) live, of the parameter's shape and dtype.
 */
export function checkUpdateTensors(where: string, param: unknown, state: Record<string, unknown>): asserts param is Tensor {
  checkTensor(where, 'param', param);
  checkFloatTensor(where, 'param', param);
  for (const [name, t] of Object.entries(state)) {
    checkTensor(where, name, t);
    checkSameShape(where, param, t, 'param', name);
    checkSameDtype(where, param, t, 'param', name);
  }
}

/**
 * The kernel attributes learningRate, weightDecay (default 0) and `names` from `given`,
 * each checked against UPDATE_HYPERPARAMETERS.
 */
function hyperparameters<K extends UpdateHyperparameter>(op: string, given: Record<string, unknown>, names: readonly K[]): Record<K | 'learningRate' | 'weightDecay', number> {
  const attrs = {
    learningRate: checkHyperparameter(op, 'learningRate', given.learningRate),
    weightDecay: checkHyperparameter(op, 'weightDecay', given.weightDecay === undefined ? 0 : given.weightDecay),
  } as Record<K | 'learningRate' | 'weightDecay', number>;
  for (const name of names) attrs[name] = checkHyperparameter(op, name, given[name]);
  return attrs;
}

/** An update op's options object: learningRate, weightDecay and `names`, no other key. */
function updateOptions(op: string, options: unknown, names: readonly string[]): Record<string, unknown> {
  return checkOptions(op, options, ['learningRate', 'weightDecay', ...names], { required: true });
}

/** θ ← θ − α(∂L/∂θ + λθ)  (Eq 3.75–3.80). */
export function sgdUpdate(param: Tensor, grad: Tensor, learningRate: number, weightDecay = 0): void {
  const op = 'sgdUpdate';
  checkUpdateTensors(op, param, { grad });
  param.registry.runKernel(op, { param, grad }, hyperparameters(op, { learningRate, weightDecay }, []));
}

export function momentumUpdate(
  param: Tensor,
  grad: Tensor,
  velocity: Tensor,
  options: { learningRate: number; momentum: number; nesterov?: boolean; weightDecay?: number },
): void {
  const op = 'momentumUpdate';
  const given = updateOptions(op, options, ['momentum', 'nesterov']);
  checkUpdateTensors(op, param, { grad, velocity });
  const nesterov = checkBoolean(op, 'nesterov', given.nesterov, false);
  param.registry.runKernel(op, { param, grad, velocity }, { ...hyperparameters(op, given, ['momentum']), nesterov });
}

export function adamUpdate(
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  options: { learningRate: number; beta1: number; beta2: number; epsilon: number; step: number; weightDecay?: number },
): void {
  const op = 'adamUpdate';
  const given = updateOptions(op, options, ['beta1', 'beta2', 'epsilon', 'step']);
  checkUpdateTensors(op, param, { grad, m, v });
  const step = checkPositiveInt(op, 'step', given.step);
  param.registry.runKernel(op, { param, grad, m, v }, { ...hyperparameters(op, given, ['beta1', 'beta2', 'epsilon']), step });
}

export function rmspropUpdate(
  param: Tensor,
  grad: Tensor,
  meanSquare: Tensor,
  options: { learningRate: number; rho: number; epsilon: number; weightDecay?: number },
): void {
  const op = 'rmspropUpdate';
  const given = updateOptions(op, options, ['rho', 'epsilon']);
  checkUpdateTensors(op, param, { grad, meanSquare });
  param.registry.runKernel(op, { param, grad, meanSquare }, hyperparameters(op, given, ['rho', 'epsilon']));
}
