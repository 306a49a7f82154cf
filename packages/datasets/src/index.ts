export { IdxFormatError, parseIdx } from './idx.js';
export type { IdxArray, IdxBytes } from './idx.js';
export { checkLabels, defaultMnistDir, imageSetFromIdx, loadMnist, MNIST_FILES } from './mnist.js';
export type { ImageSet, ImageSetOptions, LoadMnistOptions, MnistData } from './mnist.js';
