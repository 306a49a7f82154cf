import {
  BackpropError,
  type ComponentJSON,
  createRandom,
  defaultRegistry,
  type FloatDataType,
  maxElements,
  type Loss,
  type Optimizer,
  type Registry,
  shapeToString,
  Tensor,
} from '@backprop/tensor';
import { countCorrect, type DataLike, gatherBatch, type HostSet, toHostSet, toHostSetAsync, toTargets } from './data.js';
import { Layer, type LayerPlan, type Param } from './layer.js';
import { describe, MAX_LAYER_ARG } from './layers/args.js';

export interface SequentialConfig {
  /** Shape of one sample, without the batch dimension: (C, H, W) for images. */
  inputShape: readonly number[];
  layers: Layer[];
  /** Parameter dtype; float64 is for gradient checks and exact tests. */
  dtype?: FloatDataType;
  /** Seed of the weight initialisers (and the default shuffling seed). */
  seed?: number;
  registry?: Registry;
  name?: string;
}

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
  validationData?: [DataLike, DataLike];
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

export interface EvaluateResult {
  loss: number;
  accuracy: number;
}

/** Layers applied in order; trains with any Loss and Optimizer from the registry. */
export class Sequential {
  readonly layers: Layer[];
  readonly inputShape: number[];
  readonly outputShape: number[];
  readonly dtype: FloatDataType;
  readonly seed: number;
  readonly registry: Registry;
  readonly name: string;
  /** The optimizer of the last `fit` (or of a loaded checkpoint); saved with the model. */
  optimizer: Optimizer | undefined;
  /** Set to true (e.g. from a callback) to stop `fit` after the current batch. */
  stopTraining = false;
  private scratchX: { buffer?: Float32Array | Float64Array } = {};
  private scratchY: { buffer?: Float32Array | Float64Array } = {};
  private disposed = false;

  constructor(config: SequentialConfig) {
    const where = 'Sequential';
    if (!isPlainObject(config)) throw new BackpropError(where, `expects a config { inputShape, layers, … }, got ${describe(config)}`);
    const { layers, inputShape } = config;
    checkLayerList(where, layers);
    layers.forEach((layer, i) => {
      // A layer holds its parameters: shared by two models, or twice in one, its parameter list would double.
      if (layers.indexOf(layer) !== i) throw new BackpropError(where, `layers[${i}] is the same object as layers[${layers.indexOf(layer)}]; create a new layer for each position`);
      if (layer.built) throw new BackpropError(where, `layers[${i}] (${layer.className}${layer.name ? ` '${layer.name}'` : ''}) is already built into another model; create a new layer`);
    });
    this.dtype = checkDtype(where, config.dtype ?? 'float32');
    this.inputShape = checkInputShape(where, inputShape, this.dtype);
    if (config.seed !== undefined && (typeof config.seed !== 'number' || !Number.isFinite(config.seed))) {
      throw new BackpropError(where, `seed must be a finite number, got ${describe(config.seed)}`);
    }
    if (config.name !== undefined && typeof config.name !== 'string') throw new BackpropError(where, `name must be a string, got ${describe(config.name)}`);
    if (config.registry !== undefined && (config.registry === null || typeof (config.registry as Partial<Registry>).makeTensor !== 'function')) {
      throw new BackpropError(where, `registry must be a Registry, got ${describe(config.registry)}`);
    }
    this.layers = layers;
    this.seed = config.seed ?? 1;
    this.registry = config.registry ?? defaultRegistry;
    this.name = config.name ?? 'sequential';
    nameLayers(layers);
    // Every shape and size is checked before the first parameter is allocated.
    planLayers(this.inputShape, layers, this.dtype);
    const rng = createRandom(this.seed);
    let shape = this.inputShape;
    try {
      for (const layer of layers) {
        // Each layer draws from its own stream, so adding a layer leaves the others' initial weights unchanged.
        shape = layer.build(shape, { registry: this.registry, dtype: this.dtype, rng: rng.fork() });
        for (const p of layer.params()) p.name = `${layer.name}/${p.name.split('/').pop()}`;
      }
    } catch (error) {
      // The parameters of the layers built so far are kept tensors: a failed model must not leak them.
      for (const layer of layers) layer.dispose();
      throw error;
    }
    this.outputShape = shape;
  }

