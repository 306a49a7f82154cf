import type { ImageSet } from '@backprop/datasets';
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
