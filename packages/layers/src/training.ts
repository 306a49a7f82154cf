import {
  BackpropError,
  checkBoolean,
  checkFiniteNumber,
  checkNumberInRange,
  checkPositiveInt,
  type ComponentJSON,
  describeValue,
  isLoss,
  isOptimizer,
  type Loss,
  type Optimizer,
  seededOrder,
  Tensor,
} from '@backprop/tensor';
import {
  type BatchIterable,
  checkCounts,
  checkTargetValues,
  type DataLike,
  gatherBatch,
  type HostSet,
  inputSet,
  isBatchIterable,
  isPlainObject,
  sliceSet,
  targetSet,
} from './data.js';
import { type BatchStats, computeLoss, evaluateSets, scoreBatch } from './evaluation.js';
import { type Reading, runAsync } from './readback.js';
import type { Sequential } from './sequential.js';
import { evaluateStream } from './streaming.js';

/** The training loop: one step on a batch (`trainOnBatch`), and `fit`'s epochs of them. */

export interface BatchLogs {
  epoch: number;
  batch: number;
  loss: number;
  accuracy: number;
  /** Samples seen so far in this epoch. */
  seen: number;
  samplesPerSecond: number;
}

export interface EpochLogs {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  samplesPerSecond: number;
  durationMs: number;
}

export interface Callbacks {
  onTrainBegin?(info: { epochs: number; initialEpoch: number; samples: number; batchesPerEpoch: number }): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchEnd?(logs: BatchLogs): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs): void | Promise<void>;
  onTrainEnd?(history: History): void | Promise<void>;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Loss name ('categoricalCrossentropy'), `{ name, config }`, or a Loss object. */
  loss: string | ComponentJSON | Loss;
  /** Optimizer name, `{ name, config }`, or an Optimizer; defaults to the model's current one. */
  optimizer?: string | ComponentJSON | Optimizer;
  shuffle?: boolean;
  /** Shuffling seed; epoch e uses an order derived from (seed, e) only, so resumed runs match. */
  seed?: number;
  /** In-memory `[x, y]`, or a stream of batches (`BatchIterable`), evaluated after each epoch. */
  validationData?: [DataLike, DataLike] | BatchIterable;
  /** Fraction of the training data (taken from the end) held out for validation. */
  validationSplit?: number;
  /** Epoch index to start from (for resuming). */
  initialEpoch?: number;
  callbacks?: Callbacks | Callbacks[];
}

export interface History {
  epochs: EpochLogs[];
  stoppedEarly: boolean;
}

/** Forward, loss, backward and the optimizer step in one scope; the loss value and the output (logits when fused) survive it. */
function step(model: Sequential, x: Tensor, y: Tensor, loss: Loss, optimizer: Optimizer, fused: boolean): { value: Tensor; out: Tensor } {
  return model.registry.scope(() => {
    const out = model.forward(x, { training: true, logits: fused });
    const { loss: value, grad } = computeLoss(loss, fused, out, y);
    model.backward(grad);
    optimizer.step(model.trainableParams().map((p) => ({ name: p.name, param: p.value, grad: p.grad! })));
    return { value, out };
  });
}

/** One step on a batch whose targets `y` are also on the host (`targets`), then its loss and correct predictions. */
function* trainBatch(model: Sequential, where: string, at: string, x: Tensor, y: Tensor, targets: ArrayLike<number>, loss: Loss, optimizer: Optimizer): Reading<BatchStats> {
  const fused = model.fusesWith(loss);
  const { value, out } = step(model, x, y, loss, optimizer, fused);
  return yield* scoreBatch(where, at, loss, fused, value, out, targets);
}

/**
 * `trainOnBatch` from its arguments: reads the targets back first (to count the
 * correct predictions) and runs the loss's target checks on them before the step.
 */
export function* trainOnTensors(model: Sequential, where: string, x: Tensor, y: Tensor, loss: Loss, optimizer: Optimizer): Reading<BatchStats> {
  checkStepArgs(where, x, y, loss, optimizer);
  const [targets] = yield [y];
  loss.checkTargets?.({ values: targets, shape: y.shape });
  return yield* trainBatch(model, where, 'on this batch', x, y, targets, loss, optimizer);
}

