import type { Plugin, Registry } from '@backprop/tensor';
import type { Layer } from './layer.js';
import { RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from './layers/augmentation.js';
import { BatchNormalization } from './layers/batch-normalization.js';
import { Conv2D } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import { Dropout } from './layers/dropout.js';
import { Flatten } from './layers/flatten.js';
import { AvgPool2D, L2Pool2D, MaxPool2D } from './layers/pooling.js';
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from './layers/activation-layers.js';

/** Registers every layer type by class name so models rebuild from JSON. */
export const layersPlugin: Plugin = {
  name: '@backprop/layers',
  install(registry: Registry) {
    const factories: Record<string, (config: never) => Layer> = {
      Conv2D: (c) => new Conv2D(c),
      Dense: (c) => new Dense(c),
      Dropout: (c) => new Dropout(c),
      BatchNormalization: (c) => new BatchNormalization(c),
      RandomFlip: (c) => new RandomFlip(c),
      RandomTranslation: (c) => new RandomTranslation(c),
      RandomRotation: (c) => new RandomRotation(c),
      RandomZoom: (c) => new RandomZoom(c),
      Flatten: (c) => new Flatten(c),
      MaxPool2D: (c) => new MaxPool2D(c),
      AvgPool2D: (c) => new AvgPool2D(c),
      L2Pool2D: (c) => new L2Pool2D(c),
      ReLU: (c) => new ReLU(c),
      LeakyReLU: (c) => new LeakyReLU(c),
      Sigmoid: (c) => new Sigmoid(c),
      Tanh: (c) => new Tanh(c),
      Softmax: (c) => new Softmax(c),
    };
    for (const [name, factory] of Object.entries(factories)) {
      registry.layers.register(name, (config = {}) => factory(config as never));
    }
  },
};
