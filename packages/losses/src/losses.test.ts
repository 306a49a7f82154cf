import { cpuBackend } from '@backprop/backend-cpu';
import {
  BackpropError,
  Registry,
  RegistryError,
  tensor,
  sigmoid,
  sigmoidBackward,
  softmax,
  softmaxBackward,
  type Loss,
  type Tensor,
} from '@backprop/tensor';
import { asyncReadsOnly, testHelpers } from '@backprop/tensor/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  getLoss,
  halfSumSquares,
  l1,
  l2,
  l2norm,
  LOSS_FACTORIES,
  lossesPlugin,
  mae,
  mape,
  mse,
  msle,
  sigmoidCrossEntropyFromLogits,
  softmaxCrossEntropyFromLogits,
  toOneHot,
} from './index.js';

const { expectClose, f64, makeRandom, newRegistry } = testHelpers(cpuBackend);

let registry: Registry;
beforeEach(() => {
  registry = newRegistry();
});

const t = (values: number[], shape?: number[]): Tensor => f64(registry, values, shape);

function run(loss: Loss, predictions: Tensor, targets: Tensor): { loss: number; grad: number[]; shape: readonly number[] } {
  const r = loss.compute(predictions, targets);
  expect(r.loss.shape).toEqual([]);
  expect(r.grad.shape).toEqual(predictions.shape);
  return { loss: r.loss.scalarSync(), grad: Array.from(r.grad.dataSync()), shape: r.grad.shape };
}

describe('W8: regression losses (the worked examples (W1–W10 in apps/docs/math/))', () => {
  const y = [1, 2, 0];
  const yHat = [1.5, 1, 0.5];

  it('MSE', () => {
    const r = run(mse(), t(yHat), t(y));
    expectClose(r.loss, 0.5);
    expectClose(r.grad, [1 / 3, -2 / 3, 1 / 3]);
  });

  it('L2 (SSE, Eq 2.6 as written)', () => {
    const r = run(l2(), t(yHat), t(y));
    expectClose(r.loss, 1.5);
    expectClose(r.grad, [1, -2, 1]);
  });

  it('L1', () => {
    const r = run(l1(), t(yHat), t(y));
    expectClose(r.loss, 2);
    expectClose(r.grad, [1, -1, 1]);
  });

  it('MAE', () => {
    const r = run(mae(), t(yHat), t(y));
    expectClose(r.loss, 2 / 3);
    expectClose(r.grad, [1 / 3, -1 / 3, 1 / 3]);
  });

  it('[N] D = ½ SSE', () => {
    const r = run(halfSumSquares(), t(yHat), t(y));
    expectClose(r.loss, 0.75);
    expectClose(r.grad, [0.5, -1, 0.5]);
  });

  it('MAPE', () => {
    const r = run(mape(), t([1.5, 1, 5]), t([1, 2, 4]));
    expectClose(r.loss, 41.666667);
    expectClose(r.grad, [33.333333, -16.666667, 8.333333]);
    expectClose(r.loss, 125 / 3);
    expectClose(r.grad, [100 / 3, -50 / 3, 25 / 3]);
  });

  it('MSLE (corrected Eq 2.5)', () => {
    const r = run(msle(), t([1, 1, 1]), t([0, 1, 3]));
    expectClose(r.loss, 0.320302);
    expectClose(r.loss, (2 / 3) * Math.LN2 ** 2);
    expectClose(r.grad, [0.231049, 0, -0.231049]);
    expectClose(r.grad, [Math.LN2 / 3, 0, -Math.LN2 / 3]);
  });

  it('MSLE gradient is 0 where ŷ < 0, and log1p(max(v, 0)) clamps the value', () => {
    const r = run(msle(), t([-0.5, 2]), t([1, 1]));
    const l2v = Math.log1p(2) - Math.LN2;
    expectClose(r.loss, (Math.LN2 ** 2 + l2v ** 2) / 2);
    expectClose(r.grad, [0, (2 / 2) * l2v / 3]);
  });

  it('L2 and L1 scale with the batch, MSE and MAE do not (E12)', () => {
    const doubled = [...yHat, ...yHat];
    const doubledY = [...y, ...y];
    expectClose(run(l2(), t(doubled), t(doubledY)).loss, 3);
    expectClose(run(l1(), t(doubled), t(doubledY)).loss, 4);
    expectClose(run(mse(), t(doubled), t(doubledY)).loss, 0.5);
    expectClose(run(mae(), t(doubled), t(doubledY)).loss, 2 / 3);
  });

  it('l2norm is the root of SSE, gradient (ŷ − y)/‖ŷ − y‖, 0 at 0', () => {
    const r = run(l2norm(), t(yHat, [3, 1]), t(y, [3, 1]));
    const n = Math.sqrt(1.5);
    expectClose(r.loss, n);
    expectClose(r.grad, [0.5 / n, -1 / n, 0.5 / n]);
    expect(r.shape).toEqual([3, 1]);
    const z = run(l2norm(), t([1, 2]), t([1, 2]));
    expect(z.loss).toBe(0);
    expect(z.grad).toEqual([0, 0]);
  });

  it('MAPE uses max(|y|, 1e-7) when y = 0', () => {
    const r = run(mape(), t([0.5]), t([0]));
    expectClose(r.loss / 1e9, (100 * 0.5) / 1e-7 / 1e9);
    expectClose(r.grad[0] / 1e9, 100 / 1e-7 / 1e9);
  });
});

