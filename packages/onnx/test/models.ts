import { cpuBackend } from '@backprop/backend-cpu';
import {
  AvgPool2D,
  BatchNormalization,
  Conv2D,
  Dense,
  Dropout,
  Flatten,
  L2Pool2D,
  LeakyReLU,
  layersPlugin,
  MaxPool2D,
  RandomFlip,
  ReLU,
  Sequential,
  Sigmoid,
  Softmax,
  Tanh,
} from '@backprop/layers';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { type ComponentJSON, Registry } from '@backprop/tensor';

export const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

/**
 * Every layer type and every activation Backprop has, on MNIST's [1, 28, 28]:
 * Conv2D with 'same' padding + leaky ReLU, stride 2 + explicit padding + tanh, 1×1
 * linear without bias; average, L2 (overlapping windows) and max pooling; the
 * activation layers; Dense with ReLU, leaky ReLU (no bias), sigmoid and linear; Softmax.
 */
export function everyLayerModel(seed = 3): { model: Sequential; loss: ComponentJSON; optimizer: ComponentJSON } {
  const model = new Sequential({
    name: 'every-layer',
    inputShape: [1, 28, 28],
    seed,
    registry,
    layers: [
      new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'leakyRelu', alpha: 0.1 }), // [4, 28, 28]
      new AvgPool2D({ poolSize: 2 }), // [4, 14, 14]
      new Conv2D({ filters: 6, kernelSize: [3, 3], strides: 2, padding: 1, activation: 'tanh' }), // [6, 7, 7]
      new L2Pool2D({ poolSize: 2, strides: 1 }), // [6, 6, 6]
      new Conv2D({ filters: 8, kernelSize: 1, activation: 'linear', useBias: false }), // [8, 6, 6]
      new Tanh(),
      new MaxPool2D({ poolSize: 3, strides: [2, 1] }), // [8, 2, 4]
      new ReLU(),
      new Flatten(), // [64]
      new Dense({ units: 32, activation: 'relu' }),
      new Dense({ units: 24, activation: 'leakyRelu', alpha: 0.05, useBias: false }),
      new Sigmoid(),
      new Dense({ units: 16, activation: 'tanh' }),
      new LeakyReLU({ alpha: 0.2 }),
      new Dense({ units: 10 }),
      new Softmax(),
    ],
  });
  return {
    model,
    loss: { name: 'categoricalCrossentropy', config: {} },
    optimizer: { name: 'adam', config: { learningRate: 0.01 } },
  };
}

/**
 * Dropout and BatchNormalization in every form the exporter writes: an augmentation layer
 * (no node), a conv BatchNormalization without γ and β (scale and center off, so the export
 * writes constant ones and zeros) with PyTorch's ε and momentum, a Dense one with both, and
 * Dropout after a pool and before the head.
 */
export function normalizedModel(seed = 5): { model: Sequential; loss: ComponentJSON; optimizer: ComponentJSON } {
  const model = new Sequential({
    name: 'normalized',
    inputShape: [1, 28, 28],
    seed,
    registry,
    layers: [
      new RandomFlip({ mode: 'horizontal' }),
      new Conv2D({ filters: 6, kernelSize: 5, useBias: false }), // [6, 24, 24]
      new BatchNormalization({ scale: false, center: false, epsilon: 1e-5, momentum: 0.9 }),
      new ReLU(),
      new MaxPool2D({ poolSize: 2 }), // [6, 12, 12]
      new Dropout({ rate: 0.3 }),
      new Flatten(),
      new Dense({ units: 32 }),
      new BatchNormalization(),
      new Tanh(),
      new Dropout({ rate: 0.5 }),
      new Dense({ units: 10, activation: 'softmax' }),
    ],
  });
  return {
    model,
    loss: { name: 'categoricalCrossentropy', config: {} },
    optimizer: { name: 'adam', config: { learningRate: 0.005 } },
  };
}