  /** True after `dispose()`: the model has no weights left to use or save. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
  }

  /** A Keras-like table: layer, output shape (Eq 2.1 / 2.2) and parameter count. */
  summary(): string {
    const rows = [['Layer (type)', 'Output Shape', 'Param #']];
    rows.push(['Input', `(None, ${this.inputShape.join(', ')})`, '0']);
    for (const layer of this.layers) {
      rows.push([`${layer.name} (${layer.className})`, `(None, ${layer.getOutputShape().join(', ')})`, String(layer.countParams())]);
    }
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)) + 2);
    const line = (r: string[]): string => r[0].padEnd(widths[0]) + r[1].padEnd(widths[1]) + r[2].padStart(widths[2]);
    const rule = '─'.repeat(widths[0] + widths[1] + widths[2]);
    const body = rows.slice(1).map(line);
    return [
      `Model: "${this.name}" (${this.dtype})`,
      rule,
      line(rows[0]),
      rule,
      ...body,
      rule,
      `Total params: ${this.countParams().toLocaleString('en-US')}`,
    ].join('\n');
  }

  /** Forward pass of a batch (N, …inputShape). */
  forward(x: Tensor, options: { training?: boolean; logits?: boolean } = {}): Tensor {
    this.assertUsable('forward');
    this.checkBatch('forward', x);
    let out = x.dtype === this.dtype ? x : castTo(x, this.dtype);
    const last = this.layers.length - 1;
    for (let i = 0; i <= last; i++) {
      out = this.layers[i].forward(out, { training: options.training, skipActivation: options.logits === true && i === last });
    }
    return out;
  }

  /**
   * Backward pass from ∂L/∂output (or ∂L/∂logits after `forward(x, {logits: true})`),
   * filling every param's grad. Returns ∂L/∂x when `inputGradient` is true.
   */
  backward(dy: Tensor, options: { inputGradient?: boolean } = {}): Tensor | undefined {
    let g: Tensor | undefined = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      g = this.layers[i].backward(g!, { inputGradient: i > 0 || options.inputGradient === true });
    }
    return g;
  }

  /** A Loss object as is, or one built by the registry from its name or `{ name, config }`. */
  resolveLoss(spec: string | ComponentJSON | Loss): Loss {
    if (spec === undefined) {
      throw new BackpropError('loss', "a loss is required: a registered name ('categoricalCrossentropy'), { name, config } or a Loss object");
    }
    return isInstance(spec, 'compute') ? spec : this.registry.losses.create(spec);
  }

  /** An Optimizer as is, one built from its name or `{ name, config }`, or (none given) the model's current one or SGD. */
  resolveOptimizer(spec: string | ComponentJSON | Optimizer | undefined): Optimizer {
    if (spec === undefined) return this.optimizer ?? this.registry.optimizers.create({ name: 'sgd', config: { learningRate: 0.01 } });
    return isInstance(spec, 'step') ? spec : this.registry.optimizers.create(spec);
  }

  /** Whether the loss can take this model's logits (the fused heads of MATH.md §2.7). */
  fusesWith(loss: Loss): boolean {
    return loss.fusedActivation !== undefined && loss.computeFromLogits !== undefined &&
      this.layers[this.layers.length - 1].outputActivation === loss.fusedActivation;
  }

  /**
   * One gradient-descent step on a batch; every intermediate tensor is disposed
   * before it returns. Returns the batch loss and its number of correct predictions.
   * Reads them synchronously: on a backend without synchronous readback (gpu.js
   * webgpu) use `trainOnBatchAsync`.
   */
  trainOnBatch(x: Tensor, y: Tensor, loss: Loss, optimizer: Optimizer): { loss: number; correct: number } {
    this.assertUsable('trainOnBatch');
    this.assertSyncReads('trainOnBatch', 'trainOnBatchAsync');
    checkStepArgs('trainOnBatch', x, y, loss, optimizer);
    const fused = this.fusesWith(loss);
    const targets = y.dataSync();
    const { value, out } = this.step(x, y, loss, optimizer, fused);
    return this.readStatsSync(value, out, fused, targets);
  }

  /**
   * `trainOnBatch` reading the loss and the outputs with `await data()`: works on every
   * backend. Where the backend cannot read synchronously, the loss's value checks
   * (`Loss.checkValues`) run here on the values read back, after the step.
   */
  async trainOnBatchAsync(x: Tensor, y: Tensor, loss: Loss, optimizer: Optimizer): Promise<{ loss: number; correct: number }> {
    this.assertUsable('trainOnBatchAsync');
    checkStepArgs('trainOnBatchAsync', x, y, loss, optimizer);
    return this.trainBatch(x, y, loss, optimizer);
  }

  /** Forward, loss, backward and the optimizer step in one scope; the loss value and the output (logits when fused) survive it. */
  private step(x: Tensor, y: Tensor, loss: Loss, optimizer: Optimizer, fused: boolean): { value: Tensor; out: Tensor } {
    return this.registry.scope(() => {
      const out = this.forward(x, { training: true, logits: fused });
      const { loss: value, grad } = fused ? loss.computeFromLogits!(out, y) : loss.compute(out, y);
      this.backward(grad);
      optimizer.step(this.params().map((p) => ({ name: p.name, param: p.value, grad: p.grad! })));
      return { value, out };
    });
  }

  /**
   * One step with asynchronous reads. `hostTargets` are `y`'s values when the caller
   * has them on the host (fit does), which saves reading `y` back from the device.
   */
  private async trainBatch(x: Tensor, y: Tensor, loss: Loss, optimizer: Optimizer, hostTargets?: ArrayLike<number>): Promise<{ loss: number; correct: number }> {
    const fused = this.fusesWith(loss);
    const { value, out } = this.step(x, y, loss, optimizer, fused);
    return this.readStats(value, out, loss, fused, hostTargets ?? y.data());
  }

  /**
   * Reads a batch's loss and outputs with `await data()` (then frees them) and counts
   * the correct predictions against `targets` (same shape as the outputs).
   */
  private async readStats(value: Tensor, out: Tensor, loss: Loss, fused: boolean, targets: ArrayLike<number> | Promise<ArrayLike<number>>): Promise<{ loss: number; correct: number }> {
    try {
      const [lossValues, outputs, targetValues] = await Promise.all([value.data(), out.data(), targets]);
      // compute() checked the values where it could read them synchronously; where it could not, here they are.
      if (!out.canReadSync) loss.checkValues?.({ values: outputs, shape: out.shape }, { values: targetValues, shape: out.shape }, fused);
      return this.batchStats(lossValues[0], outputs, out.shape, targetValues, fused);
    } finally {
      value.dispose();
      out.dispose();
    }
  }

  /** readStats for backends that read synchronously (no value checks left to run: compute() did them). */
  private readStatsSync(value: Tensor, out: Tensor, fused: boolean, targets: ArrayLike<number>): { loss: number; correct: number } {
    try {
      return this.batchStats(value.dataSync()[0], out.dataSync(), out.shape, targets, fused);
    } finally {
      value.dispose();
      out.dispose();
    }
  }

  private batchStats(lossValue: number, outputs: ArrayLike<number>, outShape: readonly number[], targets: ArrayLike<number>, fused: boolean): { loss: number; correct: number } {
    const n = outShape[0];
    const k = outputs.length / n;
    return { loss: lossValue, correct: countCorrect(outputs, targets, n, k, fused ? 0 : 0.5) };
  }

  async fit(x: DataLike, y: DataLike, options: FitOptions): Promise<History> {
    const where = 'fit';
    this.assertUsable(where);
    checkFitOptions(where, options);
    const epochs = options.epochs ?? 1;
    const batchSize = options.batchSize ?? 32;
    checkPositiveInt(where, 'epochs', epochs);
    checkPositiveInt(where, 'batchSize', batchSize);
    const initialEpoch = options.initialEpoch ?? 0;
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new BackpropError(where, `initialEpoch must be an integer ≥ 0, got ${initialEpoch}`);
    const loss = this.resolveLoss(options.loss);
    const optimizer = this.resolveOptimizer(options.optimizer);
    this.optimizer = optimizer;
    let train = await this.inputSetAsync(where, 'x', x);
    let targets = toTargets(where, await toHostSetAsync(where, 'y', y), this.outputShape);
    checkCounts(where, 'x', train, 'y', targets);
    let validation: [HostSet, HostSet] | undefined;
    if (options.validationData) {
      const [vx, vy] = options.validationData;
      validation = [await this.inputSetAsync(where, 'validationData x', vx), toTargets(where, await toHostSetAsync(where, 'validationData y', vy), this.outputShape)];
      checkCounts(where, 'validationData x', validation[0], 'validationData y', validation[1]);
    } else if (options.validationSplit !== undefined) {
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
      validation = [sliceSet(train, keep, train.count), sliceSet(targets, keep, targets.count)];
      train = sliceSet(train, 0, keep);
      targets = sliceSet(targets, 0, keep);
    }
    const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
    const shuffle = options.shuffle ?? true;
    const seed = options.seed ?? this.seed;
    const batches = Math.ceil(train.count / batchSize);
    const history: History = { epochs: [], stoppedEarly: false };
    this.stopTraining = false;
    for (const cb of callbacks) await cb.onTrainBegin?.({ epochs, initialEpoch, samples: train.count, batchesPerEpoch: batches });
    let lastYield = now();
    for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      const order = shuffle ? epochOrder(train.count, seed, epoch) : null;
      const start = now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches && !this.stopTraining; b++) {
        const from = b * batchSize;
        const to = Math.min(train.count, from + batchSize);
        // Reads are asynchronous (await data()), so fit trains on every backend; the
        // batch's targets are counted from the host copy, never read back.
        const [xb, yb] = this.registry.scope(() => [
          gatherBatch(this.registry, train, order, from, to, this.dtype, this.scratchX),
          gatherBatch(this.registry, targets, order, from, to, this.dtype, this.scratchY),
        ]);
        let stats: { loss: number; correct: number };
        try {
          stats = await this.trainBatch(xb, yb, loss, optimizer, this.scratchY.buffer!.subarray(0, yb.size));
        } finally {
          xb.dispose();
          yb.dispose();
        }
        if (!Number.isFinite(stats.loss)) {
          throw new BackpropError(
            where,
            `the loss became ${stats.loss} at epoch ${epoch + 1}, batch ${b + 1}; lower the learning rate or check the inputs for NaN/Infinity`,
          );
        }
        lossSum += stats.loss * (to - from);
        correct += stats.correct;
        seen += to - from;
        const elapsed = (now() - start) / 1000;
        const logs: BatchLogs = {
          epoch,
          batch: b,
          loss: stats.loss,
          accuracy: stats.correct / (to - from),
          seen,
          samplesPerSecond: seen / Math.max(elapsed, 1e-9),
        };
        for (const cb of callbacks) await cb.onBatchEnd?.(logs);
        // Yield now and then so progress bars redraw, signals arrive and pages stay responsive.
        if (now() - lastYield > 25) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      const durationMs = now() - start;
      const logs: EpochLogs = {
        epoch,
        loss: lossSum / Math.max(seen, 1),
        accuracy: correct / Math.max(seen, 1),
        samplesPerSecond: seen / Math.max(durationMs / 1000, 1e-9),
        durationMs,
      };
      if (validation) {
        const v = await this.evaluateSetsAsync(validation[0], validation[1], loss, 256);
        logs.valLoss = v.loss;
        logs.valAccuracy = v.accuracy;
      }
      if (seen === train.count) history.epochs.push(logs);
      for (const cb of callbacks) await cb.onEpochEnd?.(logs);
    }
    history.stoppedEarly = this.stopTraining;
    for (const cb of callbacks) await cb.onTrainEnd?.(history);
    return history;
  }

  /**
   * Mean loss and accuracy over a dataset, in batches. Reads synchronously: on a
   * backend without synchronous readback (gpu.js webgpu) use `evaluateAsync`.
   */
  evaluate(x: DataLike, y: DataLike, options: { loss: string | ComponentJSON | Loss; batchSize?: number }): EvaluateResult {
    const where = 'evaluate';
    this.assertUsable(where);
    this.assertSyncReads(where, 'evaluateAsync');
    checkEvaluateOptions(where, options);
    const inputs = this.inputSet(where, 'x', x);
    const targets = toTargets(where, toHostSet(where, 'y', y), this.outputShape);
    checkCounts(where, 'x', inputs, 'y', targets);
    const loss = this.resolveLoss(options.loss);
    const batchSize = options.batchSize ?? 256;
    checkPositiveInt(where, 'batchSize', batchSize);
    const fused = this.fusesWith(loss);
    const totals = { loss: 0, correct: 0 };
    for (let from = 0; from < inputs.count; from += batchSize) {
      const to = Math.min(inputs.count, from + batchSize);
      const { value, out } = this.evaluateBatch(inputs, targets, from, to, loss, fused);
      const stats = this.readStatsSync(value, out, fused, this.scratchY.buffer!.subarray(0, out.size));
      totals.loss += stats.loss * (to - from);
      totals.correct += stats.correct;
    }
    return { loss: totals.loss / Math.max(inputs.count, 1), accuracy: totals.correct / Math.max(inputs.count, 1) };
  }

  /** `evaluate` reading each batch with `await data()`: works on every backend. */
  async evaluateAsync(x: DataLike, y: DataLike, options: { loss: string | ComponentJSON | Loss; batchSize?: number }): Promise<EvaluateResult> {
    const where = 'evaluateAsync';
    this.assertUsable(where);
    checkEvaluateOptions(where, options);
    const inputs = await this.inputSetAsync(where, 'x', x);
    const targets = toTargets(where, await toHostSetAsync(where, 'y', y), this.outputShape);
    checkCounts(where, 'x', inputs, 'y', targets);
    const batchSize = options.batchSize ?? 256;
    checkPositiveInt(where, 'batchSize', batchSize);
    return this.evaluateSetsAsync(inputs, targets, this.resolveLoss(options.loss), batchSize);
  }

  /** Forward and loss of samples [from, to); the loss value and the output (logits when fused) survive the scope. */
  private evaluateBatch(inputs: HostSet, targets: HostSet, from: number, to: number, loss: Loss, fused: boolean): { value: Tensor; out: Tensor } {
    return this.registry.scope(() => {
      const xb = gatherBatch(this.registry, inputs, null, from, to, this.dtype, this.scratchX);
      const yb = gatherBatch(this.registry, targets, null, from, to, this.dtype, this.scratchY);
      const out = this.forward(xb, { logits: fused });
      const value = (fused ? loss.computeFromLogits!(out, yb) : loss.compute(out, yb)).loss;
      return { value, out };
    });
  }

  private async evaluateSetsAsync(inputs: HostSet, targets: HostSet, loss: Loss, batchSize: number): Promise<EvaluateResult> {
    const fused = this.fusesWith(loss);
    let lossSum = 0;
    let correct = 0;
    for (let from = 0; from < inputs.count; from += batchSize) {
      const to = Math.min(inputs.count, from + batchSize);
      const { value, out } = this.evaluateBatch(inputs, targets, from, to, loss, fused);
      const stats = await this.readStats(value, out, loss, fused, this.scratchY.buffer!.subarray(0, out.size));
      lossSum += stats.loss * (to - from);
      correct += stats.correct;
    }
    return { loss: lossSum / Math.max(inputs.count, 1), accuracy: correct / Math.max(inputs.count, 1) };
  }

  /**
   * Outputs for every sample, computed in batches: shape (N, …outputShape). Reads each
   * batch synchronously: on a backend without synchronous readback use `predictAsync`.
   */
  predict(x: DataLike, options: { batchSize?: number } = {}): Tensor {
    this.assertUsable('predict');
    this.assertSyncReads('predict', 'predictAsync');
    checkOptionsObject('predict', options);
    const inputs = this.inputSet('predict', 'x', x);
    const batchSize = options.batchSize ?? 256;
    checkPositiveInt('predict', 'batchSize', batchSize);
    const out = this.predictionBuffer(inputs.count);
    for (let from = 0; from < inputs.count; from += batchSize) {
      const to = Math.min(inputs.count, from + batchSize);
      const y = this.predictBatch(inputs, from, to);
      try {
        out.set(y.dataSync(), from * (out.length / Math.max(inputs.count, 1)));
      } finally {
        y.dispose();
      }
    }
    return this.registry.makeTensor(out, [inputs.count, ...this.outputShape], this.dtype);
  }

  /** `predict` reading each batch with `await data()`: works on every backend. */
  async predictAsync(x: DataLike, options: { batchSize?: number } = {}): Promise<Tensor> {
    this.assertUsable('predictAsync');
    checkOptionsObject('predictAsync', options);
    const inputs = await this.inputSetAsync('predictAsync', 'x', x);
    const batchSize = options.batchSize ?? 256;
    checkPositiveInt('predictAsync', 'batchSize', batchSize);
    const out = this.predictionBuffer(inputs.count);
    for (let from = 0; from < inputs.count; from += batchSize) {
      const to = Math.min(inputs.count, from + batchSize);
      const y = this.predictBatch(inputs, from, to);
      try {
        out.set(await y.data(), from * (out.length / Math.max(inputs.count, 1)));
      } finally {
        y.dispose();
      }
    }
    return this.registry.makeTensor(out, [inputs.count, ...this.outputShape], this.dtype);
  }

  private predictionBuffer(count: number): Float32Array | Float64Array {
    const outSize = this.outputShape.reduce((p, d) => p * d, 1);
    return this.dtype === 'float64' ? new Float64Array(count * outSize) : new Float32Array(count * outSize);
  }

  private predictBatch(inputs: HostSet, from: number, to: number): Tensor {
    return this.registry.scope(() => this.forward(gatherBatch(this.registry, inputs, null, from, to, this.dtype, this.scratchX)));
  }

  /** Topology as JSON, rebuilt by `Sequential.fromJSON` through the registry. */
  toJSON(): ModelJSON {
    return {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      name: this.name,
      inputShape: this.inputShape,
      dtype: this.dtype,
      seed: this.seed,
      layers: this.layers.map((l) => ({ className: l.className, config: l.getConfig() })),
    };
  }

  static fromJSON(json: unknown, options: { registry?: Registry; dtype?: FloatDataType } = {}): Sequential {
    if (!isPlainObject(options)) throw new BackpropError('Sequential.fromJSON', `options must be an object, got ${describe(options)}`);
    const registry = options.registry ?? defaultRegistry;
    const topology = checkModelJSON(json);
    const layers = createLayers(topology, registry);
    return new Sequential({
      inputShape: topology.inputShape,
      layers,
      dtype: options.dtype ?? topology.dtype,
      seed: topology.seed,
      registry,
      name: topology.name,
    });
  }

  /** Current parameter values by name (copies). Reads synchronously: see `getWeightsAsync`. */
  getWeights(): NamedArray[] {
    this.assertUsable('getWeights');
    this.assertSyncReads('getWeights', 'getWeightsAsync');
    return this.params().map((p) => ({ name: p.name, shape: [...p.value.shape], values: p.value.dataSync() as Float32Array | Float64Array }));
  }

  /** `getWeights` reading with `await data()`: works on every backend (e.g. to move a model off WebGPU). */
  async getWeightsAsync(): Promise<NamedArray[]> {
    this.assertUsable('getWeightsAsync');
    const params = this.params();
    const values = await Promise.all(params.map((p) => p.value.data()));
    return params.map((p, i) => ({ name: p.name, shape: [...p.value.shape], values: values[i] as Float32Array | Float64Array }));
  }

  /**
   * Replaces every parameter. All names and shapes are checked before anything is
   * replaced, so a mismatched set never leaves the model half-loaded.
   */
  setWeights(weights: readonly NamedArray[]): void {
    const where = 'setWeights';
    this.assertUsable(where);
    if (!Array.isArray(weights as unknown)) throw new BackpropError(where, `expects an array of { name, shape, values }, got ${describe(weights)}`);
    weights.forEach((w: unknown, i) => {
      const n = w as Partial<NamedArray> | null;
      if (!isPlainObject(n) || typeof n.name !== 'string' || !Array.isArray(n.shape) || !isNumberArray(n.values)) {
        throw new BackpropError(where, `weights[${i}] must be { name: string, shape: number[], values: Float32Array | Float64Array }, got ${describe(w)}`);
      }
    });
    const byName = new Map(weights.map((w) => [w.name, w]));
    if (byName.size !== weights.length) throw new BackpropError(where, `two weights are named '${weights.find((w, i) => weights.findIndex((o) => o.name === w.name) !== i)!.name}'`);
    const params = this.params();
    for (const p of params) {
      const w = byName.get(p.name);
      if (!w) throw new BackpropError(where, `missing weights for '${p.name}' (have: ${[...byName.keys()].join(', ') || 'none'})`);
      if (w.shape.length !== p.value.rank || w.shape.some((d, i) => d !== p.value.shape[i])) {
        throw new BackpropError(where, `'${p.name}' has shape ${shapeToString(w.shape)} but the model expects ${shapeToString(p.value.shape)}`);
      }
      if (w.values.length !== p.value.size) throw new BackpropError(where, `'${p.name}' has ${w.values.length} values, expected ${p.value.size}`);
      // A NaN or infinite weight would only surface later as NaN outputs and losses.
      const bad = firstNonFinite(w.values);
      if (bad >= 0) throw new BackpropError(where, `'${p.name}' value ${bad} is ${w.values[bad]}; weights must be finite`);
    }
    if (byName.size !== params.length) {
      const known = new Set(params.map((p) => p.name));
      const extra = [...byName.keys()].filter((n) => !known.has(n));
      throw new BackpropError(where, `weights for unknown parameters: ${extra.join(', ')}`);
    }
    for (const p of params) {
      const old = p.value;
      p.value = this.registry.keep(this.registry.makeTensor(byName.get(p.name)!.values, old.shape, this.dtype));
      old.dispose();
    }
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
    this.optimizer?.dispose();
    this.optimizer = undefined;
    this.disposed = true;
  }

  /** Every use of a disposed model is an error naming the call (its weights are gone: saving it would write an empty model). */
  assertUsable(where: string): void {
    if (this.disposed) throw new BackpropError(where, `model '${this.name}' was disposed; its weights are gone`);
  }

  /** The synchronous methods name their asynchronous twin on a backend without synchronous readback. */
  private assertSyncReads(where: string, alternative: string): void {
    const param = this.params()[0]?.value;
    if (param ? !param.canReadSync : this.registry.backend.canReadSync === false) {
      throw new BackpropError(
        where,
        `backend '${param?.backendName ?? this.registry.backendName}' cannot read synchronously (its device is read asynchronously, as WebGPU is); use \`await model.${alternative}(…)\``,
      );
    }
  }

  private inputSet(where: string, name: string, data: DataLike): HostSet {
    return this.checkInputSet(where, name, toHostSet(where, name, data));
  }

  private async inputSetAsync(where: string, name: string, data: DataLike): Promise<HostSet> {
    return this.checkInputSet(where, name, await toHostSetAsync(where, name, data));
  }

  private checkInputSet(where: string, name: string, set: HostSet): HostSet {
    const expected = this.inputShape;
    if (set.sampleShape.length !== expected.length || set.sampleShape.some((d, i) => d !== expected[i])) {
      throw new BackpropError(
        where,
        `${name} has samples of shape ${shapeToString(set.sampleShape)} but the model expects ${shapeToString(expected)} (input shape [batch, ${expected.join(', ')}])`,
      );
    }
    return set;
  }

  private checkBatch(where: string, x: Tensor): void {
    if (!(x instanceof Tensor)) throw new BackpropError(where, `expected a Tensor of shape [batch, ${this.inputShape.join(', ')}], got ${describe(x)}`);
    const expected = this.inputShape;
    if (x.rank !== expected.length + 1 || expected.some((d, i) => x.shape[i + 1] !== d)) {
      throw new BackpropError(where, `expected input of shape [batch, ${expected.join(', ')}] but got ${shapeToString(x.shape)}`);
    }
  }
}

