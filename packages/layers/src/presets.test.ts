import { cpuBackend } from '@backprop/backend-cpu';
import { loadMnist } from '@backprop/datasets';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { Registry } from '@backprop/tensor';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromArtifacts, gradCheck, layersPlugin, lenetBn, loadModel, PRESETS, saveModel, type Sequential, toArtifacts } from './index.js';

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

describe("the 'lenet-bn' preset", () => {
  let images: { values: Float32Array; shape: number[] };
  let labels: { values: Uint8Array; shape: number[] };
  beforeAll(async () => {
    const { train } = await loadMnist({ trainLimit: 3, testLimit: 0 });
    images = { values: train.images, shape: [3, 1, 28, 28] };
    labels = { values: train.labels, shape: [3] };
  });

  it('is listed in PRESETS with its topology: augmentation first, BN after each conv and the hidden dense layer, dropout', () => {
    expect(Object.keys(PRESETS)).toEqual(['paper', 'lenet', 'lenet-bn']);
    const { model, loss, optimizer } = PRESETS['lenet-bn']({ registry, seed: 1 });
    expect(model.layers.map((l) => l.className)).toEqual([
      'RandomRotation', 'RandomTranslation', 'Conv2D', 'BatchNormalization', 'ReLU', 'MaxPool2D', 'Conv2D', 'BatchNormalization', 'ReLU', 'MaxPool2D',
      'Dropout', 'Flatten', 'Dense', 'BatchNormalization', 'ReLU', 'Dropout', 'Dense',
    ]);
    expect(model.outputShape).toEqual([10]);
    expect(loss.name).toBe('categoricalCrossentropy');
    expect(optimizer.name).toBe('adam');
    // 288 + 4·32 (BN) + 18,432 + 4·64 + 204,800 + 4·128 + 1,290.
    expect(model.countParams()).toBe(225706);
    expect(model.trainableParams().length).toBe(11);
    model.dispose();
    // Each description names the head the model has (a folder's class count), and the decay's period in steps.
    for (const preset of Object.values(PRESETS)) {
      const { model: three, description } = preset({ registry, classes: 3, inputShape: [1, 16, 16] });
      expect(description).toMatch(/→ Dense 3 (softmax|sigmoid); /);
      if (preset !== PRESETS.paper) expect(description).toMatch(/ per 1,875 steps, an MNIST epoch at batch 32\)$/);
      three.dispose();
    }
  });

  it('passes gradCheck on real MNIST images (float64, dropout masks and augmentation held fixed)', () => {
    const { model, loss } = lenetBn({ registry, seed: 3 });
    const report = gradCheck(model, images, labels, loss, { maxChecksPerTensor: 12 });
    expect(Object.keys(report)).toEqual([
      'conv2d_2/kernel', 'batch_normalization_3/gamma', 'batch_normalization_3/beta', 'conv2d_6/kernel', 'batch_normalization_7/gamma',
      'batch_normalization_7/beta', 'dense_12/kernel', 'batch_normalization_13/gamma', 'batch_normalization_13/beta', 'dense_16/kernel', 'dense_16/bias',
    ]);
    for (const [name, entry] of Object.entries(report)) expect(entry.maxRelativeError, name).toBeLessThanOrEqual(1e-6);
    model.dispose();
  });

  it('trains a step and round-trips through save/load with its moving statistics', () => {
    const { model, loss, optimizer } = lenetBn({ registry, seed: 4 });
    const x = registry.makeTensor(images.values, images.shape, 'float32');
    const y = registry.makeTensor(Float32Array.from({ length: 30 }, (_, i) => (labels.values[Math.floor(i / 10)] === i % 10 ? 1 : 0)), [3, 10], 'float32');
    const step = model.trainOnBatch(x, y, model.resolveLoss(loss), model.resolveOptimizer(optimizer));
    expect(Number.isFinite(step.loss)).toBe(true);
    const copy = fromArtifacts(toArtifacts(model), { registry });
    const movingMean = (m: Sequential) => m.getWeights().find((w) => w.name === 'batch_normalization_3/movingMean')!.values;
    // The step updated the statistics (they start at 0): the reload then has something to carry.
    expect(Array.from(movingMean(model)).filter((v) => v !== 0).length).toBe(32);
    expect(movingMean(copy)).toEqual(movingMean(model));
    expect(Array.from(copy.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    x.dispose();
    y.dispose();
    model.dispose();
    copy.dispose();
  });

  it('resumes exactly: 1 epoch, save, load and 1 more epoch give the weights of 2 epochs in one run (masks and transforms continue, not replay)', async () => {
    const { train } = await loadMnist({ trainLimit: 48, testLimit: 0 });
    const x = { values: train.images, shape: [48, 1, 28, 28] };
    const y = { values: train.labels, shape: [48] };
    const { model: whole, loss, optimizer } = lenetBn({ registry, seed: 5 });
    const options = { loss, batchSize: 16, seed: 2 };
    // The bits of every weight: a resumed run is the same run, not a close one.
    const bits = (model: Sequential): Record<string, number[]> => Object.fromEntries(model.getWeights().map((w) => [w.name, Array.from(new Uint32Array(Float32Array.from(w.values).buffer))]));
    await whole.fit(x, y, { ...options, optimizer, epochs: 2 });
    const first = lenetBn({ registry, seed: 5 }).model;
    await first.fit(x, y, { ...options, optimizer, epochs: 1 });
    const dir = await mkdtemp(join(tmpdir(), 'backprop-lenet-bn-'));
    try {
      const { manifestPath } = await saveModel(first, dir);
      expect(manifestPath).toBe(join(dir, 'model.json'));
      // Three batches of one epoch: each random layer has drawn for three training forwards.
      const { model: resumed, manifest } = await loadModel(dir, { registry });
      expect(manifest.randomStreams).toEqual({ random_rotation_0: 3, random_translation_1: 3, dropout_10: 3, dropout_15: 3 });
      expect(resumed.layers.map((l) => l.randomStreamPosition).filter((p) => p !== undefined)).toEqual([3, 3, 3, 3]);
      await resumed.fit(x, y, { ...options, epochs: 2, initialEpoch: 1 });
      expect(bits(resumed)).toEqual(bits(whole));
      // The streams' positions are what makes it exact: started again from 0 (what a load
      // did before they were saved), the second epoch replays the first's masks and transforms.
      const { model: replayed } = await loadModel(dir, { registry });
      for (const layer of replayed.layers) layer.restartRandomStream();
      await replayed.fit(x, y, { ...options, epochs: 2, initialEpoch: 1 });
      expect(bits(replayed)).not.toEqual(bits(whole));
      resumed.dispose();
      replayed.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
      whole.dispose();
      first.dispose();
    }
  });
});
