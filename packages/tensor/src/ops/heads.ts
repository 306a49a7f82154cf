import type { Tensor } from '../tensor.js';
import { checkFloatTensor, checkRank, checkSameDtype, checkSameShape, checkTensor } from '../validation.js';

export interface LossAndGradient {
  /** Scalar (shape []) mean loss. */
  loss: Tensor;
  /** ∂loss/∂logits, same shape as the logits. */
  grad: Tensor;
}

/**
 * Softmax + categorical cross-entropy from logits (N, K) and target rows (N, K),
 * numerically stable (apps/docs/math/losses.md): loss = mean_n[(Σ_k y) LSE(x_n) − Σ_k y x],
 * grad = (p Σy − y)/N.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): LossAndGradient {
  const op = 'softmaxCrossEntropy';
  checkTensor(op, 'logits', logits);
  checkTensor(op, 'labels', labels);
  checkRank(op, 'logits', logits, 2, '(batch, classes)');
  checkFloatTensor(op, 'logits', logits);
  checkSameShape(op, logits, labels, 'logits', 'labels');
  checkSameDtype(op, logits, labels, 'logits', 'labels');
  const [loss, grad] = logits.registry.runKernel(op, { logits, labels }, {});
  return { loss, grad };
}

/**
 * Sigmoid + binary cross-entropy from logits (apps/docs/math/losses.md):
 * ℓ = max(x,0) − xy + log1p(e^−|x|), loss = mean, grad = (σ(x) − y)/M.
 */
export function sigmoidCrossEntropy(logits: Tensor, labels: Tensor): LossAndGradient {
  const op = 'sigmoidCrossEntropy';
  checkTensor(op, 'logits', logits);
  checkTensor(op, 'labels', labels);
  checkFloatTensor(op, 'logits', logits);
  checkSameShape(op, logits, labels, 'logits', 'labels');
  checkSameDtype(op, logits, labels, 'logits', 'labels');
  const [loss, grad] = logits.registry.runKernel(op, { logits, labels }, {});
  return { loss, grad };
}