describe('W6 and W7: fused heads', () => {
  it('W6 softmax + CE, single rows, stable at x + 1000', () => {
    for (const shift of [0, 1000]) {
      const x = t([1 + shift, 2 + shift, 3 + shift], [1, 3]);
      const r2 = run(softmaxCrossEntropyFromLogits(), x, t([0, 0, 1], [1, 3]));
      expectClose(r2.loss, 0.407606);
      expectClose(r2.grad, [0.090031, 0.244728, -0.334759]);
      const r0 = run(softmaxCrossEntropyFromLogits(), x, t([1, 0, 0], [1, 3]));
      expectClose(r0.loss, 2.407606);
    }
  });

  it('W6 batch of 2', () => {
    const x = t([1, 2, 3, 0, 0, 0], [2, 3]);
    const y = toOneHot([2, 0], 3, { registry, dtype: 'float64' });
    const r = run(softmaxCrossEntropyFromLogits(), x, y);
    expectClose(r.loss, 0.753109);
    expectClose(r.grad, [0.045015, 0.122364, -0.16738, -1 / 3, 1 / 6, 1 / 6]);
    // The same through categoricalCrossentropy's fused path.
    const cce = categoricalCrossentropy();
    expect(cce.fusedActivation).toBe('softmax');
    const f = cce.computeFromLogits!(x, y);
    expectClose(f.loss.scalarSync(), 0.753109);
    expectClose(f.grad.dataSync(), r.grad);
  });

  it('W7 sigmoid + BCE from logits', () => {
    const single = (x: number, y: number) => run(sigmoidCrossEntropyFromLogits(), t([x]), t([y]));
    const a = single(0, 1);
    expectClose(a.loss, Math.LN2);
    expectClose(a.grad, [-0.5]);
    const b = single(2, 0);
    expectClose(b.loss, 2.126928);
    expectClose(b.grad, [0.880797]);
    const both = run(sigmoidCrossEntropyFromLogits(), t([0, 2]), t([1, 0]));
    expectClose(both.loss, 1.410038);
    expectClose(both.grad, [-0.25, 0.440399]);
    const big = single(40, 0);
    expectClose(big.loss, 40);
    expect(Number.isFinite(big.grad[0])).toBe(true);
    const bce = binaryCrossentropy();
    expect(bce.fusedActivation).toBe('sigmoid');
    const f = bce.computeFromLogits!(t([0, 2]), t([1, 0]));
    expectClose(f.loss.scalarSync(), 1.410038);
    expectClose(f.grad.dataSync(), [-0.25, 0.440399]);
  });

  it('W9 sigmoid + BCE variant: loss 0.644397 at ŷ = σ(0.1)', () => {
    const r = run(sigmoidCrossEntropyFromLogits(), t([0.1]), t([1]));
    expectClose(r.loss, 0.644397);
    expectClose(r.grad, [-0.475021]);
  });
});

