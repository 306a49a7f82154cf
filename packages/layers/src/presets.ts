import type { ComponentJSON, FloatDataType, Registry } from '@backprop/tensor';
import { Conv2D } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import { Flatten } from './layers/flatten.js';
import { MaxPool2D } from './layers/pooling.js';
import { Sequential } from './sequential.js';

export interface PresetOptions {
  /** Per-sample input (channels, height, width); MNIST's is [1, 28, 28]. */
  inputShape?: number[];
  classes?: number;
  seed?: number;
  dtype?: FloatDataType;
  registry?: Registry;
}

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
  const classes = options.classes ?? 10;
  const model = new Sequential({
    name: 'paper',
    inputShape: options.inputShape ?? [1, 28, 28],
    seed: options.seed,
    dtype: options.dtype,
    registry: options.registry,
    layers: [
      new Conv2D({ filters: 8, kernelSize: 5, activation: 'relu' }),
      new MaxPool2D({ poolSize: 2 }),
      new Flatten(),
      new Dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
      new Dense({ units: classes, activation: 'sigmoid' }),
    ],
  });
  return {
    model,
    loss: { name: 'binaryCrossentropy', config: {} },
    optimizer: { name: 'sgd', config: { learningRate: 1 } },
    description: 'Conv 8@5×5 ReLU → MaxPool 2 → Flatten → Dense 128 ReLU → Dense 10 sigmoid; BCE; SGD',
  };
}

/**
 * Two conv/pool stages (the paper's q convolution layers with q = 2), softmax +
 * cross-entropy, Adam. The learning rate decays by 0.4 per MNIST epoch (1,875 steps
 * of 32): measured 99.00 % after 3 epochs, against 98.58 % at a constant 1e-3.
 */
export function lenet(options: PresetOptions = {}): Preset {
  const classes = options.classes ?? 10;
  const model = new Sequential({
    name: 'lenet',
    inputShape: options.inputShape ?? [1, 28, 28],
    seed: options.seed,
    dtype: options.dtype,
    registry: options.registry,
    layers: [
      new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu' }),
      new MaxPool2D({ poolSize: 2 }),
      new Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }),
      new MaxPool2D({ poolSize: 2 }),
      new Flatten(),
      new Dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
      new Dense({ units: classes, activation: 'softmax' }),
    ],
  });
  return {
    model,
    loss: { name: 'categoricalCrossentropy', config: {} },
    optimizer: { name: 'adam', config: { learningRate: { type: 'exponential', initial: 0.001, decayRate: 0.4, decaySteps: 1875 } } },
    description: 'Conv 32@3×3 ReLU → MaxPool 2 → Conv 64@3×3 ReLU → MaxPool 2 → Dense 128 ReLU → Dense 10 softmax; CE; Adam (lr 1e-3, ×0.4 per epoch)',
  };
}

export const PRESETS = { paper: paperNetwork, lenet } as const;
export type PresetName = keyof typeof PRESETS;
