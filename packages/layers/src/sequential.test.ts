import { cpuBackend } from '@backprop/backend-cpu';
import { loadMnist } from '@backprop/datasets';
import { lossesPlugin, toOneHot } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { BackpropError, createRandom, Registry, sizeOfShape, tensor } from '@backprop/tensor';
import { asyncReadsOnly, expectArraysClose } from '@backprop/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2D, Dense, Flatten, gradCheck, layersPlugin, MaxPool2D, paperNetwork, Sequential, toArtifacts, toArtifactsAsync } from './index.js';

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

function randomImages(count: number, seed: number, shape = [1, 28, 28]): { values: Float64Array; shape: number[] } {
  const rng = createRandom(seed);
  const size = count * sizeOfShape(shape);
  return { values: Float64Array.from({ length: size }, () => rng.next()), shape: [count, ...shape] };
}

describe('Sequential: building', () => {
  it('computes output shapes with Eq 2.1 / 2.2 and counts parameters like Keras', () => {
    const { model } = paperNetwork({ registry, seed: 1 });
    expect(model.layers.map((l) => l.getOutputShape())).toEqual([[8, 24, 24], [8, 12, 12], [1152], [128], [10]]);
    // 8·25+8, 0, 0, 1152·128+128, 128·10+10
    expect(model.layers.map((l) => l.countParams())).toEqual([208, 0, 0, 147584, 1290]);
    const summary = model.summary();
    expect(summary).toContain('conv2d_0 (Conv2D)');
    expect(summary).toContain('(None, 8, 24, 24)');
    expect(summary).toContain('(None, 1152)');
    expect(summary).toContain('Total params: 149,082');
    model.dispose();
  });

  it('rejects impossible models at build time with the layer index, type and shapes', () => {
    expect(() => new Sequential({ registry, inputShape: [1, 5, 5], layers: [new Conv2D({ filters: 2, kernelSize: 7 })] })).toThrow(
      'layer 0 (Conv2D): 7×7 kernel does not fit the 5×5 input with padding 0',
    );
    expect(
      () =>
        new Sequential({
          registry,
          inputShape: [1, 28, 28],
          layers: [new Conv2D({ filters: 8, kernelSize: 5 }), new MaxPool2D({ poolSize: 2 }), new Dense({ units: 10 })],
        }),
    ).toThrow('layer 2 (Dense): expects a flat (features) input but got [8, 12, 12]; add a Flatten layer before it');
    expect(() => new Sequential({ registry, inputShape: [1, 3, 3], layers: [new MaxPool2D({ poolSize: 4 })] })).toThrow(
      'layer 0 (MaxPool2D): 4×4 pool window does not fit the 3×3 input',
    );
    expect(() => new Sequential({ registry, inputShape: [0, 3], layers: [new Flatten()] })).toThrow(/inputShape must be positive integers/);
  });

  it('several conv/pool stages in a row (the paper’s q convolution layers)', () => {
    const model = new Sequential({
      registry,
      inputShape: [1, 28, 28],
      layers: [
        new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        new MaxPool2D({ poolSize: 2 }),
        new Conv2D({ filters: 6, kernelSize: 3, strides: 2, activation: 'relu' }),
        new MaxPool2D({ poolSize: 3, strides: 2 }),
        new Conv2D({ filters: 5, kernelSize: 1 }),
        new Flatten(),
        new Dense({ units: 10, activation: 'softmax' }),
      ],
    });
    expect(model.layers.map((l) => l.getOutputShape())).toEqual([[4, 28, 28], [4, 14, 14], [6, 6, 6], [6, 2, 2], [5, 2, 2], [20], [10]]);
    const out = model.predict(randomImages(3, 1));
    expect(out.shape).toEqual([3, 10]);
    const rows = out.dataSync();
    for (let n = 0; n < 3; n++) expect(Array.from(rows.subarray(n * 10, n * 10 + 10)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    out.dispose();
    model.dispose();
  });
});

describe('Sequential: training', () => {
  it('worked example W9 (apps/docs/math/gradient-descent.md) — one gradient-descent step of the lecture notes’ Example 1', async () => {
    const model = new Sequential({ registry, dtype: 'float64', inputShape: [2], layers: [new Dense({ units: 1, activation: 'relu' })] });
    model.setWeights([
      { name: 'dense_0/kernel', shape: [1, 2], values: Float64Array.from([0.5, -0.25]) },
      { name: 'dense_0/bias', shape: [1], values: Float64Array.from([0.1]) },
    ]);
    const x = { values: [1, 2], shape: [1, 2] };
    const y = { values: [1], shape: [1, 1] };
    expect(model.evaluate(x, y, { loss: 'halfSumSquares' }).loss).toBeCloseTo(0.405, 12);
    await model.fit(x, y, { loss: 'halfSumSquares', optimizer: { name: 'sgd', config: { learningRate: 0.1 } }, shuffle: false });
    const [kernel, bias] = model.getWeights();
    expectArraysClose(kernel.values, [0.59, -0.07], { atol: 1e-12, rtol: 0 });
    expectArraysClose(bias.values, [0.19], { atol: 1e-12, rtol: 0 });
    expect(model.evaluate(x, y, { loss: 'halfSumSquares' }).loss).toBeCloseTo(0.0648, 12);
    model.dispose();
  });

  it('W9 sigmoid + BCE variant: gradients through the fused head', () => {
    const model = new Sequential({ registry, dtype: 'float64', inputShape: [2], layers: [new Dense({ units: 1, activation: 'sigmoid' })] });
    model.setWeights([
      { name: 'dense_0/kernel', shape: [1, 2], values: Float64Array.from([0.5, -0.25]) },
      { name: 'dense_0/bias', shape: [1], values: Float64Array.from([0.1]) },
    ]);
    const loss = model.resolveLoss('binaryCrossentropy');
    expect(model.fusesWith(loss)).toBe(true);
    const grads = registry.scope(() => {
      const x = registry.makeTensor([1, 2], [1, 2], 'float64');
      const y = registry.makeTensor([1], [1, 1], 'float64');
      expect(model.forward(x).dataSync()[0]).toBeCloseTo(0.524979, 6);
      const logits = model.forward(x, { training: true, logits: true });
      const { loss: value, grad } = loss.computeFromLogits!(logits, y);
      expect(value.dataSync()[0]).toBeCloseTo(0.644397, 6);
      model.backward(grad);
      return model.params().map((p) => Array.from(p.grad!.dataSync()));
    });
    expectArraysClose(grads[0], [-0.475021, -0.950042], { atol: 1e-6, rtol: 0 });
    expectArraysClose(grads[1], [-0.475021], { atol: 1e-6, rtol: 0 });
    model.dispose();
  });

  it('a training step leaves memory at its baseline', () => {
    const { model, loss } = paperNetwork({ registry, seed: 2 });
    const opt = model.resolveOptimizer({ name: 'adam', config: { learningRate: 0.001 } });
    const lossFn = model.resolveLoss(loss);
    const data = randomImages(8, 3);
    const step = (): void => {
      registry.scope(() => {
        const x = registry.makeTensor(data.values, data.shape, 'float32');
        const y = registry.makeTensor(Float32Array.from({ length: 80 }, (_, i) => (i % 11 === 0 ? 1 : 0)), [8, 10], 'float32');
        model.trainOnBatch(x, y, lossFn, opt);
      });
    };
    step(); // creates Adam's slots
    const baseline = registry.memory();
    for (let i = 0; i < 5; i++) {
      step();
      const now = registry.memory();
      expect(now.numTensors).toBe(baseline.numTensors);
      expect(now.numDataBuffers).toBe(baseline.numDataBuffers);
      expect(now.numBytes).toBe(baseline.numBytes);
    }
    opt.dispose();
    model.dispose();
  });

  it('seeded runs are reproducible bit for bit; different seeds differ', async () => {
    const data = randomImages(40, 5);
    const labels = { values: Array.from({ length: 40 }, (_, i) => i % 10), shape: [40] };
    const run = async (seed: number): Promise<Float32Array[]> => {
      const { model, loss, optimizer } = paperNetwork({ registry, seed });
      await model.fit(data, labels, { loss, optimizer, epochs: 2, batchSize: 8, seed });
      const weights = model.getWeights().map((w) => w.values as Float32Array);
      model.dispose();
      return weights;
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    a.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(b[i].buffer))).toBe(true));
    expect(Buffer.from(a[0].buffer).equals(Buffer.from(c[0].buffer))).toBe(false);
  });

  it('callbacks see every batch and epoch, and can stop training early', async () => {
    const { model, loss, optimizer } = paperNetwork({ registry, seed: 3 });
    const data = randomImages(20, 6);
    const labels = { values: Array.from({ length: 20 }, (_, i) => i % 10), shape: [20] };
    const batches: number[] = [];
    const epochs: number[] = [];
    const history = await model.fit(data, labels, {
      loss,
      optimizer,
      epochs: 5,
      batchSize: 8,
      validationSplit: 0.2,
      callbacks: {
        onBatchEnd: (logs) => {
          batches.push(logs.batch);
          expect(logs.samplesPerSecond).toBeGreaterThan(0);
        },
        onEpochEnd: (logs) => {
          epochs.push(logs.epoch);
          expect(logs.valAccuracy).toBeGreaterThanOrEqual(0);
          if (logs.epoch === 1) model.stopTraining = true;
        },
      },
    });
    expect(epochs).toEqual([0, 1]);
    expect(batches).toEqual([0, 1, 0, 1]); // 16 training samples after the 20% split, batch 8
    expect(history.stoppedEarly).toBe(true);
    expect(history.epochs).toHaveLength(2);
    model.dispose();
  });

  it('rejects bad data with clear errors', async () => {
    const { model, loss } = paperNetwork({ registry, seed: 4 });
    await expect(model.fit(randomImages(4, 1, [1, 14, 14]), { values: [1, 2, 3, 4], shape: [4] }, { loss })).rejects.toThrow(
      'fit: x has samples of shape [1, 14, 14] but the model expects [1, 28, 28] (input shape [batch, 1, 28, 28])',
    );
    await expect(model.fit(randomImages(2, 1), { values: [1, 12], shape: [2] }, { loss })).rejects.toThrow(
      'fit: label 1 is 12, outside the 10 classes [0, 10)',
    );
    await expect(model.fit(randomImages(2, 1), { values: [1, 2, 3], shape: [3] }, { loss })).rejects.toThrow('fit: x has 2 samples but y has 3');
    await expect(model.fit(randomImages(2, 1), { values: [1, 2], shape: [2] }, { loss: 'nope' })).rejects.toThrow(/unknown loss 'nope'; registered: .*binaryCrossentropy/);
    const nan = randomImages(2, 1);
    nan.values[5] = Number.NaN;
    await expect(model.fit(nan, { values: [1, 2], shape: [2] }, { loss, batchSize: 2 })).rejects.toThrow(/NaN/);
    model.dispose();
  });
});

