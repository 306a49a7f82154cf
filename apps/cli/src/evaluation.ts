import type { ImageBatch, ImageDataset, ImageSet } from '@backprop/datasets';
import type { Sequential } from '@backprop/layers';
import type { ComponentJSON } from '@backprop/tensor';
import { inputsOf, labelsOf } from './data.js';

export interface SetEvaluation {
  /** Mean loss over the set: the number `model.evaluateAsync` gives. */
  loss: number;
  /** Model outputs, (N, K) flat: the values `model.predictAsync` gives. */
  outputs: Float32Array | Float64Array;
}

export const EVAL_BATCH_SIZE = 256;

/**
 * The loss and the outputs of a model on an image set from one forward pass over it
 * (`evaluateAsync` with `returnOutputs`), where `evaluateAsync` then `predictAsync` would
 * run the set forward twice.
 */
export async function evaluateSet(model: Sequential, set: ImageSet, lossSpec: ComponentJSON, batchSize = EVAL_BATCH_SIZE): Promise<SetEvaluation> {
  const { loss, outputs } = await model.evaluateAsync(inputsOf(set), labelsOf(set), { loss: lossSpec, batchSize, returnOutputs: true });
  return { loss, outputs: outputs! };
}

/**
 * `evaluateSet` for an image folder, streamed: decoded batch by batch, so a folder larger
 * than memory is evaluated too. All its images (in folder order), or with `limit` below
 * their count a random subset of `limit` images, the same every time (seed 0): the first
 * images in folder order would be the first classes' only. Returns the labels of the images
 * evaluated, in the order they were read, with the loss and the outputs.
 */
export async function evaluateFolder(
  model: Sequential,
  dataset: ImageDataset,
  lossSpec: ComponentJSON,
  limit = dataset.count,
  batchSize = EVAL_BATCH_SIZE,
): Promise<SetEvaluation & { labels: Int32Array; count: number }> {
  const subset = limit < dataset.count;
  const read: Int32Array[] = [];
  const batches = firstSamples(dataset.batches({ batchSize, shuffle: subset, seed: 0 }), Math.min(limit, dataset.count), read);
  const { loss, outputs } = await model.evaluateAsync(batches, { loss: lossSpec, returnOutputs: true });
  const labels = new Int32Array(read.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of read) {
    labels.set(part, at);
    at += part.length;
  }
  return { loss, outputs: outputs!, labels, count: labels.length };
}

/** The first `count` samples of a stream of batches (the last batch cut to fit), appending the labels of each batch to `labels` as it is yielded. */
async function* firstSamples(batches: AsyncIterable<ImageBatch>, count: number, labels: Int32Array[]): AsyncGenerator<ImageBatch> {
  let left = count;
  for await (const { x, y } of batches) {
    if (left <= 0) return;
    const n = y.values.length;
    const batch: ImageBatch =
      n <= left ? { x, y } : { x: { values: x.values.subarray(0, left * (x.values.length / n)), shape: [left, ...x.shape.slice(1)] }, y: { values: y.values.subarray(0, left), shape: [left] } };
    labels.push(batch.y.values.slice());
    yield batch;
    left -= batch.y.values.length;
  }
}
