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
 * `evaluateSet` for an image folder, streamed: its first `limit` images (all by default) in
 * folder order, decoded batch by batch, so a folder larger than memory is evaluated too.
 * Returns the labels of the images evaluated with the loss and the outputs.
 */
export async function evaluateFolder(
  model: Sequential,
  dataset: ImageDataset,
  lossSpec: ComponentJSON,
  limit = dataset.count,
  batchSize = EVAL_BATCH_SIZE,
): Promise<SetEvaluation & { labels: Int32Array; count: number }> {
  const count = Math.min(limit, dataset.count);
  const { loss, outputs } = await model.evaluateAsync(firstSamples(dataset.batches({ batchSize }), count), { loss: lossSpec, returnOutputs: true });
  return { loss, outputs: outputs!, labels: dataset.labels.subarray(0, count), count };
}

/** The first `count` samples of a stream of batches; the last batch is cut to fit. */
async function* firstSamples(batches: AsyncIterable<ImageBatch>, count: number): AsyncGenerator<ImageBatch> {
  let left = count;
  for await (const { x, y } of batches) {
    if (left <= 0) return;
    const n = y.values.length;
    if (n <= left) yield { x, y };
    else {
      const size = x.values.length / n;
      yield { x: { values: x.values.subarray(0, left * size), shape: [left, ...x.shape.slice(1)] }, y: { values: y.values.subarray(0, left), shape: [left] } };
    }
    left -= Math.min(n, left);
  }
}