describe('Sequential: evaluation', () => {
  it('accuracy thresholds a single logit at 0 when the loss takes logits (sigmoidCrossEntropyFromLogits on a linear output)', async () => {
    const model = new Sequential({ registry, dtype: 'float64', inputShape: [1], layers: [new Dense({ units: 1 })] });
    model.setWeights([
      { name: 'dense_0/kernel', shape: [1, 1], values: Float64Array.from([1]) },
      { name: 'dense_0/bias', shape: [1], values: Float64Array.from([0]) },
    ]);
    const loss = 'sigmoidCrossEntropyFromLogits';
    expect(model.fusesWith(model.resolveLoss(loss))).toBe(false);
    // Logits 0.3 and -0.2: σ = 0.574 and 0.450, classes 1 and 0, both right.
    const x = { values: [0.3, -0.2], shape: [2, 1] };
    const y = { values: [1, 0], shape: [2, 1] };
    expect(model.evaluate(x, y, { loss }).accuracy).toBe(1);
    expect((await model.evaluateAsync(x, y, { loss })).accuracy).toBe(1);
    const batch = model.trainOnBatch(
      registry.makeTensor([0.3], [1, 1], 'float64'),
      registry.makeTensor([1], [1, 1], 'float64'),
      model.resolveLoss(loss),
      model.resolveOptimizer({ name: 'sgd', config: { learningRate: 0 } }),
    );
    expect(batch.correct).toBe(1);
    model.dispose();
  });

  it('a non-finite loss is explained by the loss\'s value checks, run on the values already read (binaryCrossentropy on a linear output)', async () => {
    const model = new Sequential({ registry, dtype: 'float64', inputShape: [1], layers: [new Dense({ units: 1 })] });
    model.setWeights([
      { name: 'dense_0/kernel', shape: [1, 1], values: Float64Array.from([1]) },
      { name: 'dense_0/bias', shape: [1], values: Float64Array.from([0]) },
    ]);
    // Output -0.5 is not a probability: log(-0.5) is NaN.
    const x = { values: [-0.5], shape: [1, 1] };
    const y = { values: [1], shape: [1, 1] };
    const cause = /binaryCrossentropy: predictions must lie in \[0, 1\] but contain -0\.5 at index 0 .*apply a sigmoid first/;
    expect(() => model.evaluate(x, y, { loss: 'binaryCrossentropy' })).toThrow(/^evaluate: the loss is NaN on samples \[0, 1\): /);
    expect(() => model.evaluate(x, y, { loss: 'binaryCrossentropy' })).toThrow(cause);
    // A loss that is finite is reported as measured, without a check.
    expect(model.evaluate({ values: [0.5], shape: [1, 1] }, y, { loss: 'binaryCrossentropy' }).loss).toBeCloseTo(Math.log(2), 12);
    // fit finds it after the batch's step (predictions are not checked before it).
    await expect(model.fit(x, y, { loss: 'binaryCrossentropy' })).rejects.toThrow(/^fit: the loss is NaN at epoch 1, batch 1: binaryCrossentropy: predictions must lie in \[0, 1\]/);
    model.dispose();
  });

  it('two concurrent evaluateAsync calls on one model with different data each get their own result', async () => {
    const model = new Sequential({ registry, inputShape: [4], seed: 3, layers: [new Dense({ units: 3, activation: 'softmax' })] });
    const x = { values: Float64Array.from({ length: 4 * 40 }, (_, i) => Math.sin(i)), shape: [40, 4] };
    const outputs = model.predict(x);
    const probabilities = outputs.dataSync();
    outputs.dispose();
    const predicted = Array.from({ length: 40 }, (_, n) => {
      const row = Array.from(probabilities.subarray(n * 3, n * 3 + 3));
      return row.indexOf(Math.max(...row));
    });
    // The same inputs, labels that are all right and all wrong: accuracy 1 and 0.
    const right = { values: predicted, shape: [40] };
    const wrong = { values: predicted.map((c) => (c + 1) % 3), shape: [40] };
    const options = { loss: 'categoricalCrossentropy', batchSize: 8 };
    const alone = [model.evaluate(x, right, options), model.evaluate(x, wrong, options)];
    expect(alone.map((r) => r.accuracy)).toEqual([1, 0]);
    const together = await Promise.all([model.evaluateAsync(x, right, options), model.evaluateAsync(x, wrong, options)]);
    expect(together).toEqual(alone);
    model.dispose();
  });

  it('returnOutputs: evaluate also gives what predict gives, from the same pass (fused head, plain loss, float32 and float64)', async () => {
    const cases = [
      { dtype: 'float32', activation: 'softmax', loss: 'categoricalCrossentropy' },
      { dtype: 'float64', activation: 'sigmoid', loss: 'binaryCrossentropy' },
      { dtype: 'float32', activation: 'tanh', loss: 'mse' },
    ] as const;
    for (const c of cases) {
      const model = new Sequential({ registry, dtype: c.dtype, inputShape: [1, 6, 6], seed: 5, layers: [
        new Conv2D({ filters: 2, kernelSize: 3, activation: 'relu' }),
        new Flatten(),
        new Dense({ units: 3, activation: c.activation }),
      ] });
      const x = randomImages(21, 9, [1, 6, 6]);
      const y = { values: Array.from({ length: 21 }, (_, n) => n % 3), shape: [21] };
      const predicted = model.predict(x);
      const expected = Array.from(predicted.dataSync());
      predicted.dispose();
      const options = { loss: c.loss, batchSize: 8 };
      const plain = model.evaluate(x, y, options);
      expect(plain.outputs).toBeUndefined();
      for (const result of [model.evaluate(x, y, { ...options, returnOutputs: true }), await model.evaluateAsync(x, y, { ...options, returnOutputs: true })]) {
        expect(result.loss, c.loss).toBe(plain.loss);
        expect(result.accuracy).toBe(plain.accuracy);
        expect(result.outputs).toBeInstanceOf(c.dtype === 'float64' ? Float64Array : Float32Array);
        expect(Array.from(result.outputs!), c.loss).toEqual(expected);
      }
      expect(() => model.evaluate(x, y, { ...options, returnOutputs: 'yes' as unknown as boolean })).toThrow(BackpropError);
      model.dispose();
    }
  });
});