/** The training data of `fit`, checked: inputs, targets (checked once by the loss), the validation sets. */
function* fitSets(model: Sequential, where: string, x: DataLike, y: DataLike, options: FitOptions, loss: Loss): Reading<{ train: HostSet; targets: HostSet; validation?: [HostSet, HostSet] }> {
  let train = yield* inputSet(where, 'x', x, model.inputShape);
  let targets = yield* targetSet(where, 'y', y, model.outputShape);
  checkCounts(where, 'x', train, 'y', targets);
  checkTargetValues(loss, targets);
  if (options.validationData && !isBatchIterable(options.validationData)) {
    const [vx, vy] = options.validationData;
    const validation: [HostSet, HostSet] = [yield* inputSet(where, 'validationData x', vx, model.inputShape), yield* targetSet(where, 'validationData y', vy, model.outputShape)];
    checkCounts(where, 'validationData x', validation[0], 'validationData y', validation[1]);
    checkTargetValues(loss, validation[1]);
    return { train, targets, validation };
  }
  if (options.validationSplit === undefined) return { train, targets };
  const split = options.validationSplit;
  const held = Math.floor(train.count * split);
  const keep = train.count - held;
  // A side with no samples would train on nothing or report a validation loss of 0 that was never measured.
  if (held === 0 || keep === 0) {
    throw new BackpropError(
      where,
      `validationSplit ${split} of ${train.count} samples leaves ${keep} for training and ${held} for validation; each side needs at least one sample (give more data or another split)`,
    );
  }
  const validation: [HostSet, HostSet] = [sliceSet(train, keep, train.count), sliceSet(targets, keep, targets.count)];
  train = sliceSet(train, 0, keep);
  targets = sliceSet(targets, 0, keep);
  return { train, targets, validation };
}

/**
 * `Sequential.fit`. Reads are asynchronous (`await data()`), so it trains on every
 * backend; each batch's targets are counted from the host copy, never read back.
 */
export async function fit(model: Sequential, x: DataLike, y: DataLike, options: FitOptions): Promise<History> {
  const where = 'fit';
  checkFitOptions(where, options);
  const batchSize = options.batchSize ?? 32;
  checkPositiveInt(where, 'batchSize', batchSize);
  const loss = model.resolveLoss(options.loss);
  const { train, targets, validation } = await runAsync(fitSets(model, where, x, y, options, loss));
  const { registry, dtype } = model;
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? model.seed;
  const batches = Math.ceil(train.count / batchSize);
  // This run's own buffers for gathering batches (see gatherBatch).
  const scratch = { x: {}, y: {} };
  function* epochBatches(epoch: number): Generator<TrainingBatch> {
    const order = shuffle ? epochOrder(train.count, seed, epoch) : null;
    for (let b = 0; b < batches; b++) {
      const from = b * batchSize;
      const to = Math.min(train.count, from + batchSize);
      const [xb, yb] = registry.scope(() => [
        gatherBatch(registry, train, order, from, to, dtype, scratch.x),
        gatherBatch(registry, targets, order, from, to, dtype, scratch.y),
      ]);
      yield { x: xb.tensor, y: yb.tensor, targets: yb.values, count: to - from };
    }
  }
  const streamed = options.validationData;
  const validate = validation
    ? () => runAsync(evaluateSets(model, where, validation[0], validation[1], loss, 256))
    : isBatchIterable(streamed)
      ? () => evaluateStream(model, where, streamed, { loss })
      : undefined;
  return trainEpochs(model, where, options, loss, { samples: train.count, batchesPerEpoch: batches, epochBatches }, validate);
}

/** One batch ready for a training step: tensors (disposed by the loop) and the targets' host values. */
export interface TrainingBatch {
  x: Tensor;
  y: Tensor;
  targets: ArrayLike<number>;
  count: number;
}

/** Where `trainEpochs` gets its batches: in-memory sets or a stream of batches. */
export interface EpochSource {
  /** Samples per epoch (0 when not known in advance). */
  samples: number;
  batchesPerEpoch: number;
  epochBatches(epoch: number): Iterable<TrainingBatch> | AsyncIterable<TrainingBatch>;
}

/**
 * The epochs of `fit`, whatever the batches come from: a step per batch, callbacks, the
 * validation after each epoch. Options other than the data's are checked here.
 */
