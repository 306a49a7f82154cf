import { BackpropError, checkBoolean, checkPositiveInt, type ComponentJSON, describeValue, type Loss, type LossResult, sizeOfShape, type Tensor } from '@backprop/tensor';
import {
  checkCounts,
  checkTargetValues,
  countCorrect,
  type DataLike,
  gatherBatch,
  type HostSet,
  inputSet,
  isPlainObject,
  targetSet,
} from './data.js';
import type { Reading } from './readback.js';
import type { Sequential } from './sequential.js';

/** How a model's outputs are scored: a batch's loss and accuracy, and the mean of both over a dataset. */

export interface EvaluateResult {
  loss: number;
  accuracy: number;
  /**
   * With `returnOutputs`: the model's outputs for every sample, (N, …outputShape) flat,
   * the values `predict` gives, from the same forward pass that scored them.
   */
  outputs?: Float32Array | Float64Array;
}

export interface EvaluateOptions {
  /** Loss name ('categoricalCrossentropy'), `{ name, config }`, or a Loss object. */
  loss: string | ComponentJSON | Loss;
  batchSize?: number;
  /** Also return the outputs (`EvaluateResult.outputs`): one pass where `evaluate` then `predict` would run the set forward twice. */
  returnOutputs?: boolean;
}

/** A batch's loss and its number of correct predictions. */
export interface BatchStats {
  loss: number;
  correct: number;
  /** The outputs read back (logits when fused). */
  outputs: ArrayLike<number>;
}

/** The loss of outputs against targets: on the logits through `computeFromLogits` when the loss fuses the model's output activation. */
export function computeLoss(loss: Loss, fused: boolean, out: Tensor, targets: Tensor): LossResult {
  return fused ? loss.computeFromLogits!(out, targets) : loss.compute(out, targets);
}

/**
 * Where a single output counts as class 1: above 0 on logits (a fused head, or a loss
 * whose `compute` takes logits), above 0.5 on probabilities. Argmax rows (K > 1) are
 * the same either way.
 */
export function accuracyThreshold(loss: Loss, fused: boolean): number {
  return fused || loss.fromLogits === true ? 0 : 0.5;
}

/**
 * Reads a batch's loss value and outputs (logits when fused) back, frees them, and
 * counts the correct predictions against `targets` (host values of the outputs' shape).
 *
 * Predictions are not checked on the way (that would cost a pass over every batch):
 * a NaN or out-of-range prediction shows up as a non-finite loss. Then, and only then,
 * the loss's value checks (`Loss.checkValues`) run on the values already read, and if
 * they name the cause (NaN outputs, probabilities outside [0, 1] from a head without
 * the right activation) it is thrown as `<where>: the loss is NaN <at>: <cause>`.
 * Otherwise the non-finite loss is returned, for the caller to report or refuse.
 */
export function* scoreBatch(where: string, at: string, loss: Loss, fused: boolean, value: Tensor, out: Tensor, targets: ArrayLike<number>): Reading<BatchStats> {
  let lossValues: ArrayLike<number>;
  let outputs: ArrayLike<number>;
  try {
    [lossValues, outputs] = yield [value, out];
  } finally {
    value.dispose();
    out.dispose();
  }
  const n = out.shape[0];
  const stats = { loss: lossValues[0], correct: countCorrect(outputs, targets, n, outputs.length / n, accuracyThreshold(loss, fused)) };
  if (!Number.isFinite(stats.loss)) {
    try {
      loss.checkValues?.({ values: outputs, shape: out.shape }, { values: targets, shape: out.shape }, fused);
    } catch (error) {
      throw new BackpropError(where, `the loss is ${stats.loss} ${at}: ${(error as Error).message}`);
    }
  }
  return { ...stats, outputs };
}

/** `evaluate` from its arguments: the data and options are checked (targets once, by the loss), then `evaluateSets`. */
export function* evaluation(model: Sequential, where: string, x: DataLike, y: DataLike, options: EvaluateOptions): Reading<EvaluateResult> {
  checkEvaluateOptions(where, options);
  const inputs = yield* inputSet(where, 'x', x, model.inputShape);
  const targets = yield* targetSet(where, 'y', y, model.outputShape);
  checkCounts(where, 'x', inputs, 'y', targets);
  const loss = model.resolveLoss(options.loss);
  const batchSize = options.batchSize ?? 256;
  checkPositiveInt(where, 'batchSize', batchSize);
  const returnOutputs = checkBoolean(where, 'returnOutputs', options.returnOutputs, false);
  checkTargetValues(loss, targets);
  return yield* evaluateSets(model, where, inputs, targets, loss, batchSize, returnOutputs);
}

/** Mean loss and accuracy over checked host sets, in batches (also `fit`'s validation). */
export function* evaluateSets(
  model: Sequential,
  where: string,
  inputs: HostSet,
  targets: HostSet,
  loss: Loss,
  batchSize: number,
  returnOutputs = false,
): Reading<EvaluateResult> {
  const { registry, dtype } = model;
  const fused = model.fusesWith(loss);
  const perSample = sizeOfShape(model.outputShape);
  const outputs = returnOutputs ? (dtype === 'float64' ? new Float64Array(inputs.count * perSample) : new Float32Array(inputs.count * perSample)) : undefined;
  // This run's own buffers: values gathered here are read after the yield, when another run may have gathered its own.
  const scratch = { x: {}, y: {} };
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < inputs.count; from += batchSize) {
    const to = Math.min(inputs.count, from + batchSize);
    const { value, out, activated, y } = registry.scope(() => {
      const xb = gatherBatch(registry, inputs, null, from, to, dtype, scratch.x);
      const yb = gatherBatch(registry, targets, null, from, to, dtype, scratch.y);
      const { out, activated } = forwardScored(model, xb.tensor, fused, returnOutputs);
      return { value: computeLoss(loss, fused, out, yb.tensor).loss, out, activated, y: yb.values };
    });
    if (activated && outputs) {
      try {
        const [values] = yield [activated];
        outputs.set(values, from * perSample);
      } finally {
        activated.dispose();
      }
    }
    const stats = yield* scoreBatch(where, `on samples [${from}, ${to})`, loss, fused, value, out, y);
    if (outputs && !activated) outputs.set(stats.outputs, from * perSample);
    lossSum += stats.loss * (to - from);
    correct += stats.correct;
  }
  return outputs ? { loss: lossSum / inputs.count, accuracy: correct / inputs.count, outputs } : { loss: lossSum / inputs.count, accuracy: correct / inputs.count };
}

/**
 * The forward pass `evaluate` scores: logits where the loss fuses the output activation.
 * With `activated`, also what `predict` gives: where the scored outputs are logits, the
 * last layer runs once more with its activation (the same kernel `predict` runs, so the
 * values are identical), on the penultimate activations of the same pass.
 */
function forwardScored(model: Sequential, x: Tensor, fused: boolean, activated: boolean): { out: Tensor; activated?: Tensor } {
  if (!activated || !fused) return { out: model.forward(x, { logits: fused }) };
  const layers = model.layers;
  const last = layers.length - 1;
  let h = x;
  for (let i = 0; i < last; i++) h = layers[i].forward(h, {});
  return { out: layers[last].forward(h, { skipActivation: true }), activated: layers[last].forward(h, {}) };
}

function checkEvaluateOptions(where: string, options: unknown): asserts options is EvaluateOptions {
  if (!isPlainObject(options) || (options as { loss?: unknown }).loss === undefined) {
    throw new BackpropError(where, `needs options { loss, batchSize? } as its third argument, got ${describeValue(options)}`);
  }
}
