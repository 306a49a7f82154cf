import { cpuBackend } from '@backprop/backend-cpu';
import { BackpropError, createRandom, Registry, sizeOfShape, type Tensor } from '@backprop/tensor';
import { checkGradient, expectArraysClose } from '@backprop/tensor/testing';
import { describe, expect, it } from 'vitest';
import {
  AvgPool2D,
  Conv2D,
  Dense,
  Flatten,
  L2Pool2D,
  type Layer,
  LeakyReLU,
  layersPlugin,
  MaxPool2D,
  ReLU,
  Sequential,
  Sigmoid,
  Softmax,
  Tanh,
} from './index.js';

const registry = new Registry().use(cpuBackend, layersPlugin);
const f64 = (values: number[], shape: number[]): Tensor => registry.makeTensor(values, shape, 'float64');

/** Builds a one-layer float64 model and sets its weights by short name. */
function single(layer: Layer, inputShape: number[], weights: Record<string, number[]> = {}): Sequential {
  const model = new Sequential({ inputShape, layers: [layer], dtype: 'float64', registry, seed: 3 });
  if (Object.keys(weights).length) {
    model.setWeights(
      model.params().map((p) => ({ name: p.name, shape: p.value.shape, values: Float64Array.from(weights[p.name.split('/')[1]]) })),
    );
  }
  return model;
}

const X4 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

