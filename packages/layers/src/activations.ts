import {
  checkNumberInRange,
  checkOneOf,
  type FusedActivation,
  leakyRelu,
  leakyReluBackward,
  relu,
  reluBackward,
  sigmoid,
  sigmoidBackward,
  softmax,
  softmaxBackward,
  tanh,
  tanhBackward,
  type Tensor,
} from '@backprop/tensor';

/** apps/docs/math/activations.md (Table 1 corrected): the activations a layer may apply to its output. */
export type ActivationName = 'linear' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'softmax';

export const ACTIVATION_NAMES: readonly ActivationName[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax'];

/** A layer's activation option; absent (or null) is 'linear'. */
export function checkActivation(where: string, activation: unknown): ActivationName {
  return activation === undefined || activation === null ? 'linear' : checkOneOf(where, 'activation', activation, ACTIVATION_NAMES);
}

/**
 * The leaky-ReLU slope. It must be ≥ 0: `activationBackward` tests the kink on the
 * output y, which has the sign of z only when the slope is non-negative.
 */
export function checkAlpha(where: string, alpha: unknown): number {
  return alpha === undefined ? 0.01 : checkNumberInRange(where, 'alpha (the leaky ReLU slope)', alpha, { min: 0 });
}

/** Activations the matMul and conv2d kernels can fuse after the bias add. */
export function fusable(activation: ActivationName): FusedActivation | undefined {
  return activation === 'softmax' ? undefined : activation;
}

/** y = f(z). */
export function activate(activation: ActivationName, z: Tensor, alpha: number): Tensor {
  switch (activation) {
    case 'linear': return z;
    case 'relu': return relu(z);
    case 'leakyRelu': return leakyRelu(z, alpha);
    case 'sigmoid': return sigmoid(z);
    case 'tanh': return tanh(z);
    case 'softmax': return softmax(z);
  }
}

/**
 * ∂L/∂z from ∂L/∂y and the forward *output* y. For ReLU and leaky ReLU with
 * alpha ≥ 0, y > 0 exactly when z > 0, so the output serves as the kink test and
 * fused layers never need to keep z.
 */
export function activationBackward(activation: ActivationName, dy: Tensor, y: Tensor, alpha: number): Tensor {
  switch (activation) {
    case 'linear': return dy;
    case 'relu': return reluBackward(dy, y);
    case 'leakyRelu': return leakyReluBackward(dy, y, alpha);
    case 'sigmoid': return sigmoidBackward(dy, y);
    case 'tanh': return tanhBackward(dy, y);
    case 'softmax': return softmaxBackward(dy, y);
  }
}
