import { cpuBackend } from '@backprop/backend-cpu';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { BackpropError, createRandom, Registry } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import {
  Conv2D,
  Dense,
  Flatten,
  fromArtifacts,
  gradCheck,
  type Layer,
  layersPlugin,
  MaxPool2D,
  RandomFlip,
  RandomRotation,
  RandomTranslation,
  RandomZoom,
  Sequential,
  toArtifacts,
} from '../index.js';

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);
const S = 9;
const C = (S - 1) / 2;

/**
 * Channel 0 holds the column index j, channel 1 the row index i. Bilinear interpolation
 * reproduces a linear function exactly, so at a pixel whose sample point is inside the
 * image the output is that point: channel 0 = u, channel 1 = v. Three pixels around the
 * centre then give each image's whole map [a, b, c, d, e, f].
 */
function ramps(batch: number): number[] {
  const one = [...Array.from({ length: S * S }, (_, p) => p % S), ...Array.from({ length: S * S }, (_, p) => Math.floor(p / S))];
  return Array.from({ length: batch }, () => one).flat();
}

function recoveredMaps(layer: Layer, batch: number, seed = 1): number[][] {
  const model = new Sequential({ registry, seed, dtype: 'float64', inputShape: [2, S, S], layers: [layer] });
  const y = registry.scope(() => Array.from(model.forward(registry.makeTensor(ramps(batch), [batch, 2, S, S], 'float64'), { training: true }).dataSync()));
  model.dispose();
  return Array.from({ length: batch }, (_, n) => {
    const at = (ch: number, i: number, j: number): number => y[((n * 2 + ch) * S + i) * S + j];
    const [u, v] = [at(0, C, C), at(1, C, C)];
    // a = ∂u/∂j, b = ∂u/∂i, c = u(0, 0) extrapolated; likewise d, e, f for v.
    const a = at(0, C, C + 1) - u, b = at(0, C + 1, C) - u, d = at(1, C, C + 1) - v, e = at(1, C + 1, C) - v;
    return [a, b, u - a * C - b * C, d, e, v - d * C - e * C];
  });
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

describe('augmentation layers: the maps they draw (read back through linear ramps)', () => {
  it('RandomTranslation shifts by t within ±factor·size, independently per image', () => {
    const maps = recoveredMaps(new RandomTranslation({ heightFactor: 0.1, widthFactor: 0.2 }), 6);
    for (const [a, b, c, d, e, f] of maps) {
      expect([a, b, d, e].map((v) => Math.round(v * 1e9) / 1e9)).toEqual([1, 0, 0, 1]);
      // Output (i, j) reads (i − t_y, j − t_x).
      expect(Math.abs(c)).toBeLessThanOrEqual(0.2 * S);
      expect(Math.abs(f)).toBeLessThanOrEqual(0.1 * S);
    }
    expect(new Set(maps.map((m) => m[2].toFixed(6))).size).toBe(6);
  });

  it('RandomRotation turns about the centre by θ within ±factor·2π', () => {
    const maps = recoveredMaps(new RandomRotation({ factor: 0.05 }), 6);
    for (const [a, b, c, d, e, f] of maps) {
      // [a b; d e] = [cos θ, sin θ; −sin θ, cos θ], and the centre maps to itself.
      expect(close(a, e) && close(b, -d)).toBe(true);
      expect(close(a * a + b * b, 1)).toBe(true);
      expect(Math.abs(Math.atan2(b, a))).toBeLessThanOrEqual(0.05 * 2 * Math.PI + 1e-12);
      expect(close(a * C + b * C + c, C) && close(d * C + e * C + f, C)).toBe(true);
    }
    expect(maps.some((m) => Math.abs(m[1]) > 0.05)).toBe(true);
  });

  it('RandomZoom scales about the centre: one z for both axes unless widthFactor is given', () => {
    for (const [a, b, c, d, e, f] of recoveredMaps(new RandomZoom({ heightFactor: 0.2 }), 6)) {
      expect(close(a, e) && close(b, 0) && close(d, 0)).toBe(true);
      expect(Math.abs(a - 1)).toBeLessThanOrEqual(0.2);
      expect(close(a * C + c, C) && close(e * C + f, C)).toBe(true);
    }
    const free = recoveredMaps(new RandomZoom({ heightFactor: 0.1, widthFactor: 0.3 }), 6);
    expect(free.some(([a, , , , e]) => !close(a, e))).toBe(true);
    for (const [a, , , , e] of free) expect(Math.abs(a - 1) <= 0.3 && Math.abs(e - 1) <= 0.1).toBe(true);
  });

  it('RandomFlip mirrors whole images exactly, each flip with probability 1/2', () => {
    const model = new Sequential({ registry, seed: 4, dtype: 'float64', inputShape: [1, 2, 3], layers: [new RandomFlip({ mode: 'horizontal_and_vertical' })] });
    const image = [1, 2, 3, 4, 5, 6];
    const y = registry.scope(() => Array.from(model.forward(registry.makeTensor(new Array(16).fill(image).flat(), [16, 1, 2, 3], 'float64'), { training: true }).dataSync()));
    const seen = new Set<string>();
    for (let n = 0; n < 16; n++) {
      const out = y.slice(n * 6, n * 6 + 6).join(',');
      // Identity, left ↔ right, top ↔ bottom, both.
      expect(['1,2,3,4,5,6', '3,2,1,6,5,4', '4,5,6,1,2,3', '6,5,4,3,2,1']).toContain(out);
      seen.add(out);
    }
    expect(seen.size).toBe(4);
    model.dispose();
  });
});

describe('augmentation layers in a model', () => {
  it('are the identity at inference and in predict; a seed repeats the same run', () => {
    const make = (seed: number, layerSeed?: number): Sequential =>
      new Sequential({ registry, seed, inputShape: [2, S, S], layers: [new RandomRotation({ factor: 0.1, seed: layerSeed }), new RandomTranslation({ heightFactor: 0.1, widthFactor: 0.1 })] });
    const model = make(3);
    const x = registry.makeTensor(ramps(2), [2, 2, S, S], 'float32');
    expect(registry.scope(() => model.forward(x))).toBe(x);
    expect(Array.from(model.predict(x).dataSync())).toEqual(Array.from(x.dataSync()));
    const run = (m: Sequential): number[] => registry.scope(() => Array.from(m.forward(x, { training: true }).dataSync()));
    const first = run(model);
    expect(run(model)).not.toEqual(first);
    expect(run(make(3))).toEqual(first);
    expect(run(make(5))).not.toEqual(first);
    model.layers.forEach((l) => l.restartRandomStream());
    expect(run(model)).toEqual(first);
    x.dispose();
    model.dispose();
  });

  it('go in front of the model: refused after a layer with parameters, at build and at load', () => {
    const build = (): Sequential => new Sequential({ registry, inputShape: [1, 8, 8], layers: [new Conv2D({ filters: 2, kernelSize: 3 }), new RandomZoom({ heightFactor: 0.1 })] });
    expect(build).toThrow(BackpropError);
    expect(build).toThrow('layer 1 (RandomZoom): has no input gradient, so it must come before every layer with parameters, but follows layer 0 (Conv2D); put the augmentation layers first');
    const ok = new Sequential({ registry, inputShape: [1, 8, 8], layers: [new RandomFlip(), new Conv2D({ filters: 2, kernelSize: 3 })] });
    const json = ok.toJSON();
    json.layers.reverse();
    expect(() => Sequential.fromJSON(json, { registry })).toThrow(/layer 1 \(RandomFlip\): has no input gradient/);
    ok.dispose();
  });

  it('backward stops in front of them; an input gradient through them is refused, naming the layer', () => {
    const model = new Sequential({ registry, seed: 2, inputShape: [1, 6, 6], layers: [new RandomRotation({ factor: 0.1 }), new Flatten(), new Dense({ units: 2 })] });
    registry.scope(() => {
      const x = registry.makeTensor(new Float32Array(72).fill(1), [2, 1, 6, 6], 'float32');
      model.forward(x, { training: true });
      const dy = registry.makeTensor([1, 0, 0, 1], [2, 2], 'float32');
      expect(model.backward(dy)).toBeUndefined();
      expect(model.params()[0].grad).toBeDefined();
      expect(() => model.backward(dy, { inputGradient: true })).toThrow('layer 0 (RandomRotation): has no input gradient after a training forward');
      // After an inference forward the layer is the identity, and so is its gradient.
      model.forward(x);
      expect(model.backward(dy, { inputGradient: true })!.shape).toEqual([2, 1, 6, 6]);
    });
    model.dispose();
  });

  it('gradCheck holds the transforms fixed: rotation + translation in front of conv → pool → dense', () => {
    const model = new Sequential({
      registry, seed: 7, inputShape: [1, 8, 8],
      layers: [
        new RandomRotation({ factor: 0.08 }), new RandomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }),
        new Conv2D({ filters: 2, kernelSize: 3, activation: 'tanh' }), new MaxPool2D({ poolSize: 2 }), new Flatten(), new Dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const rng = createRandom(3);
    const x = { values: Float32Array.from({ length: 3 * 64 }, () => rng.uniform(-1, 1)), shape: [3, 1, 8, 8] };
    const report = gradCheck(model, x, { values: [0, 2, 1], shape: [3] }, 'categoricalCrossentropy', { maxChecksPerTensor: 40 });
    expect(Object.keys(report)).toEqual(['conv2d_2/kernel', 'conv2d_2/bias', 'dense_5/kernel', 'dense_5/bias']);
    for (const [name, entry] of Object.entries(report)) expect(entry.maxRelativeError, name).toBeLessThanOrEqual(1e-6);
    model.dispose();
  });

  it('are saved with the topology (options and seed) and trained through by fit', async () => {
    const model = new Sequential({
      registry, seed: 5, inputShape: [1, 6, 6],
      layers: [
        new RandomFlip({ mode: 'vertical', seed: 1 }), new RandomTranslation({ heightFactor: 0.1, widthFactor: 0.2 }), new RandomRotation({ factor: 0.05 }),
        new RandomZoom({ heightFactor: 0.1, widthFactor: 0.05 }), new Flatten(), new Dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const rng = createRandom(2);
    const x = { values: Float32Array.from({ length: 16 * 36 }, () => rng.next()), shape: [16, 1, 6, 6] };
    const history = await model.fit(x, { values: Array.from({ length: 16 }, (_, i) => i % 2), shape: [16] }, { loss: 'categoricalCrossentropy', epochs: 2, batchSize: 8 });
    expect(history.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    const copy = fromArtifacts(toArtifacts(model), { registry });
    expect(copy.toJSON().layers.slice(0, 4)).toEqual([
      { className: 'RandomFlip', config: { name: 'random_flip_0', mode: 'vertical', seed: 1 } },
      { className: 'RandomTranslation', config: { name: 'random_translation_1', heightFactor: 0.1, widthFactor: 0.2, seed: undefined } },
      { className: 'RandomRotation', config: { name: 'random_rotation_2', factor: 0.05, seed: undefined } },
      { className: 'RandomZoom', config: { name: 'random_zoom_3', heightFactor: 0.1, widthFactor: 0.05, seed: undefined } },
    ]);
    expect(Array.from(copy.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    model.dispose();
    copy.dispose();
  });

  it('refuse bad options and inputs that are not images, naming them', () => {
    const cases: [() => unknown, string][] = [
      [() => new RandomRotation({ factor: 0.6 }), 'RandomRotation: factor must be a number in [0, 0.5], got 0.6'],
      [() => new RandomRotation({ factor: -0.1 }), 'RandomRotation: factor must be a number in [0, 0.5], got -0.1'],
      [() => new RandomRotation({} as never), 'RandomRotation: factor must be a number in [0, 0.5], got undefined'],
      [() => new RandomTranslation({ heightFactor: 0.1 } as never), 'RandomTranslation: widthFactor must be a number in [0, 1], got undefined'],
      [() => new RandomTranslation({ heightFactor: 1.5, widthFactor: 0 }), 'RandomTranslation: heightFactor must be a number in [0, 1], got 1.5'],
      [() => new RandomZoom({ heightFactor: 1 }), 'RandomZoom: heightFactor must be a number in [0, 1), got 1'],
      [() => new RandomZoom({ heightFactor: 0.1, widthFactor: Number.NaN }), 'RandomZoom: widthFactor must be a number in [0, 1), got NaN'],
      [() => new RandomFlip({ mode: 'diagonal' as never }), "RandomFlip: mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got 'diagonal'"],
      [() => new RandomFlip({ name: 'f', seed: Number.POSITIVE_INFINITY }), "RandomFlip 'f': seed must be a finite number, got Infinity"],
      [() => new Sequential({ registry, inputShape: [10], layers: [new RandomFlip()] }), 'layer 0 (RandomFlip): expects a (channels, height, width) input but got [10]'],
    ];
    for (const [make, message] of cases) {
      expect(make).toThrow(BackpropError);
      expect(make).toThrow(message);
    }
  });
});
