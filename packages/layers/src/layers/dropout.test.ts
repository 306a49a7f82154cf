import { cpuBackend } from '@backprop/backend-cpu';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { BackpropError, createRandom, Registry } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { Dense, Dropout, fromArtifacts, gradCheck, layersPlugin, Sequential, toArtifacts } from '../index.js';

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

function dropoutModel(rate: number, features: number, seed = 3, layerSeed?: number): Sequential {
  return new Sequential({ registry, seed, dtype: 'float64', inputShape: [features], layers: [new Dropout({ rate, seed: layerSeed })] });
}

/** One training forward of `x` (batch 1) through the model, read back. */
function trainingPass(model: Sequential, x: number[]): number[] {
  return registry.scope(() => Array.from(model.forward(registry.makeTensor(x, [1, x.length], 'float64'), { training: true }).dataSync()));
}

describe('Dropout', () => {
  it('training: each output is 0 or x/(1 − rate), and ∂x = ∂y ⊙ m with the same mask', () => {
    const model = dropoutModel(0.5, 8);
    const x = [1, -2, 3, -4, 5, -6, 7, -8];
    registry.scope(() => {
      const y = Array.from(model.forward(registry.makeTensor(x, [1, 8], 'float64'), { training: true }).dataSync());
      // rate 0.5: kept values are scaled by 1/(1 − 0.5) = 2.
      y.forEach((v, i) => expect([0, 2 * x[i]]).toContain(v));
      expect(y.some((v) => v === 0)).toBe(true);
      expect(y.some((v) => v !== 0)).toBe(true);
      const dy = [1, 1, 1, 1, 2, 2, 2, 2];
      const dx = Array.from(model.backward(registry.makeTensor(dy, [1, 8], 'float64'), { inputGradient: true })!.dataSync());
      // m_i = y_i / x_i.
      expect(dx).toEqual(dy.map((g, i) => g * (y[i] / x[i])));
    });
    model.dispose();
  });

  it('keeps a fraction 1 − rate and preserves the mean (E[y] = x) over 20,000 inputs', () => {
    const model = dropoutModel(0.3, 20_000);
    const y = trainingPass(model, new Array(20_000).fill(1));
    const kept = y.filter((v) => v !== 0).length / y.length;
    expect(Math.abs(kept - 0.7)).toBeLessThan(0.015);
    expect(Math.abs(y.reduce((s, v) => s + v, 0) / y.length - 1)).toBeLessThan(0.02);
    model.dispose();
  });

  it('is the identity at inference (and with rate 0), backward included', () => {
    const model = dropoutModel(0.5, 4);
    registry.scope(() => {
      const x = registry.makeTensor([1, 2, 3, 4], [1, 4], 'float64');
      expect(model.forward(x)).toBe(x);
      const dy = registry.makeTensor([5, 6, 7, 8], [1, 4], 'float64');
      expect(model.backward(dy, { inputGradient: true })).toBe(dy);
      expect(Array.from(model.predict(x).dataSync())).toEqual([1, 2, 3, 4]);
    });
    const none = dropoutModel(0, 4);
    expect(trainingPass(none, [1, 2, 3, 4])).toEqual([1, 2, 3, 4]);
    model.dispose();
    none.dispose();
  });

  it('masks follow the model seed (or the layer seed): the same seed gives the same run', () => {
    const x = new Array(64).fill(1);
    const a = dropoutModel(0.5, 64, 11);
    const b = dropoutModel(0.5, 64, 11);
    const c = dropoutModel(0.5, 64, 12);
    const first = trainingPass(a, x);
    const second = trainingPass(a, x);
    expect(trainingPass(b, x)).toEqual(first);
    expect(trainingPass(b, x)).toEqual(second);
    // A new mask every training step, and another model seed draws other masks.
    expect(second).not.toEqual(first);
    expect(trainingPass(c, x)).not.toEqual(first);
    // A layer seed fixes the masks whatever the model seed.
    const d = dropoutModel(0.5, 64, 1, 99);
    const e = dropoutModel(0.5, 64, 2, 99);
    expect(trainingPass(d, x)).toEqual(trainingPass(e, x));
    // restartRandomStream replays the first draw.
    a.layers[0].restartRandomStream();
    expect(trainingPass(a, x)).toEqual(first);
    for (const m of [a, b, c, d, e]) m.dispose();
  });

  it('gradCheck holds the mask fixed: Dense → Dropout → Dense softmax within 1e-6', () => {
    const model = new Sequential({
      registry,
      seed: 4,
      inputShape: [6],
      layers: [new Dense({ units: 12, activation: 'tanh' }), new Dropout({ rate: 0.4 }), new Dense({ units: 3, activation: 'softmax' })],
    });
    const rng = createRandom(5);
    const x = { values: Float32Array.from({ length: 5 * 6 }, () => rng.uniform(-1, 1)), shape: [5, 6] };
    const y = { values: [0, 1, 2, 1, 0], shape: [5] };
    const report = gradCheck(model, x, y, 'categoricalCrossentropy', { maxChecksPerTensor: 80 });
    expect(Object.keys(report)).toEqual(['dense_0/kernel', 'dense_0/bias', 'dense_2/kernel', 'dense_2/bias']);
    for (const [name, entry] of Object.entries(report)) expect(entry.maxRelativeError, name).toBeLessThanOrEqual(1e-6);
    model.dispose();
  });

  it('is saved with the model (rate, seed) and draws the same masks after loading', () => {
    const model = new Sequential({ registry, seed: 8, inputShape: [4], layers: [new Dense({ units: 16 }), new Dropout({ rate: 0.25, seed: 5 })] });
    const copy = fromArtifacts(toArtifacts(model), { registry });
    expect(copy.toJSON().layers[1]).toEqual({ className: 'Dropout', config: { name: 'dropout_1', rate: 0.25, seed: 5 } });
    const x = registry.makeTensor([0.5, -1, 2, 0.25], [1, 4], 'float32');
    const run = (m: Sequential): number[] => registry.scope(() => Array.from(m.forward(x, { training: true }).dataSync()));
    expect(run(copy)).toEqual(run(model));
    x.dispose();
    model.dispose();
    copy.dispose();
  });

  it('trains with fit and predicts deterministically', async () => {
    const model = new Sequential({ registry, seed: 2, inputShape: [2], layers: [new Dense({ units: 16, activation: 'relu' }), new Dropout({ rate: 0.5 }), new Dense({ units: 2, activation: 'softmax' })] });
    const rng = createRandom(1);
    const points = Array.from({ length: 64 }, () => [rng.uniform(-1, 1), rng.uniform(-1, 1)]);
    const x = { values: points.flat(), shape: [64, 2] };
    const y = { values: points.map(([a]) => (a > 0 ? 1 : 0)), shape: [64] };
    const history = await model.fit(x, y, { loss: 'categoricalCrossentropy', optimizer: { name: 'adam', config: { learningRate: 0.05 } }, epochs: 15, batchSize: 16 });
    expect(history.epochs[14].loss).toBeLessThan(history.epochs[0].loss);
    const p1 = Array.from(model.predict(x).dataSync());
    expect(Array.from(model.predict(x).dataSync())).toEqual(p1);
    expect(model.evaluate(x, y, { loss: 'categoricalCrossentropy' }).accuracy).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('refuses a rate outside [0, 1) and a bad seed, naming the option', () => {
    const cases: [unknown, string][] = [
      [{ rate: 1 }, 'Dropout: rate must be a number in [0, 1), got 1'],
      [{ rate: -0.1 }, 'Dropout: rate must be a number in [0, 1), got -0.1'],
      [{ rate: Number.NaN }, 'Dropout: rate must be a number in [0, 1), got NaN'],
      [{ rate: '0.5' }, "Dropout: rate must be a number in [0, 1), got '0.5'"],
      [{}, 'Dropout: rate must be a number in [0, 1), got undefined'],
      [{ rate: 0.5, seed: 'x' }, "Dropout: seed must be a finite number, got 'x'"],
      [{ name: 'd', rate: 2 }, "Dropout 'd': rate must be a number in [0, 1), got 2"],
    ];
    for (const [config, message] of cases) {
      expect(() => new Dropout(config as never)).toThrow(BackpropError);
      expect(() => new Dropout(config as never)).toThrow(message);
    }
  });
});