export interface NamedArray {
  name: string;
  shape: readonly number[];
  values: Float32Array | Float64Array;
}

export const MODEL_FORMAT = 'backprop.sequential';
export const MODEL_FORMAT_VERSION = 1;

export interface ModelJSON {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  name: string;
  inputShape: number[];
  dtype: FloatDataType;
  seed: number;
  layers: { className: string; config: Record<string, unknown> }[];
}

export function checkModelJSON(json: unknown): ModelJSON {
  const where = 'model JSON';
  if (!json || typeof json !== 'object') throw new BackpropError(where, 'expected an object');
  const j = json as Partial<ModelJSON>;
  if (j.format !== MODEL_FORMAT) throw new BackpropError(where, `format must be '${MODEL_FORMAT}', got ${JSON.stringify(j.format)}`);
  if (j.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new BackpropError(where, `unsupported format version ${JSON.stringify(j.formatVersion)}; this library reads version ${MODEL_FORMAT_VERSION}`);
  }
  if (!Array.isArray(j.inputShape)) throw new BackpropError(where, `inputShape must be an array of positive integers, got ${describe(j.inputShape)}`);
  if (!Array.isArray(j.layers) || j.layers.length === 0) throw new BackpropError(where, `layers must be a non-empty array of { className, config }, got ${describe(j.layers)}`);
  j.layers.forEach((l: unknown, i: number) => {
    const layer = l as { className?: unknown; config?: unknown } | null;
    if (!isPlainObject(layer) || typeof layer.className !== 'string' || !isPlainObject(layer.config)) {
      throw new BackpropError(where, `layers[${i}] must be { className: string, config: object }, got ${describe(l)}`);
    }
  });
  if (j.dtype !== 'float32' && j.dtype !== 'float64') throw new BackpropError(where, `dtype must be float32 or float64, got ${JSON.stringify(j.dtype)}`);
  if (j.name !== undefined && typeof j.name !== 'string') throw new BackpropError(where, `name must be a string, got ${describe(j.name)}`);
  if (j.seed !== undefined && (typeof j.seed !== 'number' || !Number.isFinite(j.seed))) throw new BackpropError(where, `seed must be a finite number, got ${describe(j.seed)}`);
  return { ...j, name: j.name ?? 'sequential', seed: j.seed ?? 1 } as ModelJSON;
}

