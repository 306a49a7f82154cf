import { cpuBackend } from '@backprop/backend-cpu';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { BackpropError, createRandom, Registry, sizeOfShape } from '@backprop/tensor';
import { checkGradient, expectArraysClose } from '@backprop/tensor/testing';
import { describe, expect, it } from 'vitest';
import {
  BatchNormalization,
  Conv2D,
  Dense,
  Flatten,
  fromArtifacts,
  gradCheck,
  layersPlugin,
  manifestChecksum,
  ReLU,
  Sequential,
  toArtifacts,
} from '../index.js';

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

function bnModel(inputShape: number[], config: ConstructorParameters<typeof BatchNormalization>[0] = {}, weights: Record<string, number[]> = {}): Sequential {
  const model = new Sequential({ registry, seed: 3, dtype: 'float64', inputShape, layers: [new BatchNormalization(config)] });
  if (Object.keys(weights).length) {
    model.setWeights(model.params().map((p) => ({ name: p.name, shape: p.value.shape, values: Float64Array.from(weights[p.name.split('/')[1]] ?? p.value.dataSync()) })));
  }
  return model;
}

const weightsOf = (model: Sequential): Record<string, number[]> => Object.fromEntries(model.getWeights().map((w) => [w.name.split('/')[1], Array.from(w.values)]));

describe('BatchNormalization: the worked example of apps/docs/math/batch-normalization.md', () => {
  // Two features over a batch of 4: feature 0 is [1, 2, 3, 6], feature 1 the same values reversed.
  // μ = 3 and σ² = (4 + 1 + 0 + 9)/4 = 3.5 for both; with ε = 0.5, √(σ² + ε) = 2.
  const x = [1, 6, 2, 3, 3, 2, 6, 1];
  const weights = { gamma: [2, -1], beta: [1, 0.5] };

  it('forward with batch statistics, the moving averages, and ∂x, ∂γ, ∂β from the compact form', () => {
    const model = bnModel([2], { epsilon: 0.5, momentum: 0.9 }, weights);
    registry.scope(() => {
      const y = model.forward(registry.makeTensor(x, [4, 2], 'float64'), { training: true });
      // x̂ = [−1, −0.5, 0, 1.5] and [1.5, 0, −0.5, −1]; y = γ x̂ + β.
      expectArraysClose(y.dataSync(), [-1, -1, 0, 0.5, 1, 1, 4, 1.5], { atol: 1e-12, rtol: 0 });
      const dx = model.backward(registry.makeTensor([1, 0, 0, 0, 0, 1, 0, 1], [4, 2], 'float64'), { inputGradient: true })!;
      expectArraysClose(dx.dataSync(), [0.5, -0.03125, -0.375, 0.25, -0.25, -0.15625, 0.125, -0.0625], { atol: 1e-12, rtol: 0 });
      const grads = Object.fromEntries(model.trainableParams().map((p) => [p.name.split('/')[1], Array.from(p.grad!.dataSync())]));
      expectArraysClose(grads.gamma, [-1, -1.5], { atol: 1e-12, rtol: 0 });
      expectArraysClose(grads.beta, [1, 2], { atol: 1e-12, rtol: 0 });
    });
    // moving ← 0.9·moving + 0.1·batch: mean 0.9·0 + 0.1·3, variance 0.9·1 + 0.1·3.5 (the biased σ²).
    const w = weightsOf(model);
    expectArraysClose(w.movingMean, [0.3, 0.3], { atol: 1e-12, rtol: 0 });
    expectArraysClose(w.movingVariance, [1.25, 1.25], { atol: 1e-12, rtol: 0 });
    // Inference normalises with the moving averages: x̂ = (x − 0.3)/√1.75.
    const s = 1 / Math.sqrt(1.75);
    const expected = x.map((v, i) => (i % 2 === 0 ? 2 * (v - 0.3) * s + 1 : -(v - 0.3) * s + 0.5));
    expectArraysClose(model.predict({ values: x, shape: [4, 2] }).dataSync(), expected, { atol: 1e-12, rtol: 0 });
    model.dispose();
  });

  it('only gamma and beta are trainable; the moving statistics are weights the layer updates itself', () => {
    const model = bnModel([3, 2, 2]);
    expect(model.params().map((p) => [p.name, p.trainable !== false, p.value.shape])).toEqual([
      ['batch_normalization_0/gamma', true, [3]],
      ['batch_normalization_0/beta', true, [3]],
      ['batch_normalization_0/movingMean', false, [3]],
      ['batch_normalization_0/movingVariance', false, [3]],
    ]);
    expect(model.trainableParams().map((p) => p.name)).toEqual(['batch_normalization_0/gamma', 'batch_normalization_0/beta']);
    expect(weightsOf(model)).toEqual({ gamma: [1, 1, 1], beta: [0, 0, 0], movingMean: [0, 0, 0], movingVariance: [1, 1, 1] });
    const bare = bnModel([3], { center: false, scale: false });
    expect(bare.params().map((p) => p.name)).toEqual(['batch_normalization_0/movingMean', 'batch_normalization_0/movingVariance']);
    model.dispose();
    bare.dispose();
  });

  it('conv input: statistics per channel over (N, H, W)', () => {
    const model = bnModel([2, 1, 2], { epsilon: 1e-12 });
    // Channel 0 holds 1, 3 | 5, 7 (μ 4, σ² 5), channel 1 holds 10 everywhere (σ² 0 → x̂ 0).
    const y = registry.scope(() => Array.from(model.forward(registry.makeTensor([1, 3, 10, 10, 5, 7, 10, 10], [2, 2, 1, 2], 'float64'), { training: true }).dataSync()));
    const r = Math.sqrt(5);
    expectArraysClose(y, [-3 / r, -1 / r, 0, 0, 1 / r, 3 / r, 0, 0], { atol: 1e-9, rtol: 0 });
    expectArraysClose(weightsOf(model).movingMean, [0.04, 0.1], { atol: 1e-12, rtol: 0 });
    model.dispose();
  });
});

