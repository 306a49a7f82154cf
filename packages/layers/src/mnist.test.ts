import { cpuBackend } from '@backprop/backend-cpu';
import { loadMnist } from '@backprop/datasets';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { Registry } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { layersPlugin, paperNetwork } from './index.js';

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

describe('the paper’s network on real MNIST', () => {
  it('trained on the first 2,000 training images reaches ≥ 90% on 1,000 test images', async () => {
    const { train, test } = await loadMnist({ trainLimit: 2000, testLimit: 1000 });
    const { model, loss, optimizer } = paperNetwork({ registry, seed: 1 });
    const x = { values: train.images, shape: [train.count, 1, 28, 28] };
    const y = { values: train.labels, shape: [train.count] };
    const started = performance.now();
    const history = await model.fit(x, y, { loss, optimizer, epochs: 10, batchSize: 32, seed: 1 });
    const seconds = (performance.now() - started) / 1000;
    const result = model.evaluate({ values: test.images, shape: [test.count, 1, 28, 28] }, { values: test.labels, shape: [test.count] }, { loss });
    console.log(
      `paper network, 2000 MNIST images × ${history.epochs.length} epochs: ${(2000 * history.epochs.length / seconds).toFixed(0)} samples/s, ` +
        `test accuracy ${(result.accuracy * 100).toFixed(2)}% on 1000 images, loss ${result.loss.toFixed(4)}`,
    );
    expect(history.epochs[history.epochs.length - 1].loss).toBeLessThan(history.epochs[0].loss);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.9);
    model.dispose();
  });
});