/**
 * The parameters (full names and shapes, in model order) that `Sequential.fromJSON(json)`
 * would create, computed without allocating anything; undefined when a layer does not
 * declare its parameters (`Layer.paramShapes`). Throws what `fromJSON` would throw for
 * an invalid topology. Loaders use it to check saved weights against the model before
 * building it.
 */
export function planParams(json: unknown, options: { registry?: Registry; dtype?: FloatDataType } = {}): { name: string; shape: number[] }[] | undefined {
  const topology = checkModelJSON(json);
  const dtype = checkDtype('Sequential', options.dtype ?? topology.dtype);
  const layers = createLayers(topology, options.registry ?? defaultRegistry);
  checkLayerList('Sequential', layers);
  const inputShape = checkInputShape('Sequential', topology.inputShape, dtype);
  nameLayers(layers);
  const plans = planLayers(inputShape, layers, dtype);
  if (plans.some((p) => p.params === undefined)) return undefined;
  return plans.flatMap((p, i) => Object.entries(p.params!).map(([short, shape]) => ({ name: `${layers[i].name}/${short}`, shape })));
}

function createLayers(topology: ModelJSON, registry: Registry): Layer[] {
  return topology.layers.map((spec, index) => {
    try {
      return registry.layers.get(spec.className)(spec.config) as Layer;
    } catch (error) {
      throw new BackpropError(`model JSON layer ${index}`, (error as Error).message);
    }
  });
}