describe('worked examples of apps/docs/math through the layer API', () => {
  it('W2: Conv2D stride 1, no padding — forward and all three gradients', () => {
    const model = single(new Conv2D({ filters: 1, kernelSize: 2 }), [1, 4, 4], { kernel: [1, 2, 3, 4], bias: [1] });
    registry.scope(() => {
      const y = model.forward(f64(X4, [1, 1, 4, 4]), { training: true });
      expect(Array.from(y.dataSync())).toEqual([45, 55, 65, 85, 95, 105, 125, 135, 145]);
      const dx = model.backward(f64([1, 0, -1, 0, 2, 0, 1, 0, 0], [1, 1, 3, 3]), { inputGradient: true })!;
      const [kernel, bias] = model.params();
      expect(Array.from(kernel.grad!.dataSync())).toEqual([19, 22, 31, 34]);
      expect(Array.from(bias.grad!.dataSync())).toEqual([3]);
      expect(Array.from(dx.dataSync())).toEqual([1, 2, -1, -2, 3, 6, 1, -4, 1, 8, 8, 0, 3, 4, 0, 0]);
    });
  });

  it('W3: Conv2D stride 2, padding 1', () => {
    const model = single(new Conv2D({ filters: 1, kernelSize: 2, strides: 2, padding: 1 }), [1, 4, 4], { kernel: [1, 2, 3, 4], bias: [1] });
    registry.scope(() => {
      const y = model.forward(f64(X4, [1, 1, 4, 4]), { training: true });
      expect(Array.from(y.dataSync())).toEqual([5, 19, 13, 47, 95, 45, 27, 45, 17]);
      const dx = model.backward(f64([1, -1, 0, 0, 2, 1, 1, 0, -1], [1, 1, 3, 3]), { inputGradient: true })!;
      const [kernel, bias] = model.params();
      expect(Array.from(kernel.grad!.dataSync())).toEqual([4, 27, 30, 20]);
      expect(Array.from(bias.grad!.dataSync())).toEqual([3]);
      expect(Array.from(dx.dataSync())).toEqual([4, -3, -4, 0, 0, 2, 4, 1, 0, 6, 8, 3, 2, 0, 0, -1]);
    });
  });

  const W4X = [1, 3, 2, 1, 4, 2, 0, 1, 5, 6, 1, 2, 7, 8, 3, 3];
  const W4G = [1, 2, 3, 4];

  it('W4: MaxPool2D routes to the first maximum (the tie goes to (3,2))', () => {
    const model = single(new MaxPool2D({ poolSize: 2 }), [1, 4, 4]);
    registry.scope(() => {
      expect(Array.from(model.forward(f64(W4X, [1, 1, 4, 4])).dataSync())).toEqual([4, 2, 8, 3]);
      const dx = model.backward(f64(W4G, [1, 1, 2, 2]), { inputGradient: true })!;
      expect(Array.from(dx.dataSync())).toEqual([0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0]);
    });
  });

  it('W4: AvgPool2D', () => {
    const model = single(new AvgPool2D({ poolSize: 2 }), [1, 4, 4]);
    registry.scope(() => {
      expect(Array.from(model.forward(f64(W4X, [1, 1, 4, 4])).dataSync())).toEqual([2.5, 1, 6.5, 2.25]);
      const dx = model.backward(f64(W4G, [1, 1, 2, 2]), { inputGradient: true })!;
      expect(Array.from(dx.dataSync())).toEqual([0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 0.75, 0.75, 1, 1]);
    });
  });

  it('W4: L2Pool2D', () => {
    const model = single(new L2Pool2D({ poolSize: 2 }), [1, 4, 4]);
    registry.scope(() => {
      expectArraysClose(model.forward(f64(W4X, [1, 1, 4, 4])).dataSync(), [5.477226, 2.44949, 13.190906, 4.795832], { atol: 1e-6, rtol: 0 });
      const dx = Array.from(model.backward(f64(W4G, [1, 1, 2, 2]), { inputGradient: true })!.dataSync());
      expectArraysClose([dx[2], dx[3], dx[6], dx[7]], [1.632993, 0.816497, 0, 0.816497], { atol: 1e-6, rtol: 0 });
    });
  });

  it('W5: activation layers (derivatives at the points of the worked example)', () => {
    const grad = (layer: Layer, x: number[]): number[] => {
      const model = single(layer, [x.length]);
      return registry.scope(() => {
        model.forward(f64(x, [1, x.length]));
        return Array.from(model.backward(f64(x.map(() => 1), [1, x.length]), { inputGradient: true })!.dataSync());
      });
    };
    expectArraysClose(grad(new Sigmoid(), [0, 2]), [0.25, 0.104994], { atol: 1e-6, rtol: 0 });
    expectArraysClose(grad(new Tanh(), [0.5]), [0.786448], { atol: 1e-6, rtol: 0 });
    expect(grad(new ReLU(), [0, 1, -1])).toEqual([0, 1, 0]);
    expectArraysClose(grad(new LeakyReLU({ alpha: 0.01 }), [0, 1, -1]), [0.01, 1, 0.01], { atol: 1e-12, rtol: 0 });
    const softmax = single(new Softmax(), [3]);
    registry.scope(() => {
      softmax.forward(f64([1, 2, 3], [1, 3]));
      const dx = softmax.backward(f64([1, 0, 0], [1, 3]), { inputGradient: true })!;
      expectArraysClose(dx.dataSync(), [0.081925, -0.022033, -0.059892], { atol: 1e-6, rtol: 0 });
    });
  });

  it('W10: Dense forward and gradients for a batch of 2', () => {
    const model = single(new Dense({ units: 2 }), [2], { kernel: [0.5, -0.25, 1, 0.5], bias: [0.1, -0.2] });
    registry.scope(() => {
      const z = model.forward(f64([1, 2, 0, -1], [2, 2]), { training: true });
      expectArraysClose(z.dataSync(), [0.1, 1.8, 0.35, -0.7], { atol: 1e-12, rtol: 0 });
      const dx = model.backward(f64([1, -1, 0.5, 2], [2, 2]), { inputGradient: true })!;
      const [kernel, bias] = model.params();
      expectArraysClose(kernel.grad!.dataSync(), [1, 1.5, -1, -4], { atol: 1e-12, rtol: 0 });
      expectArraysClose(bias.grad!.dataSync(), [1.5, 1], { atol: 1e-12, rtol: 0 });
      expectArraysClose(dx.dataSync(), [-0.5, -0.75, 2.25, 0.875], { atol: 1e-12, rtol: 0 });
    });
  });

  it('Flatten uses the (c, h, w) → cHW + hW + w order and unflattens the gradient', () => {
    const model = single(new Flatten(), [2, 2, 2]);
    registry.scope(() => {
      const values = [0, 1, 2, 3, 4, 5, 6, 7];
      const y = model.forward(f64(values, [1, 2, 2, 2]));
      expect(y.shape).toEqual([1, 8]);
      expect(Array.from(y.dataSync())).toEqual(values);
      const dx = model.backward(f64(values, [1, 8]), { inputGradient: true })!;
      expect(dx.shape).toEqual([1, 2, 2, 2]);
    });
  });
});

/**
 * L = Σ G ⊙ layer(x) with a random G: the analytic ∂L/∂x and ∂L/∂θ from `backward`
 * must match central differences in float64 (the gradient-check rule of apps/docs/math/backprop.md).
 */
