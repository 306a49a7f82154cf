export type { DataType, FloatDataType, TypedArray, FloatArray } from './dtype.js';
export { allocArray, bytesPerElement, copyConverted, isDataType, toTypedArray } from './dtype.js';
export { BackpropError, DisposedTensorError, RegistryError, shapeToString } from './errors.js';
export type { Backend, BackendMemory, KernelArgs, KernelConfig, KernelFunc } from './backend.js';
export { defineKernel } from './backend.js';
export type {
  Conv2DGeometry,
  DataId,
  FusedActivation,
  KernelAttrs,
  KernelInputs,
  KernelName,
  KernelOutput,
  KernelSpecs,
  PoolGeometry,
  TensorInfo,
  UpdateAttrs,
} from './kernels.js';
export { KERNEL_NAMES, SPEC_VERSION } from './kernels.js';
export { Tensor, sizeOfShape, resolveReshape } from './tensor.js';
export { MAX_TENSOR_BYTES, assertTensorShape, maxElements } from './limits.js';
export {
  computeConv2DInfo,
  computePool2DInfo,
  convOutputSize,
  matMulDims,
  winogradApplies,
  winogradPays,
  WINOGRAD_MIN_CHANNELS,
  WINOGRAD_MIN_FILTERS,
} from './geometry.js';
export type { Conv2DFilter, Conv2DInfo, MatMulDims, Pool2DInfo } from './geometry.js';
export {
  checkBoolean,
  checkDtype,
  checkFiniteNumber,
  checkFloatDtype,
  checkFloatTensor,
  checkIntPair,
  checkNonEmptyString,
  checkNonNegativeInt,
  checkNumberInRange,
  checkOneOf,
  checkOptions,
  checkPositiveInt,
  checkRank,
  checkSameDtype,
  checkSameShape,
  checkTensor,
  describeValue,
  formatChoices,
} from './validation.js';
export type { CheckOptionsSettings, NumberRange } from './validation.js';
export type { Storage } from './tensor.js';
export {
  Registry,
  NamedRegistry,
  FactoryRegistry,
  defaultRegistry,
  getBackend,
  getBackendName,
  keep,
  memory,
  scope,
  setBackend,
  use,
} from './registry.js';
export type { BackendRegistration, ComponentSpec, Factory, MemoryInfo, Plugin, RegisterOptions } from './registry.js';
export { createRandom, seededOrder } from './random.js';
export { crc32 } from './checksum.js';
export type { Random } from './random.js';
export * from './ops/index.js';
export type {
  ComponentJSON,
  HostValues,
  LayerComponent,
  Loss,
  LossFactory,
  LossResult,
  Optimizer,
  OptimizerFactory,
  OptimizerState,
  ParamAndGrad,
} from './components.js';
export { isLayerComponent, isLoss, isOptimizer } from './components.js';
