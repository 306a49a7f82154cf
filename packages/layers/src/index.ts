export { Layer } from './layer.js';
export type { BackwardOptions, BuildContext, ForwardOptions, LayerConfig, Param } from './layer.js';
export { RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from './layers/augmentation.js';
export type { AugmentationConfig, RandomFlipConfig, RandomRotationConfig, RandomTranslationConfig, RandomZoomConfig } from './layers/augmentation.js';
export { BatchNormalization } from './layers/batch-normalization.js';
export type { BatchNormalizationConfig } from './layers/batch-normalization.js';
export { Conv2D } from './layers/conv2d.js';
export type { Conv2DConfig } from './layers/conv2d.js';
export { Dense } from './layers/dense.js';
export type { DenseConfig } from './layers/dense.js';
export { Dropout } from './layers/dropout.js';
export type { DropoutConfig } from './layers/dropout.js';
export { Flatten } from './layers/flatten.js';
export { AvgPool2D, L2Pool2D, MaxPool2D } from './layers/pooling.js';
export type { Pool2DConfig } from './layers/pooling.js';
export { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from './layers/activation-layers.js';
export type { LeakyReLUConfig } from './layers/activation-layers.js';
export { ACTIVATION_NAMES } from './activations.js';
export type { ActivationName } from './activations.js';
export { INITIALIZER_NAMES } from './initializers.js';
export type { InitializerName } from './initializers.js';
export { Sequential } from './sequential.js';
export type { SequentialConfig } from './sequential.js';
export { epochOrder } from './training.js';
export type { BatchLogs, Callbacks, EpochLogs, FitOptions, History } from './training.js';
export type { EvaluateOptions, EvaluateResult } from './evaluation.js';
export type { PredictOptions } from './prediction.js';
export type { NamedArray } from './weights.js';
export type { BatchIterable, DataBatch, DataLike, HostData } from './data.js';
export { isBatchIterable } from './data.js';
export type { LayerPlan } from './layer.js';
export { gradCheck } from './grad-check.js';
export type { GradCheckEntry, GradCheckOptions } from './grad-check.js';
export {
  crc32,
  fromArtifacts,
  loadModel,
  MANIFEST_FILE,
  manifestChecksum,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  saveModel,
  toArtifacts,
  toArtifactsAsync,
} from './serialization.js';
// Kept here for the CLI and users who saved through layers; the one writer lives in @backprop/tensor/node.
export { writeFileAtomic } from '@backprop/tensor/node';
export type { ModelArtifacts, ModelJSON, ModelManifest, WeightSpec } from './serialization.js';
export { layersPlugin } from './plugin.js';
export { lenet, lenetBn, paperNetwork, PRESETS } from './presets.js';
export type { Preset, PresetName, PresetOptions } from './presets.js';