describe('cross-entropy on probabilities', () => {
  it('binaryCrossentropy matches −(1/M) Σ [y log ŷ + (1−y) log(1−ŷ)] and (ŷ−y)/(M ŷ(1−ŷ))', () => {
    const p = [0.1, 0.7, 0.45, 0.99, 0.3, 0.5];
    const y = [0, 1, 1, 0, 0.25, 1];
    const M = p.length;
    let expected = 0;
    for (let i = 0; i < M; i++) expected -= (y[i] * Math.log(p[i]) + (1 - y[i]) * Math.log(1 - p[i])) / M;
    const r = run(binaryCrossentropy(), t(p, [2, 3]), t(y, [2, 3]));
    expectClose(r.loss, expected);
    expectClose(
      r.grad,
      p.map((pi, i) => (pi - y[i]) / (M * pi * (1 - pi))),
    );
  });

  it('binaryCrossentropy clamps each log at −100 and keeps the gradient finite', () => {
    const r = run(binaryCrossentropy(), t([0, 1, 1]), t([1, 0, 1]));
    expectClose(r.loss, 200 / 3);
    // (ŷ − y)/(M max(ŷ(1 − ŷ), 1e-12)) = ∓1/(3e-12) at the clamps, 0 where ŷ = y = 1.
    expectClose(r.grad.map((g) => g * 3e-12), [-1, 1, 0]);
  });

  it('categoricalCrossentropy divides by N and gives −y/(N p)', () => {
    const p = [0.2, 0.5, 0.3, 0.6, 0.1, 0.3];
    const y = [0, 1, 0, 0.5, 0.25, 0.25];
    const N = 2;
    let expected = 0;
    for (let i = 0; i < p.length; i++) expected -= (y[i] * Math.log(p[i])) / N;
    const r = run(categoricalCrossentropy(), t(p, [2, 3]), t(y, [2, 3]));
    expectClose(r.loss, expected);
    expectClose(r.grad, p.map((pi, i) => -y[i] / (N * pi)));
  });

  it('categoricalCrossentropy clamps log p at −100', () => {
    const r = run(categoricalCrossentropy(), t([0, 1, 0.5, 0.5], [2, 2]), t([1, 0, 0, 1], [2, 2]));
    expectClose(r.loss, (100 + Math.LN2) / 2);
    expect(Number.isFinite(r.grad[0])).toBe(true);
    expect(r.grad[0]).toBeLessThan(-1e40);
    expectClose(r.grad.slice(1), [0, 0, -1]);
  });

  it('float32 inputs stay finite at the clamps', () => {
    const p = registry.makeTensor([0, 1], [1, 2], 'float32');
    const y = registry.makeTensor([1, 0], [1, 2], 'float32');
    const r = categoricalCrossentropy().compute(p, y);
    expect(r.loss.dtype).toBe('float32');
    expectClose(r.loss.scalarSync(), 100, 1e-4);
    expect(Array.from(r.grad.dataSync()).every(Number.isFinite)).toBe(true);
  });
});

describe('fused vs unfused', () => {
  it('softmax → categoricalCrossentropy → softmaxBackward equals the fused gradient', () => {
    const rand = makeRandom(7);
    const x = t(Array.from({ length: 12 }, () => rand(-3, 3)), [3, 4]);
    const y = toOneHot([1, 3, 0], 4, { registry, dtype: 'float64' });
    const cce = categoricalCrossentropy();
    const p = softmax(x);
    const unfused = cce.compute(p, y);
    const chained = softmaxBackward(unfused.grad, p);
    const fused = cce.computeFromLogits!(x, y);
    expectClose(fused.loss.scalarSync(), unfused.loss.scalarSync(), 1e-9);
    expectClose(chained.dataSync(), fused.grad.dataSync(), 1e-9);
  });

  it('sigmoid → binaryCrossentropy → sigmoidBackward equals the fused gradient', () => {
    const rand = makeRandom(8);
    const x = t(Array.from({ length: 6 }, () => rand(-3, 3)), [2, 3]);
    const y = t([0, 1, 1, 0, 0.3, 1], [2, 3]);
    const bce = binaryCrossentropy();
    const s = sigmoid(x);
    const unfused = bce.compute(s, y);
    const chained = sigmoidBackward(unfused.grad, s);
    const fused = bce.computeFromLogits!(x, y);
    expectClose(fused.loss.scalarSync(), unfused.loss.scalarSync(), 1e-9);
    expectClose(chained.dataSync(), fused.grad.dataSync(), 1e-9);
  });
});

