import type { Tensor } from '../tensor.js';
import { checkFiniteNumber, checkFloatTensor, checkRank, checkSameDtype, checkSameShape, checkTensor } from '../validation.js';

function checkUnary(op: string, x: Tensor): void {
  checkTensor(op, 'x', x);
  checkFloatTensor(op, 'x', x);
}

function checkBackward(op: string, dy: Tensor, saved: Tensor, savedName: string): void {
  checkTensor(op, 'dy', dy);
  checkTensor(op, savedName, saved);
  checkSameShape(op, dy, saved, 'dy', savedName);
  checkSameDtype(op, dy, saved, 'dy', savedName);
}

export function relu(x: Tensor): Tensor {
  checkUnary('relu', x);
  return x.registry.runKernel('relu', { x }, {});
}

/** dx = dy · 1[x > 0] (apps/docs/math/activations.md: ReLU'(0) = 0). */
export function reluBackward(dy: Tensor, x: Tensor): Tensor {
  checkBackward('reluBackward', dy, x, 'x');
  return dy.registry.runKernel('reluBackward', { dy, x }, {});
}

export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  checkUnary('leakyRelu', x);
  checkFiniteNumber('leakyRelu', 'alpha', alpha);
  return x.registry.runKernel('leakyRelu', { x }, { alpha });
}

/** dx = dy · (x > 0 ? 1 : alpha) (leaky'(0) = alpha). */
export function leakyReluBackward(dy: Tensor, x: Tensor, alpha = 0.01): Tensor {
  checkBackward('leakyReluBackward', dy, x, 'x');
  checkFiniteNumber('leakyReluBackward', 'alpha', alpha);
  return dy.registry.runKernel('leakyReluBackward', { dy, x }, { alpha });
}

export function sigmoid(x: Tensor): Tensor {
  checkUnary('sigmoid', x);
  return x.registry.runKernel('sigmoid', { x }, {});
}

/** dx = dy · y(1 − y), from the forward output y (errata E5 (apps/docs/math/errata.md)). */
export function sigmoidBackward(dy: Tensor, y: Tensor): Tensor {
  checkBackward('sigmoidBackward', dy, y, 'y');
  return dy.registry.runKernel('sigmoidBackward', { dy, y }, {});
}

export function tanh(x: Tensor): Tensor {
  checkUnary('tanh', x);
  return x.registry.runKernel('tanh', { x }, {});
}

export function tanhBackward(dy: Tensor, y: Tensor): Tensor {
  checkBackward('tanhBackward', dy, y, 'y');
  return dy.registry.runKernel('tanhBackward', { dy, y }, {});
}

/** Softmax over the classes of an (N, K) tensor. */
export function softmax(x: Tensor): Tensor {
  checkUnary('softmax', x);
  checkRank('softmax', 'x', x, 2, '(batch, classes)');
  return x.registry.runKernel('softmax', { x }, {});
}

export function logSoftmax(x: Tensor): Tensor {
  checkUnary('logSoftmax', x);
  checkRank('logSoftmax', 'x', x, 2, '(batch, classes)');
  return x.registry.runKernel('logSoftmax', { x }, {});
}

/** dx = y ⊙ (dy − Σ_k dy_k y_k) per row (apps/docs/math/activations.md, fixes E7). */
export function softmaxBackward(dy: Tensor, y: Tensor): Tensor {
  checkBackward('softmaxBackward', dy, y, 'y');
  checkRank('softmaxBackward', 'y', y, 2, '(batch, classes)');
  return dy.registry.runKernel('softmaxBackward', { dy, y }, {});
}