function gradientCheckLayer(layer: Layer, inputShape: number[], batch: number, seed: number, inputs?: (rng: ReturnType<typeof createRandom>) => number): void {
  const rng = createRandom(seed);
  const model = single(layer, inputShape);
  const xSize = batch * sizeOfShape(inputShape);
  // Inputs away from 0 avoid the ReLU kink; distinct values avoid max-pool ties.
  const x = Float64Array.from({ length: xSize }, () => (inputs ? inputs(rng) : (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.1, 1)));
  const outShape = [batch, ...model.outputShape];
  const g = Float64Array.from({ length: sizeOfShape(outShape) }, () => rng.normal());
  const lossAt = (xs: Float64Array): number =>
    registry.scope(() => {
      const y = model.forward(registry.makeTensor(xs, [batch, ...inputShape], 'float64')).dataSync();
      let s = 0;
      for (let i = 0; i < y.length; i++) s += g[i] * y[i];
      return s;
    });
  const { dx, grads } = registry.scope(() => {
    model.forward(registry.makeTensor(x, [batch, ...inputShape], 'float64'), { training: true });
    const dxT = model.backward(registry.makeTensor(g, outShape, 'float64'), { inputGradient: true })!;
    return { dx: dxT.dataSync(), grads: model.params().map((p) => p.grad!.dataSync()) };
  });
  checkGradient(lossAt, x, dx, { label: `${layer.className} ∂x` });
  model.params().forEach((param, i) => {
    const original = param.value.dataSync() as Float64Array;
    const lossAtParam = (values: Float64Array): number => {
      const old = param.value;
      param.value = registry.keep(registry.makeTensor(values, old.shape, 'float64'));
      old.dispose();
      return lossAt(x);
    };
    checkGradient(lossAtParam, original, grads[i], { label: `${layer.className} ∂${param.name}` });
  });
}

describe('finite-difference gradient checks of every layer (float64, random shapes)', () => {
  it('Conv2D over strides, paddings, channels and fused activations', () => {
    const cases: [Conv2D, number[], number][] = [
      [new Conv2D({ filters: 3, kernelSize: 3, strides: 2, padding: 1, activation: 'relu' }), [2, 7, 6], 2],
      [new Conv2D({ filters: 2, kernelSize: [2, 3], strides: [1, 2], padding: [0, 2], activation: 'tanh' }), [3, 5, 5], 3],
      [new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'sigmoid' }), [1, 5, 5], 1],
      [new Conv2D({ filters: 2, kernelSize: 2, strides: 3, activation: 'leakyRelu', alpha: 0.2 }), [2, 8, 7], 2],
      [new Conv2D({ filters: 2, kernelSize: 3, useBias: false }), [1, 4, 4], 2],
    ];
    cases.forEach(([layer, shape, batch], i) => gradientCheckLayer(layer, shape, batch, 10 + i));
  });

  it('Dense with each activation', () => {
    for (const activation of ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax'] as const) {
      gradientCheckLayer(new Dense({ units: 4, activation }), [5], 3, 20);
    }
  });

  it('pooling layers, including overlapping windows and non-dividing sizes', () => {
    const distinct = (rng: ReturnType<typeof createRandom>): number => rng.uniform(-1, 1);
    gradientCheckLayer(new MaxPool2D({ poolSize: 2 }), [2, 5, 5], 2, 30, distinct);
    gradientCheckLayer(new MaxPool2D({ poolSize: 3, strides: 2 }), [1, 7, 6], 2, 31, distinct);
    gradientCheckLayer(new AvgPool2D({ poolSize: [2, 3], strides: 1 }), [2, 4, 5], 2, 32);
    gradientCheckLayer(new L2Pool2D({ poolSize: 2, strides: 1 }), [2, 4, 4], 2, 33);
  });

  it('activation layers and Flatten', () => {
    for (const layer of [new ReLU(), new LeakyReLU({ alpha: 0.3 }), new Sigmoid(), new Tanh()]) gradientCheckLayer(layer, [2, 3, 3], 2, 40);
    gradientCheckLayer(new Softmax(), [6], 3, 41);
    gradientCheckLayer(new Flatten(), [2, 3, 2], 2, 42);
  });
});

