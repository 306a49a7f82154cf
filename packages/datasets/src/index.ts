export { IdxFormatError, parseIdx } from './idx.js';
export type { IdxArray } from './idx.js';
export { defaultMnistDir, imageSetFromIdx, loadMnist, MNIST_FILES } from './mnist.js';
export type { ImageSet, LoadMnistOptions, MnistData } from './mnist.js';