function checkLayerList(where: string, layers: unknown): asserts layers is Layer[] {
  if (!Array.isArray(layers) || layers.length === 0) throw new BackpropError(where, 'needs at least one layer');
  layers.forEach((layer, i) => {
    if (!isLayer(layer)) {
      throw new BackpropError(
        where,
        `layers[${i}] is not a Layer, got ${describe(layer)}; pass layer objects such as new Dense({ units: 10 }), or build from { className, config } specs with Sequential.fromJSON`,
      );
    }
  });
}

/** A Layer, also one from another copy of this package (instanceof would miss it). */
function isLayer(value: unknown): value is Layer {
  if (value instanceof Layer) return true;
  const l = value as Record<string, unknown> | null;
  return (
    typeof l === 'object' && l !== null && typeof l.className === 'string' &&
    ['computeOutputShape', 'build', 'forward', 'backward', 'params', 'countParams', 'getConfig', 'getOutputShape', 'dispose'].every((m) => typeof l[m] === 'function')
  );
}

function checkDtype(where: string, dtype: unknown): FloatDataType {
  if (dtype !== 'float32' && dtype !== 'float64') throw new BackpropError(where, `dtype must be 'float32' or 'float64', got ${describe(dtype)}`);
  return dtype;
}

function checkInputShape(where: string, inputShape: unknown, dtype: FloatDataType): number[] {
  if (!Array.isArray(inputShape) || inputShape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_LAYER_ARG)) {
    throw new BackpropError(where, `inputShape must be positive integers (one sample, no batch), got ${describe(inputShape)}`);
  }
  const size = inputShape.reduce((p: number, d: number) => p * d, 1);
  if (size > maxElements(dtype)) {
    throw new BackpropError(
      where,
      `inputShape ${shapeToString(inputShape)} has ${size.toLocaleString('en-US')} values per sample, more than the ${maxElements(dtype).toLocaleString('en-US')} ${dtype} values one tensor may hold`,
    );
  }
  return [...inputShape];
}

