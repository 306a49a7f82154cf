import { BackpropError, checkFloatDtype, type ComponentJSON, createRandom, defaultRegistry, describeValue as describe, type FloatDataType, type Loss, type Optimizer, type Registry, shapeToString, Tensor } from '@backprop/tensor';
import { type BatchIterable, type DataLike, isBatchIterable, isPlainObject } from './data.js';
import { evaluateStream, fitStream, predictStream } from './streaming.js';
import { type EvaluateOptions, type EvaluateResult, evaluation } from './evaluation.js';
import type { Layer, Param } from './layer.js';
import { type PredictOptions, prediction } from './prediction.js';
import { runAsync, runSync } from './readback.js';
import { checkModelJSON, MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelJSON } from './serialization.js';
import { checkInputShape, checkLayerList, createLayers, nameLayers, planLayers } from './topology.js';
import { fit, type FitOptions, type History, trainOnTensors } from './training.js';
import { checkWeights, type NamedArray, paramTensors, readNamed } from './weights.js';

/**
 * The model: the container (layers, shapes, parameters, forward and backward) and its
 * public API. The work lives in modules named for it — training.ts (the training
 * loop), evaluation.ts (scoring outputs), prediction.ts, weights.ts (weight I/O),
 * serialization.ts (the saved formats), topology.ts (checking and planning the layer
 * list), readback.ts (the sync/async read strategies). Each method with an `…Async`
 * twin is one routine run by both read strategies.
 */

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
    this.dtype = checkFloatDtype(where, config.dtype ?? 'float32');
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

  /** Every weight of the model: the trainable parameters and the layers' own state (BatchNormalization's moving statistics). */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  /** The parameters the optimizer updates (those not marked `trainable: false`). */
  trainableParams(): Param[] {
    return this.params().filter((p) => p.trainable !== false);
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
    const inputGradient = options.inputGradient === true;
    // No parameter gets a gradient from the layers before the first trainable one, so
    // backpropagation ends there unless ∂L/∂x is asked for (the augmentation layers
    // in front of a model never run backward: they have no input gradient to give).
    const first = inputGradient ? 0 : Math.max(0, this.layers.findIndex((l) => l.params().some((p) => p.trainable !== false)));
    let g: Tensor | undefined = dy;
    for (let i = this.layers.length - 1; i >= first; i--) {
      g = this.layers[i].backward(g!, { inputGradient: i > first || inputGradient });
    }
    return g;
  }

  /** A Loss object as is, or one built by the registry from its name or `{ name, config }` (`registry.losses.create`). */
  resolveLoss(spec: string | ComponentJSON | Loss): Loss {
    if (spec === undefined) {
      throw new BackpropError('loss', "a loss is required: a registered name ('categoricalCrossentropy'), { name, config } or a Loss object");
    }
    return this.registry.losses.create(spec);
  }

  /** An Optimizer as is, one built from its name or `{ name, config }`, or (none given) the model's current one or SGD. */
  resolveOptimizer(spec: string | ComponentJSON | Optimizer | undefined): Optimizer {
    return this.registry.optimizers.create(spec ?? this.optimizer ?? { name: 'sgd', config: { learningRate: 0.01 } });
  }

  /** Whether the loss can take this model's logits (the fused heads of apps/docs/math/losses.md). */
  fusesWith(loss: Loss): boolean {
    return loss.fusedActivation !== undefined && loss.computeFromLogits !== undefined &&
      this.layers[this.layers.length - 1].outputActivation === loss.fusedActivation;
  }

  /**
   * One gradient-descent step on a batch; every intermediate tensor is disposed
   * before it returns. Returns the batch loss and its number of correct predictions.
   * The loss's target checks (`Loss.checkTargets`) run on `y` before the step.
   * Reads synchronously: on a backend without synchronous readback (gpu.js webgpu)
   * use `trainOnBatchAsync`.
   */
  trainOnBatch(x: Tensor, y: Tensor, loss: Loss, optimizer: Optimizer): { loss: number; correct: number } {
    this.assertUsable('trainOnBatch');
    this.assertSyncReads('trainOnBatch', 'trainOnBatchAsync');
    return runSync(trainOnTensors(this, 'trainOnBatch', x, y, loss, optimizer));
  }

  /** `trainOnBatch` reading with `await data()`: works on every backend. */
  async trainOnBatchAsync(x: Tensor, y: Tensor, loss: Loss, optimizer: Optimizer): Promise<{ loss: number; correct: number }> {
    this.assertUsable('trainOnBatchAsync');
    return runAsync(trainOnTensors(this, 'trainOnBatchAsync', x, y, loss, optimizer));
  }

  /**
   * Trains on (x, y) for `options.epochs` epochs (see training.ts), or on a stream of
   * `{ x, y }` batches (`BatchIterable`, one pass per epoch: see streaming.ts); works on
   * every backend.
   */
  async fit(data: BatchIterable, options: FitOptions): Promise<History>;
  async fit(x: DataLike, y: DataLike, options: FitOptions): Promise<History>;
  async fit(x: DataLike | BatchIterable, y: DataLike | FitOptions, options?: FitOptions): Promise<History> {
    this.assertUsable('fit');
    if (isBatchIterable(x)) return fitStream(this, x, y as FitOptions);
    return fit(this, x, y as DataLike, options as FitOptions);
  }

  /**
   * Mean loss and accuracy over a dataset, in batches. Reads synchronously: on a
   * backend without synchronous readback (gpu.js webgpu) use `evaluateAsync`.
   */
  evaluate(x: DataLike, y: DataLike, options: EvaluateOptions): EvaluateResult {
    this.assertUsable('evaluate');
    if (isBatchIterable(x)) throw new BackpropError('evaluate', 'a stream of batches is read asynchronously: use evaluateAsync(stream, options)');
    this.assertSyncReads('evaluate', 'evaluateAsync');
    return runSync(evaluation(this, 'evaluate', x, y, options));
  }

  /** `evaluate` reading each batch with `await data()`: works on every backend. Also takes a stream of `{ x, y }` batches (one pass). */
  async evaluateAsync(data: BatchIterable, options: EvaluateOptions): Promise<EvaluateResult>;
  async evaluateAsync(x: DataLike, y: DataLike, options: EvaluateOptions): Promise<EvaluateResult>;
  async evaluateAsync(x: DataLike | BatchIterable, y: DataLike | EvaluateOptions, options?: EvaluateOptions): Promise<EvaluateResult> {
    this.assertUsable('evaluateAsync');
    if (isBatchIterable(x)) return evaluateStream(this, 'evaluateAsync', x, y as EvaluateOptions);
    return runAsync(evaluation(this, 'evaluateAsync', x, y as DataLike, options as EvaluateOptions));
  }

  /**
   * Outputs for every sample, computed in batches: shape (N, …outputShape). Reads each
   * batch synchronously: on a backend without synchronous readback use `predictAsync`.
   */
  predict(x: DataLike, options: PredictOptions = {}): Tensor {
    this.assertUsable('predict');
    if (isBatchIterable(x)) throw new BackpropError('predict', 'a stream of batches is read asynchronously: use predictAsync(stream, options)');
    this.assertSyncReads('predict', 'predictAsync');
    return runSync(prediction(this, 'predict', x, options));
  }

  /** `predict` reading each batch with `await data()`: works on every backend. */
  async predictAsync(x: DataLike | BatchIterable, options: PredictOptions = {}): Promise<Tensor> {
    this.assertUsable('predictAsync');
    if (isBatchIterable(x)) return predictStream(this, 'predictAsync', x, options);
    return runAsync(prediction(this, 'predictAsync', x, options));
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
    const layers = createLayers(topology.layers, registry);
    checkLayerList('Sequential', layers);
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
    return runSync(readNamed(paramTensors(this.params())));
  }

  /** `getWeights` reading with `await data()`: works on every backend (e.g. to move a model off WebGPU). */
  async getWeightsAsync(): Promise<NamedArray[]> {
    this.assertUsable('getWeightsAsync');
    return runAsync(readNamed(paramTensors(this.params())));
  }

  /**
   * Replaces every parameter. All names and shapes are checked before anything is
   * replaced, so a mismatched set never leaves the model half-loaded.
   */
  setWeights(weights: readonly NamedArray[]): void {
    const where = 'setWeights';
    this.assertUsable(where);
    const params = this.params();
    const byName = checkWeights(where, weights, params);
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

  private checkBatch(where: string, x: Tensor): void {
    if (!(x instanceof Tensor)) throw new BackpropError(where, `expected a Tensor of shape [batch, ${this.inputShape.join(', ')}], got ${describe(x)}`);
    const expected = this.inputShape;
    if (x.rank !== expected.length + 1 || expected.some((d, i) => x.shape[i + 1] !== d)) {
      throw new BackpropError(where, `expected input of shape [batch, ${expected.join(', ')}] but got ${shapeToString(x.shape)}`);
    }
  }
}

function castTo(x: Tensor, dtype: FloatDataType): Tensor {
  return x.registry.runKernel('cast', { x }, { dtype });
}
