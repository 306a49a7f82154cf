import { BackpropError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { assertBoolean, assertFiniteNumber, assertFloat, assertOptions, assertSameDtype, assertSameShape, assertTensor } from './validate.js';

/**
 * In-place optimizer updates (MATH.md §2.9). Every element is updated from the
 * gradient computed before the step; parameters never leave the backend.
 */

function checkState(op: string, param: Tensor, named: Record<string, Tensor>): void {
  assertTensor(op, 'param', param);
  assertFloat(op, 'param', param);
  for (const [name, t] of Object.entries(named)) {
    assertTensor(op, name, t);
    assertSameShape(op, param, t, 'param', name);
    assertSameDtype(op, param, t, 'param', name);
  }
}

function checkCommon(op: string, learningRate: number, weightDecay: number): void {
  assertFiniteNumber(op, 'learningRate', learningRate);
  assertFiniteNumber(op, 'weightDecay', weightDecay);
  if (learningRate < 0) throw new BackpropError(op, `learningRate must be ≥ 0, got ${learningRate}`);
  if (weightDecay < 0) throw new BackpropError(op, `weightDecay must be ≥ 0, got ${weightDecay}`);
}

function checkUnit(op: string, name: string, v: number, allowOne = false): void {
  assertFiniteNumber(op, name, v);
  if (v < 0 || (allowOne ? v > 1 : v >= 1)) {
    throw new BackpropError(op, `${name} must be in [0, 1${allowOne ? ']' : ')'}, got ${v}`);
  }
}

/** θ ← θ − α(∂L/∂θ + λθ)  (Eq 3.75–3.80). */
export function sgdUpdate(param: Tensor, grad: Tensor, learningRate: number, weightDecay = 0): void {
  checkState('sgdUpdate', param, { grad });
  checkCommon('sgdUpdate', learningRate, weightDecay);
  param.registry.runKernel('sgdUpdate', { param, grad }, { learningRate, weightDecay });
}

export function momentumUpdate(
  param: Tensor,
  grad: Tensor,
  velocity: Tensor,
  options: { learningRate: number; momentum: number; nesterov?: boolean; weightDecay?: number },
): void {
  const op = 'momentumUpdate';
  // Destructuring null or undefined would throw a TypeError.
  assertOptions(op, options, 'options must be an object', true);
  const { learningRate, momentum, nesterov = false, weightDecay = 0 } = options;
  checkState(op, param, { grad, velocity });
  checkCommon(op, learningRate, weightDecay);
  checkUnit(op, 'momentum', momentum, true);
  assertBoolean(op, 'nesterov', nesterov);
  param.registry.runKernel(op, { param, grad, velocity }, { learningRate, weightDecay, momentum, nesterov });
}

export function adamUpdate(
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  options: { learningRate: number; beta1: number; beta2: number; epsilon: number; step: number; weightDecay?: number },
): void {
  const op = 'adamUpdate';
  // Destructuring null or undefined would throw a TypeError.
  assertOptions(op, options, 'options must be an object', true);
  const { learningRate, beta1, beta2, epsilon, step, weightDecay = 0 } = options;
  checkState(op, param, { grad, m, v });
  checkCommon(op, learningRate, weightDecay);
  checkUnit(op, 'beta1', beta1);
  checkUnit(op, 'beta2', beta2);
  assertFiniteNumber(op, 'epsilon', epsilon);
  if (!Number.isInteger(step) || step < 1) throw new BackpropError(op, `step must be an integer ≥ 1, got ${step}`);
  param.registry.runKernel(op, { param, grad, m, v }, { learningRate, weightDecay, beta1, beta2, epsilon, step });
}

export function rmspropUpdate(
  param: Tensor,
  grad: Tensor,
  meanSquare: Tensor,
  options: { learningRate: number; rho: number; epsilon: number; weightDecay?: number },
): void {
  const op = 'rmspropUpdate';
  // Destructuring null or undefined would throw a TypeError.
  assertOptions(op, options, 'options must be an object', true);
  const { learningRate, rho, epsilon, weightDecay = 0 } = options;
  checkState(op, param, { grad, meanSquare });
  checkCommon(op, learningRate, weightDecay);
  checkUnit(op, 'rho', rho);
  assertFiniteNumber(op, 'epsilon', epsilon);
  param.registry.runKernel(op, { param, grad, meanSquare }, { learningRate, weightDecay, rho, epsilon });
}
