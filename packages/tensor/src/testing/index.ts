/**
 * `@backprop/tensor/testing`: the backend conformance kit. Backends run
 * `describeBackendConformance`; every package may use the numeric assertions and
 * the float64 reference kernels.
 */
export { describeBackendConformance } from './conformance.js';
export { asyncReadsOnly } from './async-reads.js';
export { testHelpers, type TestHelpers } from './helpers.js';
export type { ConformanceOptions } from './conformance.js';
export {
  checkGradient,
  checkGradientAsync,
  checkVjp,
  checkVjpAsync,
  expectArraysClose,
  expectArraysEqual,
  isClose,
  numericalGradient,
  numericalGradientAsync,
} from './assertions.js';
export type { ArrayInput, CloseOptions, GradientCheckOptions, GradientCheckResult } from './assertions.js';
export * as reference from './reference.js';
export type { RefTensor } from './reference.js';