/** Finite differences of L = Σ G ⊙ BN(x) in training mode, for x and every trainable parameter. */
function checkLayerGradients(config: ConstructorParameters<typeof BatchNormalization>[0], inputShape: number[], batch: number, seed: number): void {
  const rng = createRandom(seed);
  const model = bnModel(inputShape, config);
  // Non-trivial γ and β so that ∂x̂ = ∂y γ is tested.
  model.setWeights(model.params().map((p) => ({ name: p.name, shape: p.value.shape, values: Float64Array.from({ length: p.value.size }, () => (p.trainable === false ? rng.uniform(0.5, 1.5) : rng.uniform(-2, 2))) })));
  const shape = [batch, ...inputShape];
  const x = Float64Array.from({ length: sizeOfShape(shape) }, () => rng.uniform(-2, 2));
  const g = Float64Array.from({ length: sizeOfShape(shape) }, () => rng.normal());
  const lossAt = (xs: Float64Array): number =>
    registry.scope(() => {
      const y = model.forward(registry.makeTensor(xs, shape, 'float64'), { training: true }).dataSync();
      let s = 0;
      for (let i = 0; i < y.length; i++) s += g[i] * y[i];
      return s;
    });
  const { dx, grads } = registry.scope(() => {
    model.forward(registry.makeTensor(x, shape, 'float64'), { training: true });
    const dxT = model.backward(registry.makeTensor(g, shape, 'float64'), { inputGradient: true })!;
    return { dx: dxT.dataSync(), grads: model.trainableParams().map((p) => p.grad!.dataSync()) };
  });
  checkGradient(lossAt, x, dx, { label: `BatchNormalization ${JSON.stringify(inputShape)} ∂x` });
  model.trainableParams().forEach((param, i) => {
    const lossAtParam = (values: Float64Array): number => {
      const old = param.value;
      param.value = registry.keep(registry.makeTensor(values, old.shape, 'float64'));
      old.dispose();
      return lossAt(x);
    };
    checkGradient(lossAtParam, param.value.dataSync(), grads[i], { label: `BatchNormalization ∂${param.name}` });
  });
  model.dispose();
}

