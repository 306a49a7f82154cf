/**
 * @backprop/optimizers: gradient descent (apps/docs/math/gradient-descent.md, Eq 3.75–3.80), momentum,
 * Adam and RMSprop, updating parameters in place on the backend.
 */
export { Adam, adam, Momentum, momentum, OPTIMIZER_FACTORIES, RMSprop, rmsprop, SGD, sgd } from './optimizers.js';
export type { AdamConfig, MomentumConfig, OptimizerName, RMSpropConfig, SGDConfig } from './optimizers.js';
export { learningRateAt, parseLearningRate } from './schedules.js';
export type { LearningRate, LearningRateSchedule } from './schedules.js';
export { getOptimizer, optimizersPlugin } from './plugin.js';