/**
 * MNIST's background pixels are exactly 0, so with zero biases every background
 * conv output sits exactly on the ReLU kink and ±h crosses it. The gradient check (apps/docs/math/backprop.md)
 * avoids kinks: move the biases off zero first.
 */
function offsetBiases(model: Sequential, seed: number): void {
  const rng = createRandom(seed);
  model.setWeights(
    model.getWeights().map((w) => (w.name.endsWith('/bias') ? { ...w, values: w.values.map(() => rng.uniform(0.05, 0.15)) } : w)),
  );
}

describe('gradCheck of the paper’s full network (float64)', () => {
  let images: { values: Float32Array; shape: number[] };
  let labels: { values: Uint8Array; shape: number[] };
  beforeAll(async () => {
    const { train } = await loadMnist({ trainLimit: 4, testLimit: 0 });
    images = { values: train.images, shape: [4, 1, 28, 28] };
    labels = { values: train.labels, shape: [4] };
  });

  it('conv → ReLU → max-pool → flatten → dense ReLU → dense → sigmoid + BCE: max relative error ≤ 1e-6', () => {
    const { model, loss } = paperNetwork({ registry, seed: 5 });
    offsetBiases(model, 1);
    const report = gradCheck(model, images, labels, loss, { maxChecksPerTensor: 30 });
    expect(Object.keys(report)).toEqual(['conv2d_0/kernel', 'conv2d_0/bias', 'dense_3/kernel', 'dense_3/bias', 'dense_4/kernel', 'dense_4/bias']);
    for (const [name, entry] of Object.entries(report)) {
      expect(entry.checked, name).toBeGreaterThan(0);
      expect(entry.maxRelativeError, name).toBeLessThanOrEqual(1e-6);
    }
    model.dispose();
  });

  it('the softmax + categorical cross-entropy variant: max relative error ≤ 1e-6', () => {
    const model = new Sequential({
      registry,
      seed: 6,
      inputShape: [1, 28, 28],
      layers: [
        new Conv2D({ filters: 8, kernelSize: 5, activation: 'relu' }),
        new MaxPool2D({ poolSize: 2 }),
        new Flatten(),
        new Dense({ units: 32, activation: 'relu' }),
        new Dense({ units: 10, activation: 'softmax' }),
      ],
    });
    offsetBiases(model, 2);
    const report = gradCheck(model, images, labels, 'categoricalCrossentropy', { maxChecksPerTensor: 30 });
    for (const [name, entry] of Object.entries(report)) expect(entry.maxRelativeError, name).toBeLessThanOrEqual(1e-6);
    model.dispose();
  });

  it('detects a wrong gradient', () => {
    // A loss whose reported gradient is off by 1% must fail the check.
    const { model } = paperNetwork({ registry, seed: 7 });
    const honest = model.resolveLoss('mse');
    const lying = {
      ...honest,
      name: 'lying',
      compute: (p: never, t: never) => {
        const r = honest.compute(p, t);
        return { loss: r.loss, grad: registry.runKernel('mulScalar', { x: r.grad }, { scalar: 1.01 }) };
      },
      fusedActivation: undefined,
    };
    const report = gradCheck(model, images, labels, lying, { maxChecksPerTensor: 10 });
    expect(Math.max(...Object.values(report).map((e) => e.maxRelativeError))).toBeGreaterThan(1e-6);
    model.dispose();
  });
});