describe('finite-difference gradient check (float64, every loss)', () => {
  const rand = makeRandom(12345);
  const shape = [3, 4];
  const size = 12;
  const uniform = (lo: number, hi: number) => Array.from({ length: size }, () => rand(lo, hi));
  const awayFrom = (y: number[]) => y.map((v) => v + (rand() < 0.5 ? -1 : 1) * rand(0.2, 1));
  const softRows = () => {
    const out: number[] = [];
    for (let r = 0; r < 3; r++) {
      const row = Array.from({ length: 4 }, () => rand(0.1, 1));
      const s = row.reduce((a, b) => a + b, 0);
      out.push(...row.map((v) => v / s));
    }
    return out;
  };

  const cases: Array<[string, () => [number[], number[]]]> = [
    ['mse', () => [uniform(-2, 2), uniform(-2, 2)]],
    ['msle', () => [uniform(0.1, 3), uniform(-0.5, 3)]],
    ['l2', () => [uniform(-2, 2), uniform(-2, 2)]],
    ['l2norm', () => [uniform(-2, 2), uniform(-2, 2)]],
    ['halfSumSquares', () => [uniform(-2, 2), uniform(-2, 2)]],
    ['l1', () => { const y = uniform(-2, 2); return [awayFrom(y), y]; }],
    ['mae', () => { const y = uniform(-2, 2); return [awayFrom(y), y]; }],
    ['mape', () => { const y = uniform(0.5, 3).map((v, i) => (i % 2 ? -v : v)); return [awayFrom(y), y]; }],
    ['binaryCrossentropy', () => [uniform(0.05, 0.95), uniform(0, 1)]],
    ['categoricalCrossentropy', () => [uniform(0.05, 0.95), softRows()]],
    ['softmaxCrossEntropyFromLogits', () => [uniform(-3, 3), softRows()]],
    ['sigmoidCrossEntropyFromLogits', () => [uniform(-3, 3), uniform(0, 1)]],
  ];

  it('covers every registered loss', () => {
    expect(cases.map(([n]) => n).sort()).toEqual(Object.keys(LOSS_FACTORIES).sort());
  });

  for (const [name, make] of cases) {
    it(name, () => {
      const loss = LOSS_FACTORIES[name as keyof typeof LOSS_FACTORIES]();
      const [p, y] = make();
      const targets = t(y, shape);
      const analytic = Array.from(loss.compute(t(p, shape), targets).grad.dataSync());
      const value = (q: number[]) => registry.scope(() => loss.compute(t(q, shape), targets).loss.scalarSync());
      const h = 1e-6;
      for (let i = 0; i < size; i++) {
        const plus = p.slice();
        const minus = p.slice();
        plus[i] += h;
        minus[i] -= h;
        const numeric = (value(plus) - value(minus)) / (2 * h);
        const g = analytic[i];
        if (!(Math.abs(numeric - g) <= 1e-6 * Math.max(1, Math.abs(g)))) {
          throw new Error(`${name}: element ${i}: numeric ${numeric}, analytic ${g}`);
        }
      }
      if (loss.computeFromLogits && name.endsWith('Crossentropy')) {
        const xs = uniform(-3, 3);
        const fusedGrad = Array.from(loss.computeFromLogits(t(xs, shape), targets).grad.dataSync());
        const fusedValue = (q: number[]) =>
          registry.scope(() => loss.computeFromLogits!(t(q, shape), targets).loss.scalarSync());
        for (let i = 0; i < size; i++) {
          const plus = xs.slice();
          const minus = xs.slice();
          plus[i] += h;
          minus[i] -= h;
          const numeric = (fusedValue(plus) - fusedValue(minus)) / (2 * h);
          expect(Math.abs(numeric - fusedGrad[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fusedGrad[i])));
        }
      }
    });
  }
});