describe('layer configuration errors', () => {
  it('names the layer type and the bad option', () => {
    expect(() => new Conv2D({ filters: 0, kernelSize: 3 })).toThrow('Conv2D: filters must be a positive integer ≤ 2147483647, got 0');
    expect(() => new Conv2D({ filters: 2, kernelSize: 3, strides: 0 })).toThrow(/strides must be a positive integer/);
    expect(() => new Dense({ units: 3, activation: 'swish' as never })).toThrow(
      "Dense: activation must be 'linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'softmax', got 'swish'",
    );
    expect(() => new MaxPool2D({ poolSize: -1 })).toThrow(/MaxPool2D: poolSize must be a positive integer/);
    expect(() => new Conv2D({ filters: 2, kernelSize: 3, activation: 'softmax' as never })).toThrow(/softmax/);
    // A negative slope would flip the sign test the fused backward relies on.
    expect(() => new Dense({ units: 2, activation: 'leakyRelu', alpha: -0.1 })).toThrow('Dense: alpha (the leaky ReLU slope) must be a finite number ≥ 0, got -0.1');
    expect(() => new Conv2D({ filters: 2, kernelSize: 3, alpha: Number.NaN })).toThrow('Conv2D: alpha (the leaky ReLU slope) must be a finite number ≥ 0, got NaN');
    expect(() => new LeakyReLU({ alpha: -1 })).toThrow('LeakyReLU: alpha (the leaky ReLU slope) must be a finite number ≥ 0, got -1');
  });

  it('rejects out-of-range, fractional, non-finite and mistyped options (as a hand-edited model.json has them)', () => {
    const cases: [() => unknown, string | RegExp][] = [
      // 1e308 is an integer to Number.isInteger: it used to become an Infinity shape deep in the build.
      [() => new Conv2D({ filters: 2, kernelSize: 3, padding: 1e308 }), 'Conv2D: padding must be a non-negative integer ≤ 2147483647 or a [height, width] pair of them, got 1e+308'],
      [() => new Conv2D({ filters: 2, kernelSize: 2.5 }), 'Conv2D: kernelSize must be a positive integer ≤ 2147483647 or a [height, width] pair of them, got 2.5'],
      [() => new Conv2D({ filters: 2, kernelSize: [3, Number.NaN] }), 'Conv2D: kernelSize must be a positive integer ≤ 2147483647 or a [height, width] pair of them, got [3, NaN]'],
      [() => new Conv2D({ filters: 2, kernelSize: 3, strides: Number.POSITIVE_INFINITY }), /Conv2D: strides must be .* got Infinity/],
      [() => new Conv2D({ filters: 2, kernelSize: 3, padding: 'full' as never }), "Conv2D: padding must be 'valid' or 'same', got 'full'"],
      [() => new Conv2D({ filters: 2, kernelSize: 3, padding: -1 }), /Conv2D: padding must be a non-negative integer/],
      [() => new Conv2D({ filters: 2 ** 31, kernelSize: 3 }), 'Conv2D: filters must be a positive integer ≤ 2147483647, got 2147483648'],
      [() => new Conv2D({ filters: 2, kernelSize: 3, useBias: 'no' as never }), "Conv2D: useBias must be true or false, got 'no'"],
      [() => new Conv2D({ name: 'c1', filters: [2, 3] as never, kernelSize: 3 }), "Conv2D 'c1': filters must be a positive integer ≤ 2147483647, got [2, 3]"],
      // A pair used to be accepted for units, silently keeping its first entry.
      [() => new Dense({ units: [5, 7] as never }), 'Dense: units must be a positive integer ≤ 2147483647, got [5, 7]'],
      [() => new Dense({ units: 0.5 }), 'Dense: units must be a positive integer ≤ 2147483647, got 0.5'],
      [() => new Dense({ units: '10' as never }), "Dense: units must be a positive integer ≤ 2147483647, got '10'"],
      [() => new Dense({ units: 3, useBias: 1 as never }), 'Dense: useBias must be true or false, got 1'],
      [() => new Dense(undefined as never), 'Dense: units must be a positive integer ≤ 2147483647, got undefined'],
      [() => new Dense(null as never), 'Dense: config must be an object, got null'],
      [() => new Dense(8 as never), 'Dense: config must be an object, got 8'],
      [() => new Dense({ units: 3, name: 3 as never }), 'Dense: name must be a non-empty string, got 3'],
      [() => new MaxPool2D({ poolSize: 1e308 }), /MaxPool2D: poolSize must be a positive integer ≤ 2147483647 .* got 1e\+308/],
      [() => new AvgPool2D({ strides: [2, 0.5] }), /AvgPool2D: strides must be .* got \[2, 0\.5\]/],
      [() => new Flatten(null as never), 'Flatten: config must be an object, got null'],
      [() => new ReLU({ name: '' }), "ReLU: name must be a non-empty string, got ''"],
    ];
    for (const [make, message] of cases) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(BackpropError);
      expect(() => { throw error; }).toThrow(message);
    }
  });

  it('units is a scalar option: a [h, w] pair is an error, and its message never offers a pair', () => {
    // units went through the [height, width] pair parser: [3, 99] built a 3-unit layer
    // and units: 0 was told it could be "a [height, width] pair".
    for (const units of [[3, 99], [3, 3], [3]]) {
      expect(() => new Dense({ units: units as never }), JSON.stringify(units)).toThrow(BackpropError);
    }
    for (const units of [0, -1, 1.5, [3, 99]]) {
      let message = '';
      try {
        new Dense({ units: units as never });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^Dense: units must be a positive integer ≤ 2147483647, got /);
      expect(message).not.toMatch(/pair|height|width/);
    }
    expect(() => new Conv2D({ filters: [2, 2] as never, kernelSize: 3 })).toThrow("Conv2D: filters must be a positive integer ≤ 2147483647, got [2, 2]");
  });

  it('saved topologies go through the same checks: the error names the layer index, type and option', () => {
    const json = (config: Record<string, unknown>) => ({
      format: 'backprop.sequential', formatVersion: 1, name: 'm', inputShape: [1, 8, 8], dtype: 'float32', seed: 1,
      layers: [{ className: 'Conv2D', config }, { className: 'Flatten', config: {} }, { className: 'Dense', config: { units: 2 } }],
    });
    expect(() => Sequential.fromJSON(json({ filters: 2, kernelSize: 3, padding: 1e308 }), { registry })).toThrow(
      'model JSON layer 0: Conv2D: padding must be a non-negative integer ≤ 2147483647 or a [height, width] pair of them, got 1e+308',
    );
    expect(() => Sequential.fromJSON(json({ filters: 2, kernelSize: 1.5 }), { registry })).toThrow(/^model JSON layer 0: Conv2D: kernelSize must be a positive integer/);
    expect(() => Sequential.fromJSON({ ...json({ filters: 2, kernelSize: 3 }), seed: 'x' }, { registry })).toThrow("model JSON: seed must be a finite number, got 'x'");
    expect(() => Sequential.fromJSON({ ...json({ filters: 2, kernelSize: 3 }), layers: [{ className: 'Dense', config: null }] }, { registry })).toThrow(
      "model JSON: layers[0] must be { className: string, config: object }, got { className: 'Dense', config: null }",
    );
  });

  it('sizes beyond what a tensor may hold fail before anything is allocated, naming the layer and the shape', () => {
    const before = registry.memory().numTensors;
    // A Dense layer of 1e9 units: the kernel alone would be 3 TB.
    expect(() => new Sequential({ registry, inputShape: [1, 28, 28], layers: [new Flatten(), new Dense({ units: 1e9 })] })).toThrow(
      "layer 1 (Dense): parameter 'kernel' of shape [1000000000, 784] has 784,000,000,000 values, more than the 536,870,912 float32 values one tensor may hold",
    );
    // Even a single input feature: the bias and kernel of 1e9 float32 values each are over the 2 GiB limit.
    expect(() => new Sequential({ registry, inputShape: [1], layers: [new Dense({ units: 1e9 })] })).toThrow(/layer 0 \(Dense\): parameter 'kernel' of shape \[1000000000, 1\]/);
    // A Conv2D on a 20000×20000 input: one sample's output would be 3.2e9 values.
    expect(() => new Sequential({ registry, inputShape: [1, 20000, 20000], layers: [new Conv2D({ filters: 8, kernelSize: 3 })] })).toThrow(
      'layer 0 (Conv2D): output of shape [8, 19998, 19998] has 3,199,360,032 values per sample, more than the 536,870,912 float32 values one tensor may hold',
    );
    expect(() => new Sequential({ registry, inputShape: [1, 30000, 30000], layers: [new Flatten()] })).toThrow(
      'Sequential: inputShape [1, 30000, 30000] has 900,000,000 values per sample, more than the 536,870,912 float32 values one tensor may hold',
    );
    // The first layers fit and were checked, the last one fails: nothing is allocated, nothing leaks.
    expect(() =>
      new Sequential({ registry, inputShape: [1, 8, 8], layers: [new Conv2D({ filters: 4, kernelSize: 3 }), new Flatten(), new Dense({ units: 2 ** 30 })] }),
    ).toThrow(/layer 2 \(Dense\): parameter 'kernel'/);
    expect(registry.memory().numTensors).toBe(before);
  });

  it('rejects an input of the wrong shape at forward time with the layer label', () => {
    const model = single(new Dense({ units: 2 }), [3]);
    expect(() => registry.scope(() => model.forward(f64([1, 2, 3, 4], [1, 4])))).toThrow(/expected input of shape \[batch, 3\] but got \[1, 4\]/);
  });
});