describe('Sequential on a backend without synchronous readback (async reads only, as WebGPU)', () => {
  const asyncRegistry = new Registry().use(asyncReadsOnly(cpuBackend, 'cpu'), layersPlugin, lossesPlugin, optimizersPlugin);
  asyncRegistry.setBackend('cpu');
  const x = randomImages(40, 3, [1, 8, 8]);
  const y = { values: Float64Array.from({ length: 40 }, (_, i) => i % 3), shape: [40] };
  const build = (r: Registry): Sequential =>
    new Sequential({
      registry: r,
      inputShape: [1, 8, 8],
      seed: 5,
      layers: [new Conv2D({ filters: 2, kernelSize: 3, activation: 'relu' }), new MaxPool2D({ poolSize: 2 }), new Flatten(), new Dense({ units: 3, activation: 'softmax' })],
    });
  const options = { loss: 'categoricalCrossentropy', optimizer: { name: 'sgd', config: { learningRate: 0.5 } }, epochs: 2, batchSize: 8, seed: 3, validationSplit: 0.2 };

  it('fit trains with the same history as on the synchronous backend; evaluateAsync, predictAsync, getWeightsAsync and toArtifactsAsync match', async () => {
    const sync = build(registry);
    const asyncModel = build(asyncRegistry);
    const batchLosses: [number[], number[]] = [[], []];
    const a = await sync.fit(x, y, { ...options, callbacks: { onBatchEnd: (l) => void batchLosses[0].push(l.loss) } });
    const before = asyncRegistry.memory();
    const b = await asyncModel.fit(x, y, { ...options, callbacks: { onBatchEnd: (l) => void batchLosses[1].push(l.loss) } });
    expect(batchLosses[1]).toEqual(batchLosses[0]);
    expect(b.epochs.map((e) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy])).toEqual(a.epochs.map((e) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]));
    const after = asyncRegistry.memory();
    expect([after.numTensors, after.numDataBuffers, after.numBytes], 'fit leaves memory at its baseline (plain SGD keeps no state)').toEqual([
      before.numTensors, before.numDataBuffers, before.numBytes,
    ]);
    expect(await asyncModel.evaluateAsync(x, y, { loss: 'categoricalCrossentropy', batchSize: 16 })).toEqual(sync.evaluate(x, y, { loss: 'categoricalCrossentropy', batchSize: 16 }));
    const p = await asyncModel.predictAsync(x, { batchSize: 16 });
    expect(Array.from(await p.data())).toEqual(Array.from(sync.predict(x, { batchSize: 16 }).dataSync()));
    expect(await asyncModel.getWeightsAsync()).toEqual(sync.getWeights());
    expect(new Uint8Array((await toArtifactsAsync(asyncModel)).weightData)).toEqual(new Uint8Array(toArtifacts(sync).weightData));
    // A tensor as data is read with data() too.
    const xt = tensor(x.values, x.shape, { registry: asyncRegistry });
    expect(await asyncModel.evaluateAsync(xt, y, { loss: 'categoricalCrossentropy' })).toEqual(sync.evaluate(x, y, { loss: 'categoricalCrossentropy' }));
    const batch = await asyncModel.trainOnBatchAsync(xt, toOneHot(Array.from(y.values), 3, { registry: asyncRegistry }), asyncModel.resolveLoss('categoricalCrossentropy'), asyncModel.optimizer!);
    expect(batch.correct).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(batch.loss)).toBe(true);
    sync.dispose();
    asyncModel.dispose();
  });

  it('the synchronous methods name their asynchronous twin', () => {
    const model = build(asyncRegistry);
    expect(() => model.evaluate(x, y, { loss: 'categoricalCrossentropy' })).toThrow(
      "evaluate: backend 'cpu' cannot read synchronously (its device is read asynchronously, as WebGPU is); use `await model.evaluateAsync(…)`",
    );
    expect(() => model.predict(x)).toThrow(/predict: .*`await model\.predictAsync\(…\)`/);
    expect(() => model.getWeights()).toThrow(/getWeightsAsync/);
    model.dispose();
  });

  it('fit and evaluate check the targets once, when the data enters, with the same message on every backend', async () => {
    // Targets rows that are not distributions: the loss's checkTargets runs on the whole
    // target set before the first step (compute reads nothing back, on any backend).
    const bad = { values: new Float64Array(40 * 3).fill(0.5), shape: [40, 3] };
    const message = /categoricalCrossentropy: targets row 0 sums to 1\.5, not 1/;
    const sync = build(registry);
    const before = sync.getWeights();
    await expect(sync.fit(x, bad, { ...options, validationSplit: undefined })).rejects.toThrow(message);
    expect(sync.getWeights(), 'no step was taken').toEqual(before);
    expect(() => sync.evaluate(x, bad, { loss: 'categoricalCrossentropy' })).toThrow(message);
    const asyncModel = build(asyncRegistry);
    await expect(asyncModel.fit(x, bad, { ...options, validationSplit: undefined })).rejects.toThrow(message);
    await expect(asyncModel.evaluateAsync(x, bad, { loss: 'categoricalCrossentropy' })).rejects.toThrow(message);
    // The row named is the sample's.
    const one = { values: Float64Array.from({ length: 40 * 3 }, (_, i) => (i % 3 === 0 ? 1 : 0)), shape: [40, 3] };
    one.values[17 * 3 + 1] = 1;
    await expect(asyncModel.evaluateAsync(x, one, { loss: 'categoricalCrossentropy' })).rejects.toThrow(/targets row 17 sums to 2, not 1/);
    sync.dispose();
    asyncModel.dispose();
  });
});