describe('memory', () => {
  it('only { loss, grad } survive a compute', () => {
    const p = t([0.2, 0.5, 0.3, 0.6, 0.1, 0.3], [2, 3]);
    const y = t([0, 1, 0, 1, 0, 0], [2, 3]);
    for (const [name, factory] of Object.entries(LOSS_FACTORIES)) {
      const loss = factory();
      const before = registry.memory().numTensors;
      const r = loss.compute(p, y);
      expect(registry.memory().numTensors, name).toBe(before + 2);
      r.loss.dispose();
      r.grad.dispose();
      expect(registry.memory().numTensors, name).toBe(before);
      if (loss.computeFromLogits) {
        const f = loss.computeFromLogits(p, y);
        expect(registry.memory().numTensors, name).toBe(before + 2);
        f.loss.dispose();
        f.grad.dispose();
      }
    }
  });

  it('targets of another float dtype are cast (and the copy freed)', () => {
    const p = t([1.5, 1, 0.5]);
    const y = registry.makeTensor([1, 2, 0], [3], 'float32');
    const before = registry.memory().numTensors;
    const r = mse().compute(p, y);
    expect(r.loss.dtype).toBe('float64');
    expectClose(r.loss.scalarSync(), 0.5);
    expect(registry.memory().numTensors).toBe(before + 2);
  });
});