describe('BatchNormalization gradients (central differences, float64)', () => {
  it('dense (N, C) and conv (N, C, H, W) inputs: ∂x, ∂gamma, ∂beta', () => {
    checkLayerGradients({}, [5], 6, 1);
    checkLayerGradients({ epsilon: 0.1 }, [3, 4, 5], 2, 2);
    checkLayerGradients({ center: false }, [2, 3, 3], 3, 3);
    checkLayerGradients({ scale: false }, [4], 3, 4);
  });

  it('gradCheck through conv → BN → ReLU → dense → BN → softmax (every trainable parameter)', () => {
    const model = new Sequential({
      registry,
      seed: 6,
      inputShape: [2, 6, 6],
      layers: [
        new Conv2D({ filters: 3, kernelSize: 3 }),
        new BatchNormalization(),
        new ReLU(),
        new Flatten(),
        new Dense({ units: 8 }),
        new BatchNormalization({ epsilon: 0.01 }),
        new Dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const rng = createRandom(9);
    const x = { values: Float32Array.from({ length: 4 * 72 }, () => rng.uniform(-1, 1)), shape: [4, 2, 6, 6] };
    const report = gradCheck(model, x, { values: [0, 1, 2, 1], shape: [4] }, 'categoricalCrossentropy', { maxChecksPerTensor: 60 });
    expect(Object.keys(report)).toEqual([
      'conv2d_0/kernel', 'conv2d_0/bias', 'batch_normalization_1/gamma', 'batch_normalization_1/beta',
      'dense_4/kernel', 'dense_4/bias', 'batch_normalization_5/gamma', 'batch_normalization_5/beta', 'dense_6/kernel', 'dense_6/bias',
    ]);
    for (const [name, entry] of Object.entries(report)) expect(entry.maxRelativeError, name).toBeLessThanOrEqual(1e-6);
    model.dispose();
  });
});

describe('BatchNormalization in a model', () => {
  it('trains with fit (the optimizer steps gamma and beta, never the moving statistics) and saves them all', async () => {
    const model = new Sequential({
      registry, seed: 2, inputShape: [2],
      layers: [new Dense({ units: 8 }), new BatchNormalization({ momentum: 0.8 }), new ReLU(), new Dense({ units: 2, activation: 'softmax' })],
    });
    const rng = createRandom(1);
    const points = Array.from({ length: 64 }, () => [rng.uniform(-1, 1) * 5 + 3, rng.uniform(-1, 1)]);
    const x = { values: points.flat(), shape: [64, 2] };
    const y = { values: points.map(([a]) => (a > 3 ? 1 : 0)), shape: [64] };
    const history = await model.fit(x, y, { loss: 'categoricalCrossentropy', optimizer: { name: 'adam', config: { learningRate: 0.05 } }, epochs: 20, batchSize: 16 });
    expect(history.epochs[19].loss).toBeLessThan(history.epochs[0].loss);
    const w = weightsOf(model);
    // The moving mean followed the batches of the Dense output (no longer its initial 0).
    expect(w.movingMean.every((v) => v !== 0)).toBe(true);
    expect(model.optimizer!.getState().tensors).not.toHaveProperty('batch_normalization_1/movingMean/m');
    expect(Object.keys(model.optimizer!.getState().tensors).some((k) => k.startsWith('batch_normalization_1/gamma'))).toBe(true);
    expect(model.evaluate(x, y, { loss: 'categoricalCrossentropy' }).accuracy).toBeGreaterThan(0.9);
    const artifacts = toArtifacts(model);
    expect(artifacts.manifest.weights.specs.map((s) => s.name)).toContain('batch_normalization_1/movingVariance');
    const copy = fromArtifacts(artifacts, { registry });
    expect(weightsOf(copy)).toEqual(w);
    expect(Array.from(copy.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    expect(copy.toJSON().layers[1].config).toEqual({ name: 'batch_normalization_1', axis: 1, momentum: 0.8, epsilon: 0.001, center: true, scale: true });
    model.dispose();
    copy.dispose();
  });

  it('a saved model whose statistics do not match the channels is refused at load time, naming the weight', () => {
    const make = (channels: number): Sequential =>
      new Sequential({ registry, seed: 1, inputShape: [1, 4, 4], layers: [new Conv2D({ filters: channels, kernelSize: 3 }), new BatchNormalization()] });
    const four = make(4);
    const three = make(3);
    const artifacts = toArtifacts(four);
    // The BN weights of 4 channels under a topology with 3: the manifest is re-checksummed, as a deliberate edit would be.
    const manifest = { ...artifacts.manifest, topology: three.toJSON() };
    manifest.manifestCrc32 = manifestChecksum(manifest);
    expect(() => fromArtifacts({ manifest, weightData: artifacts.weightData }, { registry })).toThrow(BackpropError);
    expect(() => fromArtifacts({ manifest, weightData: artifacts.weightData }, { registry })).toThrow("'conv2d_0/kernel' has shape [4, 1, 3, 3] but the model expects [3, 1, 3, 3]");
    // Only the statistics edited: the error names the moving variance.
    const bad = toArtifacts(three);
    const specs = bad.manifest.weights.specs.map((s) => (s.name.endsWith('movingVariance') ? { ...s, shape: [1, 3] } : s));
    const edited = { ...bad.manifest, weights: { ...bad.manifest.weights, specs } };
    edited.manifestCrc32 = manifestChecksum(edited);
    expect(() => fromArtifacts({ manifest: edited, weightData: bad.weightData }, { registry })).toThrow("'batch_normalization_1/movingVariance' has shape [1, 3] but the model expects [3]");
    expect(() => three.setWeights(four.getWeights())).toThrow(BackpropError);
    four.dispose();
    three.dispose();
  });

  it('refuses bad options, naming them', () => {
    const cases: [unknown, string][] = [
      [{ epsilon: -1e-3 }, 'BatchNormalization: epsilon must be a finite number > 0, got -0.001'],
      [{ epsilon: 0 }, 'BatchNormalization: epsilon must be a finite number > 0, got 0'],
      [{ momentum: 1.5 }, 'BatchNormalization: momentum must be a number in [0, 1], got 1.5'],
      [{ momentum: Number.NaN }, 'BatchNormalization: momentum must be a number in [0, 1], got NaN'],
      [{ axis: 3 }, 'BatchNormalization: axis must be 1, got 3'],
      [{ axis: -1 }, 'BatchNormalization: axis must be 1, got -1'],
      [{ center: 'yes' }, "BatchNormalization: center must be true or false, got 'yes'"],
      [{ name: 'bn', scale: 0 }, "BatchNormalization 'bn': scale must be true or false, got 0"],
    ];
    for (const [config, message] of cases) {
      expect(() => new BatchNormalization(config as never)).toThrow(BackpropError);
      expect(() => new BatchNormalization(config as never)).toThrow(message);
    }
  });
});