/** Runs `run` (sync or async) and asserts it throws a BackpropError (not a TypeError or RangeError) matching `message`. */
async function expectBackpropError(run: () => unknown, message: string | RegExp): Promise<void> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a BackpropError matching ${message}`).toBeInstanceOf(BackpropError);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}

describe('Sequential: argument checks (each a BackpropError, never a TypeError or RangeError from inside)', () => {
  const small = (): Sequential => new Sequential({ registry, inputShape: [4], layers: [new Dense({ units: 3, activation: 'softmax' })] });
  const x = { values: Float64Array.from({ length: 8 }, (_, i) => i / 8), shape: [2, 4] };
  const y = { values: [0, 2], shape: [2] };
  const loss = 'categoricalCrossentropy';

  it('the constructor rejects non-layers and bad options', async () => {
    await expectBackpropError(
      () => new Sequential({ registry, inputShape: [1, 28, 28], layers: [{} as never] }),
      'Sequential: layers[0] is not a Layer, got {}; pass layer objects such as new Dense({ units: 10 }), or build from { className, config } specs with Sequential.fromJSON',
    );
    await expectBackpropError(() => new Sequential({ registry, inputShape: [4], layers: [new Dense({ units: 2 }), null as never] }), /^Sequential: layers\[1\] is not a Layer, got null/);
    await expectBackpropError(() => new Sequential(undefined as never), 'Sequential: expects a config { inputShape, layers, … }, got undefined');
    await expectBackpropError(() => new Sequential({ registry, inputShape: [4], layers: [new Dense({ units: 2 })], dtype: 'int8' as never }), "Sequential: dtype must be 'float32' or 'float64', got 'int8'");
    await expectBackpropError(() => new Sequential({ registry, inputShape: [4], layers: [new Dense({ units: 2 })], seed: 'x' as never }), "Sequential: seed must be a finite number, got 'x'");
    await expectBackpropError(() => new Sequential({ registry, inputShape: [4.5], layers: [new Dense({ units: 2 })] }), /^Sequential: inputShape must be positive integers/);
    await expectBackpropError(() => new Sequential({ registry, inputShape: 4 as never, layers: [new Dense({ units: 2 })] }), /^Sequential: inputShape must be positive integers .* got 4$/);
    const dense = new Dense({ units: 2 });
    await expectBackpropError(() => new Sequential({ registry, inputShape: [4], layers: [dense, dense] }), 'Sequential: layers[1] is the same object as layers[0]; create a new layer for each position');
    const first = new Sequential({ registry, inputShape: [4], layers: [dense] });
    // Reused, the layer would hold the parameters of both models.
    await expectBackpropError(() => new Sequential({ registry, inputShape: [4], layers: [dense] }), "Sequential: layers[0] (Dense 'dense_0') is already built into another model; create a new layer");
    expect(first.params()).toHaveLength(2);
    first.dispose();
    await expectBackpropError(() => Sequential.fromJSON(first.toJSON(), null as never), 'Sequential.fromJSON: options must be an object, got null');
  });

  it('fit needs options with a loss, and at least one sample', async () => {
    const model = small();
    await expectBackpropError(() => (model.fit as (a: unknown, b: unknown) => unknown)(x, y), /^fit: needs options \{ loss, optimizer\?, epochs\?, batchSize\?, … \} as its third argument, got undefined$/);
    await expectBackpropError(() => model.fit(x, y, {} as never), /^fit: options\.loss is required/);
    await expectBackpropError(() => model.fit(x, y, { optimizer: 'adam' } as never), /^fit: options\.loss is required/);
    await expectBackpropError(() => model.fit(x, y, { loss: 5 as never }), /^loss: expected the name of a registered loss or \{ name, config \}, got 5/);
    await expectBackpropError(() => model.fit(x, y, { loss, optimizer: 7 as never }), /^optimizer: expected the name of a registered optimizer/);
    // It used to "train" on nothing and report a loss of 0.
    await expectBackpropError(() => model.fit({ values: [], shape: [0, 4] }, { values: [], shape: [0] }, { loss }), 'fit: x has no samples (shape [0, …]); give at least one');
    await expectBackpropError(() => model.fit(x, y, { loss, shuffle: 'yes' as never }), "fit: shuffle must be true or false, got 'yes'");
    await expectBackpropError(() => model.fit(undefined as never, y, { loss }), 'fit: x must be a Tensor or { values, shape }, got undefined');
    model.dispose();
  });

  it('a validation split that leaves no sample on either side is an error naming both counts', async () => {
    const model = small();
    const one = { values: [0.1, 0.2, 0.3, 0.4], shape: [1, 4] };
    // --limit 1 --validation-split 0.5: it used to train with an empty validation set and print val_loss 0.
    await expectBackpropError(
      () => model.fit(one, { values: [1], shape: [1] }, { loss, validationSplit: 0.5 }),
      'fit: validationSplit 0.5 of 1 samples leaves 1 for training and 0 for validation; each side needs at least one sample (give more data or another split)',
    );
    const ten = { values: Float64Array.from({ length: 40 }, (_, i) => i / 40), shape: [10, 4] };
    const labels = { values: Array.from({ length: 10 }, (_, i) => i % 3), shape: [10] };
    await expectBackpropError(() => model.fit(ten, labels, { loss, validationSplit: 0.05 }), /validationSplit 0\.05 of 10 samples leaves 10 for training and 0 for validation/);
    await expectBackpropError(() => model.fit(ten, labels, { loss, validationSplit: '0.5' as never }), "fit: validationSplit must be a number in (0, 1), got '0.5'");
    await expectBackpropError(() => model.fit(ten, labels, { loss, validationData: [{ values: [], shape: [0, 4] }, { values: [], shape: [0] }] }), 'fit: validationData x has no samples (shape [0, …]); give at least one');
    await expectBackpropError(() => model.fit(ten, labels, { loss, validationData: [x, { values: [1], shape: [1] }] }), 'fit: validationData x has 2 samples but validationData y has 1');
    // A split that leaves a sample on each side trains and measures on the held-out one.
    const history = await model.fit(ten, labels, { loss, validationSplit: 0.1, epochs: 1 });
    expect(history.epochs[0].valLoss).toBeGreaterThan(0);
    model.dispose();
  });

  it('evaluate and predict check their arguments the same way', async () => {
    const model = small();
    await expectBackpropError(() => model.evaluate({ values: [], shape: [0, 4] }, { values: [], shape: [0] }, { loss }), 'evaluate: x has no samples (shape [0, …]); give at least one');
    await expectBackpropError(() => model.evaluateAsync({ values: [], shape: [0, 4] }, { values: [], shape: [0] }, { loss }), 'evaluateAsync: x has no samples (shape [0, …]); give at least one');
    await expectBackpropError(() => (model.evaluate as (a: unknown, b: unknown) => unknown)(x, y), 'evaluate: needs options { loss, batchSize? } as its third argument, got undefined');
    await expectBackpropError(() => model.predict(x, null as never), 'predict: options must be an object, got null');
    await expectBackpropError(() => model.predict({ values: [1, 2, 3, 4], shape: 4 as never }), 'predict: x.shape must be an array of non-negative integers, got 4');
    await expectBackpropError(() => model.predict({ values: 'abcd' as never, shape: [1, 4] }), 'predict: x.values must be a typed array or an array of numbers, got the string "abcd"');
    await expectBackpropError(() => model.predict({ values: [1, '2', 3, 4] as never, shape: [1, 4] }), 'predict: x.values must be a typed array or an array of numbers, got an array whose element 1 is "2"');
    // NaN in, NaN out used to pass silently.
    await expectBackpropError(() => model.predict({ values: [1, 2, 3, 4, 5, Number.NaN, 7, 8], shape: [2, 4] }), 'predict: x value 5 (sample 1) is NaN; data must be finite numbers');
    await expectBackpropError(() => model.predictAsync({ values: [1, 2, Number.POSITIVE_INFINITY, 4], shape: [1, 4] }), 'predictAsync: x value 2 (sample 0) is Infinity; data must be finite numbers');
    await expectBackpropError(() => model.predict(x, { batchSize: 0 }), 'predict: batchSize must be a positive integer, got 0');
    await expectBackpropError(() => model.forward(undefined as never), 'forward: expected a Tensor of shape [batch, 4], got undefined');
    await expectBackpropError(() => model.trainOnBatch(undefined as never, undefined as never, undefined as never, undefined as never), 'trainOnBatch: x must be a Tensor, got undefined');
    // Predicting on no samples is well defined: no rows.
    const empty = model.predict({ values: [], shape: [0, 4] });
    expect(empty.shape).toEqual([0, 3]);
    empty.dispose();
    model.dispose();
  });

  it('setWeights rejects malformed and non-finite weights; a disposed model refuses every use', async () => {
    const model = small();
    await expectBackpropError(() => model.setWeights(undefined as never), 'setWeights: expects an array of { name, shape, values }, got undefined');
    const weights = model.getWeights();
    await expectBackpropError(() => model.setWeights([{ ...weights[0], name: 3 as never }, weights[1]]), /^setWeights: weights\[0\] must be \{ name: string, shape: number\[\], values: Float32Array \| Float64Array \}/);
    const nan = weights.map((w) => ({ ...w, values: w.values.slice() }));
    nan[0].values[4] = Number.NaN;
    await expectBackpropError(() => model.setWeights(nan), "setWeights: 'dense_0/kernel' value 4 is NaN; weights must be finite");
    // Nothing was replaced by the rejected calls.
    expect(model.getWeights()).toEqual(weights);
    model.dispose();
    expect(model.isDisposed).toBe(true);
    const disposed = "model 'sequential' was disposed; its weights are gone";
    await expectBackpropError(() => model.predict(x), `predict: ${disposed}`);
    await expectBackpropError(() => model.fit(x, y, { loss }), `fit: ${disposed}`);
    await expectBackpropError(() => model.getWeights(), `getWeights: ${disposed}`);
    await expectBackpropError(() => model.setWeights(weights), `setWeights: ${disposed}`);
    await expectBackpropError(() => model.evaluate(x, y, { loss }), `evaluate: ${disposed}`);
  });
});