/** Labels every layer for error messages and names the unnamed ones '<class>_<index>'. */
function nameLayers(layers: Layer[]): void {
  const used = new Set<string>();
  layers.forEach((layer, index) => {
    layer.label = `layer ${index} (${layer.className})`;
    if (!layer.name) layer.name = `${snake(layer.className)}_${index}`;
    if (used.has(layer.name)) throw new BackpropError(layer.label, `duplicate layer name '${layer.name}'`);
    used.add(layer.name);
  });
}

/** Every layer's output and parameter shapes, checked, in order; allocates nothing. */
function planLayers(inputShape: readonly number[], layers: Layer[], dtype: FloatDataType): LayerPlan[] {
  const plans: LayerPlan[] = [];
  let shape: readonly number[] = inputShape;
  for (const layer of layers) {
    // A layer from an older copy of this package has no plan(): its build checks what it can.
    const plan = typeof layer.plan === 'function' ? layer.plan(shape, dtype) : { outputShape: layer.computeOutputShape(shape), params: undefined };
    plans.push(plan);
    shape = plan.outputShape;
  }
  return plans;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInstance<T extends object>(spec: string | ComponentJSON | T, method: keyof T): spec is T {
  return typeof spec === 'object' && spec !== null && typeof (spec as T)[method] === 'function';
}

function snake(className: string): string {
  return className.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

function castTo(x: Tensor, dtype: FloatDataType): Tensor {
  return x.registry.runKernel('cast', { x }, { dtype });
}

function checkOptionsObject(where: string, options: unknown): void {
  if (!isPlainObject(options)) throw new BackpropError(where, `options must be an object, got ${describe(options)}`);
}

function checkFitOptions(where: string, options: unknown): asserts options is FitOptions {
  if (!isPlainObject(options)) {
    throw new BackpropError(where, `needs options { loss, optimizer?, epochs?, batchSize?, … } as its third argument, got ${describe(options)}`);
  }
  const o = options as Partial<FitOptions>;
  if (o.loss === undefined) {
    throw new BackpropError(where, "options.loss is required: a registered loss name ('categoricalCrossentropy'), { name, config } or a Loss object");
  }
  if (o.shuffle !== undefined && typeof o.shuffle !== 'boolean') throw new BackpropError(where, `shuffle must be true or false, got ${describe(o.shuffle)}`);
  if (o.seed !== undefined && (typeof o.seed !== 'number' || !Number.isFinite(o.seed))) throw new BackpropError(where, `seed must be a finite number, got ${describe(o.seed)}`);
  if (o.validationData !== undefined && (!Array.isArray(o.validationData) || o.validationData.length !== 2)) {
    throw new BackpropError(where, `validationData must be [x, y], got ${describe(o.validationData)}`);
  }
  if (o.validationSplit !== undefined && !(typeof o.validationSplit === 'number' && o.validationSplit > 0 && o.validationSplit < 1)) {
    throw new BackpropError(where, `validationSplit must be a number in (0, 1), got ${describe(o.validationSplit)}`);
  }
  const callbacks = o.callbacks === undefined ? [] : Array.isArray(o.callbacks) ? o.callbacks : [o.callbacks];
  callbacks.forEach((cb, i) => {
    if (typeof cb !== 'object' || cb === null) throw new BackpropError(where, `callbacks[${i}] must be an object of hooks, got ${describe(cb)}`);
  });
}

function checkEvaluateOptions(where: string, options: unknown): void {
  if (!isPlainObject(options) || (options as { loss?: unknown }).loss === undefined) {
    throw new BackpropError(where, `needs options { loss, batchSize? } as its third argument, got ${describe(options)}`);
  }
}

/** x and y have the same number of samples, and at least one: a mean over nothing would report a loss of 0. */
function checkCounts(where: string, xName: string, x: HostSet, yName: string, y: HostSet): void {
  if (y.count !== x.count) throw new BackpropError(where, `${xName} has ${x.count} samples but ${yName} has ${y.count}`);
  if (x.count === 0) throw new BackpropError(where, `${xName} has no samples (shape [0, …]); give at least one`);
}

function checkStepArgs(where: string, x: unknown, y: unknown, loss: unknown, optimizer: unknown): void {
  if (!(x instanceof Tensor)) throw new BackpropError(where, `x must be a Tensor, got ${describe(x)}`);
  if (!(y instanceof Tensor)) throw new BackpropError(where, `y must be a Tensor, got ${describe(y)}`);
  if (!isInstance(loss as Loss, 'compute')) throw new BackpropError(where, `loss must be a Loss object (see resolveLoss), got ${describe(loss)}`);
  if (!isInstance(optimizer as Optimizer, 'step')) throw new BackpropError(where, `optimizer must be an Optimizer object (see resolveOptimizer), got ${describe(optimizer)}`);
}

function isNumberArray(values: unknown): values is ArrayLike<number> {
  return values instanceof Float32Array || values instanceof Float64Array || (Array.isArray(values) && values.every((v) => typeof v === 'number'));
}

/** Index of the first NaN or ±Infinity, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    // v - v is 0 for every finite number and NaN for NaN and ±Infinity: one test, no call.
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

function checkPositiveInt(where: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new BackpropError(where, `${name} must be a positive integer, got ${JSON.stringify(v)}`);
}

function sliceSet(set: HostSet, from: number, to: number): HostSet {
  return { ...set, values: set.values.subarray(from * set.sampleSize, to * set.sampleSize), count: to - from };
}

/** The sample order of one epoch: a function of (seed, epoch) only. */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  createRandom(Math.imul(seed | 0, 0x9e3779b1) ^ (epoch + 1)).shuffle(order);
  return order;
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
