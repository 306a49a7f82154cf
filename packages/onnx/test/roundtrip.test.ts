import { loadMnist, type MnistData } from '@backprop/datasets';
import { BatchNormalization, Dropout, lenet, lenetBn, paperNetwork, type Sequential } from '@backprop/layers';
import type { ComponentJSON } from '@backprop/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromOnnx, toOnnx } from '../src/index.js';
import { everyLayerModel, registry } from './models.js';

const TRAIN = 200;
const TEST = 500;

let mnist: MnistData;
beforeAll(async () => {
  mnist = await loadMnist({ trainLimit: TRAIN, testLimit: TEST });
});

function bits(values: Float32Array | Float64Array): number[] {
  return Array.from(new Uint32Array(Float32Array.from(values).buffer));
}

/** Trains briefly (so biases are not zeros), exports, imports, and compares weights bit for bit and predictions exactly. */
async function roundTrip(name: string, model: Sequential, loss: ComponentJSON, optimizer: ComponentJSON): Promise<void> {
  const { train, test } = mnist;
  await model.fit({ values: train.images, shape: [train.count, 1, 28, 28] }, { values: train.labels, shape: [train.count] }, { loss, optimizer, epochs: 1, batchSize: 32, seed: 1 });
  const classNames = Array.from({ length: 10 }, (_, i) => `digit ${i}`);
  const bytes = toOnnx(model, { classNames });
  const imported = fromOnnx(bytes, { registry });
  try {
    expect(imported.classNames).toEqual(classNames);
    expect(imported.model.name).toBe(model.name);
    expect(imported.model.inputShape).toEqual(model.inputShape);
    expect(imported.model.outputShape).toEqual(model.outputShape);
    const before = model.getWeights();
    const after = imported.model.getWeights();
    expect(after.map((w) => [w.name, w.shape])).toEqual(before.map((w) => [w.name, w.shape]));
    before.forEach((w, i) => expect(bits(after[i].values)).toEqual(bits(w.values)));

    const input = { values: test.images, shape: [test.count, 1, 28, 28] };
    const a = model.predict(input);
    const b = imported.model.predict(input);
    const x = a.dataSync() as Float32Array;
    const y = b.dataSync() as Float32Array;
    a.dispose();
    b.dispose();
    let maxAbs = 0;
    for (let i = 0; i < x.length; i++) maxAbs = Math.max(maxAbs, Math.abs(x[i] - y[i]));
    console.log(`${name}: ${before.length} weight tensors identical bit for bit; predictions on ${test.count} MNIST images: max |Δ| ${maxAbs}`);
    expect(bits(y)).toEqual(bits(x));
    // A second export of the imported model gives the same initializers (the graph may fuse activations).
    const again = fromOnnx(toOnnx(imported.model), { registry });
    again.model.getWeights().forEach((w, i) => expect(bits(w.values)).toEqual(bits(before[i].values)));
    again.model.dispose();
  } finally {
    imported.model.dispose();
    model.dispose();
  }
}

describe('Backprop → ONNX → Backprop: identical weights and predictions (real MNIST, CPU, float32)', () => {
  it('the paper preset', async () => {
    const { model, loss, optimizer } = paperNetwork({ registry, seed: 1 });
    await roundTrip('paper', model, loss, optimizer);
  });

  it('the lenet preset', async () => {
    const { model, loss, optimizer } = lenet({ registry, seed: 1 });
    await roundTrip('lenet', model, loss, optimizer);
  });

  it('a model with every layer type and activation', async () => {
    const { model, loss, optimizer } = everyLayerModel();
    await roundTrip('every-layer', model, loss, optimizer);
  });

  it('the lenet-bn preset: BatchNormalization (ε, momentum, γ, β, moving statistics) and Dropout (rate) come back; augmentation, the identity at inference, does not', async () => {
    const { model, loss, optimizer } = lenetBn({ registry, seed: 1 });
    const bytes = toOnnx(model);
    const { model: imported } = fromOnnx(bytes, { registry });
    try {
      const layers = imported.layers.map((l) => l.className);
      expect(layers).toEqual(model.layers.map((l) => l.className).filter((c) => !c.startsWith('Random')));
      const bn = imported.layers.filter((l): l is BatchNormalization => l instanceof BatchNormalization);
      expect(bn.map((l) => [l.epsilon, l.momentum])).toEqual([[0.001, 0.99], [0.001, 0.99], [0.001, 0.99]]);
      const rates = (m: typeof model): number[] => m.layers.filter((l): l is Dropout => l instanceof Dropout).map((l) => l.rate);
      // The preset's two rates (distinct, so a swap would show), as written and read back.
      expect(rates(model)).toHaveLength(2);
      expect(new Set(rates(model)).size).toBe(2);
      expect(rates(imported)).toEqual(rates(model));
    } finally {
      imported.dispose();
    }
    await roundTrip('lenet-bn', model, loss, optimizer);
  });
});