describe('validation', () => {
  it('names the loss and both shapes', () => {
    const p = t(new Array(40).fill(0.1), [4, 10]);
    const y = t(new Array(12).fill(0), [4, 3]);
    expect(() => categoricalCrossentropy().compute(p, y)).toThrow(
      new BackpropError('categoricalCrossentropy', 'targets have shape [4, 3] but predictions have shape [4, 10]'),
    );
    expect(() => categoricalCrossentropy().compute(p, y)).toThrow(
      'categoricalCrossentropy: targets have shape [4, 3] but predictions have shape [4, 10]',
    );
    expect(() => mse().compute(t([1, 2, 3]), t([1, 2]))).toThrow('mse: targets have shape [2] but predictions have shape [3]');
  });

  it('suggests one-hot rows when integer labels are given to a categorical loss', () => {
    const p = t(new Array(6).fill(1 / 3), [2, 3]);
    expect(() => categoricalCrossentropy().compute(p, t([0, 2]))).toThrow(/toOneHot\(labels, 3\)/);
  });

  // compute reads nothing back: the value checks run on host values, through
  // checkValues (predictions and targets) and checkTargets (targets alone).
  const host = (values: number[], shape = [values.length]) => ({ values, shape });

  it('rejects categorical targets rows that are not distributions', () => {
    const p = host(new Array(6).fill(1 / 3), [2, 3]);
    expect(() => categoricalCrossentropy().checkValues!(p, host([1, 0, 0, -0.5, 1.5, 0], [2, 3]))).toThrow(
      /categoricalCrossentropy: targets row 1 is not a valid class distribution: it contains -0\.5 at position \[1, 0\]/,
    );
    expect(() => softmaxCrossEntropyFromLogits().checkValues!(p, host([1, 0, 0, 0, 0, 0], [2, 3]))).toThrow(
      /softmaxCrossEntropyFromLogits: targets row 1 sums to 0, not 1/,
    );
    expect(() => categoricalCrossentropy().checkValues!(p, host([0, 0.5, 0, 1, 0, 0], [2, 3]), true)).toThrow(/targets row 0 sums to 0\.5/);
    // The same checks on the targets alone, as Sequential runs them when data enters fit/evaluate.
    expect(() => categoricalCrossentropy().checkTargets!(host([0, 0.5, 0, 1, 0, 0], [2, 3]))).toThrow(/categoricalCrossentropy: targets row 0 sums to 0\.5/);
    expect(() => softmaxCrossEntropyFromLogits().checkTargets!(host([0, 1, 0, 1, 0, 0], [2, 3]))).not.toThrow();
  });

  it('names the argument and the first NaN index', () => {
    const good = host([0.1, 0.2, 0.3, 0.4], [2, 2]);
    const bad = host([0.1, 0.2, NaN, NaN], [2, 2]);
    expect(() => mse().checkValues!(bad, good)).toThrow('mse: predictions contain NaN at index 2 (position [1, 0] of shape [2, 2])');
    expect(() => mae().checkValues!(good, bad)).toThrow('mae: targets contain NaN at index 2');
    expect(() => mae().checkTargets!(bad)).toThrow('mae: targets contain NaN at index 2');
    expect(() => softmaxCrossEntropyFromLogits().checkValues!(bad, good)).toThrow('logits contain NaN at index 2');
    expect(() => l1().checkValues!(host([Infinity, 0]), host([0, 0]))).toThrow('l1: predictions contain Infinity at index 0');
    let caught: unknown;
    try {
      binaryCrossentropy().checkValues!(bad, good);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BackpropError);
    expect((caught as BackpropError).where).toBe('binaryCrossentropy');
  });

  it('probability losses reject values outside [0, 1] and point at the fused loss', () => {
    expect(() => binaryCrossentropy().checkValues!(host([0.5, 1.5]), host([0, 1]))).toThrow(
      /binaryCrossentropy: predictions must lie in \[0, 1\] but contain 1\.5 at index 1.*sigmoidCrossEntropyFromLogits/,
    );
    expect(() => sigmoidCrossEntropyFromLogits().checkValues!(host([0.5, 1.5]), host([0, 2]))).toThrow(
      /targets must lie in \[0, 1\] but contain 2 at index 1/,
    );
    expect(() => sigmoidCrossEntropyFromLogits().checkTargets!(host([0, 2]))).toThrow(/targets must lie in \[0, 1\] but contain 2 at index 1/);
    // Predictions are logits for computeFromLogits: only the targets are checked.
    expect(() => binaryCrossentropy().checkValues!(host([0.5, 1.5]), host([0, 1]), true)).not.toThrow();
  });

  it('compute checks shapes but reads no value back; validate: false turns the value checks off', () => {
    const r = mse().compute(t([NaN, 1]), t([0, 1]));
    expect(Number.isNaN(r.loss.scalarSync())).toBe(true);
    expect(binaryCrossentropy().compute(t([0.5, 0.5]), t([0, 2])).loss.size).toBe(1);
    const loss = mse({ validate: false });
    expect(loss.getConfig()).toEqual({ validate: false });
    expect(() => loss.checkValues!(host([NaN, 1]), host([0, 1]))).not.toThrow();
    expect(() => loss.checkTargets!(host([NaN, 1]))).not.toThrow();
  });

  it('the …FromLogits losses say that compute takes logits', () => {
    for (const [name, factory] of Object.entries(LOSS_FACTORIES)) expect(factory().fromLogits, name).toBe(name.endsWith('FromLogits'));
  });

  it('rejects unknown options and non-tensors', () => {
    expect(() => mse({ reduction: 'sum' })).toThrow("mse: unknown option 'reduction'; valid options: validate");
    expect(() => mse({ validate: 'yes' })).toThrow("mse: validate must be true or false, got 'yes'");
    expect(() => mse(null as never)).toThrow('mse: config must be an object, got null');
    expect(() => mse().compute(t([1, 2]), t([1, 2], [1, 2]))).toThrow('mse: targets have shape [1, 2] but predictions have shape [2]');
    expect(() => toOneHot([0], 2, { dtype: 'int8' as never })).toThrow("toOneHot: dtype must be 'float32', 'float64' or 'int32', got 'int8'");
    expect(() => toOneHot([0], 2, { registy: 1 } as never)).toThrow("toOneHot: unknown option 'registy'; valid options: dtype, registry");
    expect(() => mse().compute([1, 2] as never, t([1, 2]))).toThrow("mse: 'predictions' must be a Tensor, got [1, 2]");
    expect(() => categoricalCrossentropy().compute(t([0.5, 0.5]), t([1, 0]))).toThrow(
      "categoricalCrossentropy: 'predictions' must have rank 2 (batch, classes), got shape [2]",
    );
  });
});

