/**
 * @backprop/losses: the loss functions of apps/docs/math/losses.md and the fused, numerically
 * stable output heads (apps/docs/math/losses.md), as `Loss` objects registered by name.
 */
export {
  binaryCrossentropy,
  categoricalCrossentropy,
  formulas,
  halfSumSquares,
  l1,
  l2,
  l2norm,
  LOSS_FACTORIES,
  mae,
  mape,
  mse,
  msle,
  sigmoidCrossEntropyFromLogits,
  softmaxCrossEntropyFromLogits,
} from './losses.js';
export type { LossName } from './losses.js';
export { toOneHot } from './one-hot.js';
export type { ToOneHotOptions } from './one-hot.js';
export { getLoss, lossesPlugin } from './plugin.js';
export type { LossOptions } from './validate.js';