export async function trainEpochs(
  model: Sequential,
  where: string,
  options: FitOptions,
  loss: Loss,
  source: EpochSource,
  validate: (() => Promise<{ loss: number; accuracy: number }>) | undefined,
): Promise<History> {
  const epochs = options.epochs ?? 1;
  const initialEpoch = options.initialEpoch ?? 0;
  const optimizer = model.resolveOptimizer(options.optimizer);
  model.optimizer = optimizer;
  const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
  const history: History = { epochs: [], stoppedEarly: false };
  model.stopTraining = false;
  for (const cb of callbacks) await cb.onTrainBegin?.({ epochs, initialEpoch, samples: source.samples, batchesPerEpoch: source.batchesPerEpoch });
  let lastYield = now();
  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
    const start = now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let b = 0;
    let completed = true;
    for await (const { x: xb, y: yb, targets, count } of source.epochBatches(epoch)) {
      if (model.stopTraining) {
        xb.dispose();
        yb.dispose();
        completed = false;
        break;
      }
      const at = `at epoch ${epoch + 1}, batch ${b + 1}`;
      let stats: BatchStats;
      try {
        stats = await runAsync(trainBatch(model, where, at, xb, yb, targets, loss, optimizer));
      } finally {
        xb.dispose();
        yb.dispose();
      }
      if (!Number.isFinite(stats.loss)) {
        throw new BackpropError(where, `the loss became ${stats.loss} ${at}; lower the learning rate or check the inputs for NaN/Infinity`);
      }
      lossSum += stats.loss * count;
      correct += stats.correct;
      seen += count;
      const elapsed = (now() - start) / 1000;
      const logs: BatchLogs = {
        epoch,
        batch: b,
        loss: stats.loss,
        accuracy: stats.correct / count,
        seen,
        samplesPerSecond: seen / Math.max(elapsed, 1e-9),
      };
      b++;
      for (const cb of callbacks) await cb.onBatchEnd?.(logs);
      // Yield now and then so progress bars redraw, signals arrive and pages stay responsive.
      if (now() - lastYield > 25) {
        await yieldToEventLoop();
        lastYield = now();
      }
    }
    if (seen === 0 && completed) {
      throw new BackpropError(
        where,
        `epoch ${epoch + 1} had no batches; a stream of batches must start a new pass each time it is iterated (an async generator object can be iterated only once: pass an object whose [Symbol.asyncIterator]() starts a new pass)`,
      );
    }
    const durationMs = now() - start;
    const logs: EpochLogs = {
      epoch,
      loss: lossSum / Math.max(seen, 1),
      accuracy: correct / Math.max(seen, 1),
      samplesPerSecond: seen / Math.max(durationMs / 1000, 1e-9),
      durationMs,
    };
    if (validate) {
      const v = await validate();
      logs.valLoss = v.loss;
      logs.valAccuracy = v.accuracy;
    }
    if (completed) history.epochs.push(logs);
    for (const cb of callbacks) await cb.onEpochEnd?.(logs);
  }
  history.stoppedEarly = model.stopTraining;
  for (const cb of callbacks) await cb.onTrainEnd?.(history);
  return history;
}

/** The sample order of one epoch: a function of (seed, epoch) only (tensor's `seededOrder`, which image-folder batches shuffle by too). */
export const epochOrder: (count: number, seed: number, epoch: number) => Int32Array = seededOrder;

export function checkFitOptions(where: string, options: unknown): asserts options is FitOptions {
  if (!isPlainObject(options)) {
    throw new BackpropError(where, `needs options { loss, optimizer?, epochs?, batchSize?, … } as its third argument, got ${describeValue(options)}`);
  }
  const o = options as Partial<FitOptions>;
  if (o.epochs !== undefined) checkPositiveInt(where, 'epochs', o.epochs);
  const initialEpoch = o.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new BackpropError(where, `initialEpoch must be an integer ≥ 0, got ${initialEpoch}`);
  if (o.loss === undefined) {
    throw new BackpropError(where, "options.loss is required: a registered loss name ('categoricalCrossentropy'), { name, config } or a Loss object");
  }
  if (o.shuffle !== undefined) checkBoolean(where, 'shuffle', o.shuffle);
  if (o.seed !== undefined) checkFiniteNumber(where, 'seed', o.seed);
  if (o.validationData !== undefined && !isBatchIterable(o.validationData) && (!Array.isArray(o.validationData) || o.validationData.length !== 2)) {
    throw new BackpropError(where, `validationData must be [x, y], got ${describeValue(o.validationData)}`);
  }
  if (o.validationSplit !== undefined) {
    checkNumberInRange(where, 'validationSplit', o.validationSplit, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  }
  const callbacks = o.callbacks === undefined ? [] : Array.isArray(o.callbacks) ? o.callbacks : [o.callbacks];
  callbacks.forEach((cb, i) => {
    if (typeof cb !== 'object' || cb === null) throw new BackpropError(where, `callbacks[${i}] must be an object of hooks, got ${describeValue(cb)}`);
  });
}

function checkStepArgs(where: string, x: unknown, y: unknown, loss: unknown, optimizer: unknown): asserts loss is Loss {
  if (!(x instanceof Tensor)) throw new BackpropError(where, `x must be a Tensor, got ${describeValue(x)}`);
  if (!(y instanceof Tensor)) throw new BackpropError(where, `y must be a Tensor, got ${describeValue(y)}`);
  if (!isLoss(loss)) throw new BackpropError(where, `loss must be a Loss object (see resolveLoss), got ${describeValue(loss)}`);
  if (!isOptimizer(optimizer)) throw new BackpropError(where, `optimizer must be an Optimizer object (see resolveOptimizer), got ${describeValue(optimizer)}`);
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  // Browsers clamp nested setTimeout to 4 ms; a message round trip is immediate.
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}