describe('toOneHot', () => {
  it('builds one-hot rows from numbers or a tensor', () => {
    const a = toOneHot([2, 0, 1], 3, { registry, dtype: 'float64' });
    expect(a.shape).toEqual([3, 3]);
    expect(a.dtype).toBe('float64');
    expect(Array.from(a.dataSync())).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
    const b = toOneHot(t([1, 0]), 2);
    expect(b.dtype).toBe('float32');
    expect(Array.from(b.dataSync())).toEqual([0, 1, 1, 0]);
  });

  it('names the offending label index and value', () => {
    expect(() => toOneHot([0, 1, 2, 10], 10, { registry })).toThrow(
      new BackpropError('toOneHot', 'label 3 is 10, outside [0, 10)'),
    );
    expect(() => toOneHot([0, -1], 3, { registry })).toThrow('toOneHot: label 1 is -1, outside [0, 3)');
    expect(() => toOneHot(t([0, 1.5]), 3)).toThrow('toOneHot: label 1 is 1.5, not an integer class index');
    expect(() => toOneHot([0], 0, { registry })).toThrow('toOneHot: numClasses must be a positive integer, got 0');
    expect(() => toOneHot(t([0, 1], [1, 2]), 3)).toThrow('toOneHot: labels must have shape (batch), got [1, 2]');
  });
});

describe('backends without synchronous readback (async reads only, as WebGPU)', () => {
  const asyncRegistry = (): Registry => {
    const r = new Registry().use(asyncReadsOnly(cpuBackend, 'cpu'));
    r.setBackend('cpu');
    return r;
  };
  const on = (r: Registry, values: number[], shape?: number[]): Tensor => tensor(values, shape ?? [values.length], { registry: r, dtype: 'float64' });

  it('compute reads nothing back there either, and checkValues runs the same checks on host values', async () => {
    const r = asyncRegistry();
    const good = [0.1, 0.2, 0.3, 0.4];
    const bad = [0.1, 0.2, NaN, NaN];
    const out = mse().compute(on(r, bad, [2, 2]), on(r, good, [2, 2]));
    expect(Number.isNaN((await out.loss.data())[0])).toBe(true);
    const host = (values: number[], shape = [2, 2]) => ({ values, shape });
    expect(() => mse().checkValues!(host(bad), host(good))).toThrow('mse: predictions contain NaN at index 2 (position [1, 0] of shape [2, 2])');
    expect(() => binaryCrossentropy().checkValues!(host([3, -2], [2]), host([0, 2], [2]), true)).toThrow(/binaryCrossentropy: targets must lie in \[0, 1\] but contain 2/);
    expect(() => mse({ validate: false }).checkValues!(host(bad), host(good))).not.toThrow();
  });

  it('toOneHot takes labels on such a backend (checked only when given as numbers)', async () => {
    const r = asyncRegistry();
    const a = toOneHot(on(r, [1, 0]), 2);
    expect(Array.from(await a.data())).toEqual([0, 1, 1, 0]);
    expect(() => toOneHot([0, 5], 3, { registry: r })).toThrow('toOneHot: label 1 is 5, outside [0, 3)');
  });
});

describe('registry', () => {
  it('lossesPlugin registers every loss by name', () => {
    registry.use(lossesPlugin);
    expect(registry.plugins()).toContain('@backprop/losses');
    expect(registry.losses.names()).toEqual(Object.keys(LOSS_FACTORIES).sort());
    for (const name of registry.losses.names()) {
      const loss = registry.losses.get(name)();
      expect(loss.name).toBe(name);
    }
  });

  it('getLoss resolves names, Loss objects and JSON; configs round-trip', () => {
    registry.use(lossesPlugin);
    const loss = getLoss('categoricalCrossentropy', registry);
    expect(loss.name).toBe('categoricalCrossentropy');
    expect(getLoss(loss, registry)).toBe(loss);
    const quiet = getLoss({ name: 'mse', config: { validate: false } }, registry);
    const again = getLoss({ name: quiet.name, config: quiet.getConfig() }, registry);
    expect(again.getConfig()).toEqual({ validate: false });
    expect(() => getLoss('nope', registry)).toThrow(RegistryError);
    expect(() => getLoss('nope', registry)).toThrow(/unknown loss 'nope'; registered: .*mse/);
    expect(() => getLoss(42 as never, registry)).toThrow("loss: expected the name of a registered loss or { name, config }, got 42");
  });

  it('getLoss falls back to the built-in losses before the plugin is installed', () => {
    expect(getLoss('mae', registry).name).toBe('mae');
  });

  it('the register entry installs into the default registry', async () => {
    const { defaultRegistry } = await import('@backprop/tensor');
    await import('./register.js');
    expect(defaultRegistry.losses.has('binaryCrossentropy')).toBe(true);
  });
});
