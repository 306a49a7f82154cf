import type { ImageSet } from '@backprop/datasets';
import type { Sequential } from '@backprop/layers';
import { type ComponentJSON, sizeOfShape, type Tensor } from '@backprop/tensor';
import { inputsOf, labelsOf } from './data.js';

export interface SetEvaluation {
  /** Mean loss over the set: the number `model.evaluateAsync` gives. */
  loss: number;
  /** Model outputs, (N, K) flat: the values `model.predictAsync` gives. */
  outputs: Float32Array | Float64Array;
}

export const EVAL_BATCH_SIZE = 256;

/**
 * The loss and the outputs of a model on an image set with one forward pass over the
 * set: what `evaluateAsync` then `predictAsync` would give, which runs it forward twice.
 * The batches, the loss (on the logits where the loss fuses the output activation) and
 * the readback are those of `Sequential.evaluateAsync`; only the last layer runs a
 * second time, with its activation, where the loss takes the logits.
 */
export async function evaluateSet(model: Sequential, set: ImageSet, lossSpec: ComponentJSON, batchSize = EVAL_BATCH_SIZE): Promise<SetEvaluation> {
  const k = sizeOfShape(model.outputShape);
  if (model.outputShape.length !== 1 || k < 2) {
    // Not a class-per-output head (labels are not one-hot targets): the library's two passes.
    const { loss } = await model.evaluateAsync(inputsOf(set), labelsOf(set), { loss: lossSpec, batchSize });
    const predicted = await model.predictAsync(inputsOf(set), { batchSize });
    const outputs = (await predicted.data()) as Float32Array | Float64Array;
    predicted.dispose();
    return { loss, outputs };
  }
  const registry = model.registry;
  const loss = model.resolveLoss(lossSpec);
  const fused = model.fusesWith(loss);
  const layers = model.layers;
  const last = layers.length - 1;
  const sampleSize = set.rows * set.cols;
  const outputs = model.dtype === 'float64' ? new Float64Array(set.count * k) : new Float32Array(set.count * k);
  let lossSum = 0;
  for (let from = 0; from < set.count; from += batchSize) {
    const to = Math.min(set.count, from + batchSize);
    const n = to - from;
    // One-hot rows from the labels: valid targets by construction, nothing for the loss to check.
    const targets = new Float32Array(n * k);
    for (let i = 0; i < n; i++) targets[i * k + set.labels[from + i]] = 1;
    const { value, logits, out } = registry.scope(() => {
      const x = registry.makeTensor(set.images.subarray(from * sampleSize, to * sampleSize), [n, 1, set.rows, set.cols], model.dtype);
      const y = registry.makeTensor(targets, [n, k], model.dtype);
      let h = x;
      for (let i = 0; i < last; i++) h = layers[i].forward(h, {});
      const z = layers[last].forward(h, { skipActivation: fused });
      const value = (fused ? loss.computeFromLogits!(z, y) : loss.compute(z, y)).loss;
      return { value, logits: z, out: fused ? layers[last].forward(h, {}) : z };
    });
    try {
      const [lossValues, logitValues, outValues] = await Promise.all([value.data(), logits.data(), out === logits ? undefined : out.data()]);
      lossSum += lossValues[0] * n;
      outputs.set(outValues ?? logitValues, from * k);
    } finally {
      for (const t of new Set<Tensor>([value, logits, out])) t.dispose();
    }
  }
  return { loss: lossSum / Math.max(set.count, 1), outputs };
}
