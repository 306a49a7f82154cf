import { BackpropError, checkBoolean, checkPositiveInt, describeValue, type Loss, type Tensor } from '@backprop/tensor';
import { type BatchIterable, checkCounts, checkTargetValues, type DataBatch, inputSet, isBatchIterable, isPlainObject, targetSet } from './data.js';
import { type EvaluateOptions, type EvaluateResult, evaluateSets, evaluation } from './evaluation.js';
import { prediction, type PredictOptions } from './prediction.js';
import { runAsync } from './readback.js';
import type { Sequential } from './sequential.js';
import { checkFitOptions, type FitOptions, type History, type TrainingBatch, trainEpochs } from './training.js';

/**
 * `fit`, `evaluate` and `predict` on a stream of batches (`BatchIterable`): each batch is
 * checked as in-memory data is (shapes, finite values, the loss's target checks) when it
 * arrives, so a data set larger than memory trains holding one or two batches at a time.
 */

/** Options that belong to the stream, not to `fit`, when the data is a stream. */
const STREAM_DECIDES = ['batchSize', 'shuffle', 'seed', 'validationSplit'] as const;

export async function fitStream(model: Sequential, data: BatchIterable, options: FitOptions): Promise<History> {
  const where = 'fit';
  checkFitOptions(where, options);
  for (const name of STREAM_DECIDES) {
    if (options[name] !== undefined) {
      throw new BackpropError(
        where,
        `${name} does not apply to a stream of batches: the stream decides its batches and their order (e.g. dataset.batches({ batchSize, shuffle, seed })), and a validation set is a second stream (validationData)`,
      );
    }
  }
  const loss = model.resolveLoss(options.loss);
  const { registry, dtype } = model;
  async function* epochBatches(): AsyncGenerator<TrainingBatch> {
    let b = 0;
    for await (const batch of data) {
      const at = `batch ${++b}`;
      const { inputs, targets } = await batchSets(model, where, at, batch, loss);
      const [x, y] = registry.scope(() => [
        registry.makeTensor(dtype === 'float64' ? Float64Array.from(inputs.values) : inputs.values, [inputs.count, ...inputs.sampleShape], dtype),
        registry.makeTensor(dtype === 'float64' ? Float64Array.from(targets.values) : targets.values, [targets.count, ...targets.sampleShape], dtype),
      ]);
      yield { x, y, targets: targets.values, count: inputs.count };
    }
  }
  const validationData = options.validationData;
  let validate: (() => Promise<EvaluateResult>) | undefined;
  if (isBatchIterable(validationData)) validate = () => evaluateStream(model, where, validationData, { loss });
  else if (validationData !== undefined) {
    const [vx, vy] = validationData;
    validate = () => runAsync(evaluation(model, where, vx, vy, { loss }));
  }
  const samples = typeof data.sampleCount === 'number' ? data.sampleCount : 0;
  const batches = typeof data.batchCount === 'number' ? data.batchCount : 0;
  return trainEpochs(model, where, options, loss, { samples, batchesPerEpoch: batches, epochBatches }, validate);
}

/** A stream batch as checked host sets in the model's dtype (float32 unless the model is float64). */
async function batchSets(model: Sequential, where: string, at: string, batch: DataBatch, loss: Loss) {
  if (!isPlainObject(batch) || batch.x === undefined || batch.y === undefined) {
    throw new BackpropError(where, `${at} of the stream must be { x, y }, got ${batch === null ? 'null' : typeof batch === 'object' ? `an object with ${Object.keys(batch).join(', ') || 'no keys'}` : typeof batch}`);
  }
  const inputs = await runAsync(inputSet(where, `${at} x`, batch.x, model.inputShape));
  const targets = await runAsync(targetSet(where, `${at} y`, batch.y, model.outputShape));
  checkCounts(where, `${at} x`, inputs, `${at} y`, targets);
  checkTargetValues(loss, targets);
  if (model.dtype !== 'float64' && inputs.values instanceof Float64Array) inputs.values = Float32Array.from(inputs.values);
  if (model.dtype !== 'float64' && targets.values instanceof Float64Array) targets.values = Float32Array.from(targets.values);
  return { inputs, targets };
}

/** Mean loss and accuracy over every batch of one pass of the stream (weighted by batch size). */
export async function evaluateStream(model: Sequential, where: string, data: BatchIterable, options: EvaluateOptions): Promise<EvaluateResult> {
  if (!isPlainObject(options) || options.loss === undefined) throw new BackpropError(where, 'needs options { loss } as its second argument with a stream of batches');
  // The in-memory evaluate's option checks, before the first batch is read.
  const loss = model.resolveLoss(options.loss);
  if (options.batchSize !== undefined) checkPositiveInt(where, 'batchSize', options.batchSize);
  const returnOutputs = checkBoolean(where, 'returnOutputs', options.returnOutputs, false);
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  const outputs: (Float32Array | Float64Array)[] = [];
  let b = 0;
  for await (const batch of data) {
    const { inputs, targets } = await batchSets(model, where, `batch ${++b}`, batch, loss);
    const result = await runAsync(evaluateSets(model, where, inputs, targets, loss, options.batchSize ?? Math.max(1, inputs.count), returnOutputs));
    lossSum += result.loss * inputs.count;
    correct += Math.round(result.accuracy * inputs.count);
    count += inputs.count;
    if (result.outputs) outputs.push(result.outputs);
  }
  if (count === 0) throw new BackpropError(where, 'the stream yielded no samples');
  const mean = { loss: lossSum / count, accuracy: correct / count };
  return returnOutputs ? { ...mean, outputs: concat(outputs, model.dtype === 'float64') } : mean;
}

/** The outputs for every input of one pass of the stream, as one (N, …outputShape) tensor; `y` in the batches is ignored. */
export async function predictStream(model: Sequential, where: string, data: BatchIterable, options: PredictOptions): Promise<Tensor> {
  // The in-memory predict's option checks (prediction repeats them per batch), before the first batch is read.
  if (!isPlainObject(options as unknown)) throw new BackpropError(where, `options must be an object, got ${describeValue(options)}`);
  if (options.batchSize !== undefined) checkPositiveInt(where, 'batchSize', options.batchSize);
  const parts: (Float32Array | Float64Array)[] = [];
  let b = 0;
  for await (const batch of data) {
    b++;
    if (!isPlainObject(batch) || batch.x === undefined) throw new BackpropError(where, `batch ${b} of the stream must be { x, y? }`);
    const out = await runAsync(prediction(model, where, batch.x, options));
    try {
      parts.push((await out.data()) as Float32Array | Float64Array);
    } finally {
      out.dispose();
    }
  }
  const values = concat(parts, model.dtype === 'float64');
  const perSample = model.outputShape.reduce((a, d) => a * d, 1);
  return model.registry.makeTensor(values, [values.length / perSample, ...model.outputShape], model.dtype);
}

function concat(parts: ArrayLike<number>[], float64: boolean): Float32Array | Float64Array {
  const out = float64 ? new Float64Array(parts.reduce((n, p) => n + p.length, 0)) : new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
