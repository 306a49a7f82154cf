import {
  adamUpdate, argMax, avgPool, avgPoolBackward, biasGrad, cast, conv2d, conv2dBackwardFilter, conv2dBackwardInput,
  l2Pool, l2PoolBackward, leakyRelu, leakyReluBackward, logSoftmax, matMul, max, maxPool, maxPoolBackward,
  momentumUpdate, oneHot, relu, reluBackward, rmspropUpdate, sgdUpdate, sigmoid, sigmoidBackward,
  sigmoidCrossEntropy, sign, softmax, softmaxBackward, softmaxCrossEntropy, sum, tanh, tanhBackward,
  KERNEL_NAMES,
} from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, makeRegistry, t } from './testUtil.js';

const X = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const K = [1, 2, 3, 4];

describe('registration', () => {
  it('registers every kernel of the spec', () => {
    const r = makeRegistry();
    expect(r.kernelNames('cpu').sort()).toEqual([...KERNEL_NAMES].sort());
    expect(r.backendName).toBe('cpu');
  });
});

describe.each(['float64', 'float32'] as const)('worked examples of apps/docs/math/ (%s)', (dtype) => {
  const tol = dtype === 'float64' ? 1e-9 : 1e-5;

  it('W2: conv stride 1, no padding (forward, ∂b, ∂K, ∂X)', () => {
    const r = makeRegistry();
    const x = t(r, X, [1, 1, 4, 4], dtype), k = t(r, K, [1, 1, 2, 2], dtype), b = t(r, [1], [1], dtype);
    const y = conv2d(x, k, { bias: b });
    expect(y.dtype).toBe(dtype);
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(Array.from(y.dataSync())).toEqual([45, 55, 65, 85, 95, 105, 125, 135, 145]);
    const g = t(r, [1, 0, -1, 0, 2, 0, 1, 0, 0], [1, 1, 3, 3], dtype);
    expect(Array.from(biasGrad(g).dataSync())).toEqual([3]);
    expect(Array.from(conv2dBackwardFilter(x, g, [1, 1, 2, 2]).dataSync())).toEqual([19, 22, 31, 34]);
    expect(Array.from(conv2dBackwardInput(g, k, [1, 1, 4, 4]).dataSync())).toEqual([
      1, 2, -1, -2, 3, 6, 1, -4, 1, 8, 8, 0, 3, 4, 0, 0,
    ]);
  });

  it('W3: conv stride 2, padding 1', () => {
    const r = makeRegistry();
    const x = t(r, X, [1, 1, 4, 4], dtype), k = t(r, K, [1, 1, 2, 2], dtype), b = t(r, [1], [1], dtype);
    const opts = { strides: 2, pad: 1 } as const;
    expect(Array.from(conv2d(x, k, { ...opts, bias: b }).dataSync())).toEqual([5, 19, 13, 47, 95, 45, 27, 45, 17]);
    const g = t(r, [1, -1, 0, 0, 2, 1, 1, 0, -1], [1, 1, 3, 3], dtype);
    expect(Array.from(conv2dBackwardFilter(x, g, [1, 1, 2, 2], opts).dataSync())).toEqual([4, 27, 30, 20]);
    expect(Array.from(conv2dBackwardInput(g, k, [1, 1, 4, 4], opts).dataSync())).toEqual([
      4, -3, -4, 0, 0, 2, 4, 1, 0, 6, 8, 3, 2, 0, 0, -1,
    ]);
  });

  it('W1: (5,2,2,0) leaves the last row and column unread, so their ∂X is 0', () => {
    const r = makeRegistry();
    const g = t(r, [1, 1, 1, 1], [1, 1, 2, 2], dtype), k = t(r, K, [1, 1, 2, 2], dtype);
    const dx = conv2dBackwardInput(g, k, [1, 1, 5, 5], { strides: 2 }).dataSync();
    for (let i = 0; i < 5; i++) {
      expect(dx[4 * 5 + i]).toBe(0);
      expect(dx[i * 5 + 4]).toBe(0);
    }
    expect(Array.from(dx.slice(0, 4))).toEqual([1, 2, 1, 2]);
  });

  it('W4: max / average / L2 pooling with the tie', () => {
    const r = makeRegistry();
    const x = t(r, [1, 3, 2, 1, 4, 2, 0, 1, 5, 6, 1, 2, 7, 8, 3, 3], [1, 1, 4, 4], dtype);
    const g = t(r, [1, 2, 3, 4], [1, 1, 2, 2], dtype);
    const opts = { poolSize: 2 } as const;
    expect(Array.from(maxPool(x, opts).dataSync())).toEqual([4, 2, 8, 3]);
    expect(Array.from(maxPoolBackward(g, x, opts).dataSync())).toEqual([0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0]);
    expect(Array.from(avgPool(x, opts).dataSync())).toEqual([2.5, 1, 6.5, 2.25]);
    expectClose(avgPoolBackward(g, [1, 1, 4, 4], opts).dataSync(), [
      0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 0.75, 0.75, 1, 1,
    ], tol);
    const y = l2Pool(x, opts);
    expectClose(y.dataSync(), [Math.sqrt(30), Math.sqrt(6), Math.sqrt(174), Math.sqrt(23)], tol);
    const dx = l2PoolBackward(g, x, y, opts).dataSync();
    expectClose([dx[2], dx[3], dx[6], dx[7]], [1.632993, 0.816497, 0, 0.816497], 1e-5);
  });

  it('maxPool: NaN wins and propagates, overlapping windows accumulate', () => {
    const r = makeRegistry();
    const x = t(r, [1, 2, 5, 2, NaN, 9, 0, 1, 2], [1, 1, 3, 3], dtype);
    for (const poolSize of [2, 3] as const) {
      const y = maxPool(x, { poolSize, strides: 1 }).dataSync();
      for (const v of y) expect(v).toBeNaN();
    }
    const x2 = t(r, [1, 2, 3, 4, 9, 5, 6, 7, 8], [1, 1, 3, 3], dtype);
    const g = t(r, [1, 1, 1, 1], [1, 1, 2, 2], dtype);
    // 9 is the max of all four overlapping 2×2 windows.
    expect(Array.from(maxPoolBackward(g, x2, { poolSize: 2, strides: 1 }).dataSync())).toEqual([0, 0, 0, 0, 4, 0, 0, 0, 0]);
    const x3 = t(r, [1, NaN, 3, NaN, 0, 0, 0, 0, 0], [1, 1, 3, 3], dtype);
    // First NaN in row-major window order takes the gradient.
    expect(Array.from(maxPoolBackward(t(r, [1], [1, 1, 1, 1], dtype), x3, { poolSize: 3 }).dataSync()))
      .toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0]);
    // 3×3 pool, generic path, with a tie
    const x4 = t(r, [7, 1, 7, 0, 7, 0, 0, 0, 0], [1, 1, 3, 3], dtype);
    expect(Array.from(maxPoolBackward(t(r, [5], [1, 1, 1, 1], dtype), x4, { poolSize: 3 }).dataSync()))
      .toEqual([5, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('W5: activations and their derivative conventions', () => {
    const r = makeRegistry();
    const x = t(r, [0, 2, -2, -800, 800], [5], dtype);
    const s = sigmoid(x);
    expectClose(s.dataSync(), [0.5, 0.880797, 0.119203, 0, 1], 1e-6);
    const ones = t(r, [1, 1, 1, 1, 1], [5], dtype);
    expectClose(sigmoidBackward(ones, s).dataSync(), [0.25, 0.104994, 0.104994, 0, 0], 1e-6);
    const th = tanh(t(r, [0.5], [1], dtype));
    expectClose(tanhBackward(t(r, [1], [1], dtype), th).dataSync(), [0.786448], 1e-6);
    const z = t(r, [-1, 0, 2], [3], dtype), gz = t(r, [1, 1, 1], [3], dtype);
    expect(Array.from(relu(z).dataSync())).toEqual([0, 0, 2]);
    expect(Array.from(reluBackward(gz, z).dataSync())).toEqual([0, 0, 1]);
    expectClose(leakyRelu(z, 0.01).dataSync(), [-0.01, 0, 2], tol);
    expectClose(leakyReluBackward(gz, z, 0.01).dataSync(), [0.01, 0.01, 1], tol);
    const sm = softmax(t(r, [1, 2, 3], [1, 3], dtype));
    expectClose(sm.dataSync(), [0.090031, 0.244728, 0.665241], 1e-6);
    expectClose(softmaxBackward(t(r, [1, 0, 0], [1, 3], dtype), sm).dataSync(), [0.081925, -0.022033, -0.059892], 1e-6);
    expectClose(logSoftmax(t(r, [1001, 1002, 1003], [1, 3], dtype)).dataSync(), [-2.407606, -1.407606, -0.407606], 1e-6);
    expect(Array.from(sign(t(r, [-3, 0, 2], [3], dtype)).dataSync())).toEqual([-1, 0, 1]);
  });

  it('W6: softmax + CE head (batch of 2, general label rows, stability)', () => {
    const r = makeRegistry();
    for (const shift of [0, 1000]) {
      const logits = t(r, [1 + shift, 2 + shift, 3 + shift, 0, 0, 0], [2, 3], dtype);
      const labels = t(r, [0, 0, 1, 1, 0, 0], [2, 3], dtype);
      const { loss, grad } = softmaxCrossEntropy(logits, labels);
      expect(loss.shape).toEqual([]);
      expectClose(loss.dataSync(), [0.753109], 1e-6);
      expectClose(grad.dataSync(), [0.045015, 0.122364, -0.16738, -1 / 3, 1 / 6, 1 / 6], 1e-6);
    }
    // Label row summing to 2: grad = (p·2 − y)/N, loss = 2·LSE − Σ y·x.
    const { loss, grad } = softmaxCrossEntropy(t(r, [1, 2, 3], [1, 3], dtype), t(r, [1, 0, 1], [1, 3], dtype));
    expectClose(loss.dataSync(), [2 * 3.407606 - 4], 1e-5);
    expectClose(grad.dataSync(), [2 * 0.090031 - 1, 2 * 0.244728, 2 * 0.665241 - 1], 1e-5);
  });

  it('W7: sigmoid + BCE head', () => {
    const r = makeRegistry();
    const { loss, grad } = sigmoidCrossEntropy(t(r, [0, 2], [2, 1], dtype), t(r, [1, 0], [2, 1], dtype));
    expectClose(loss.dataSync(), [1.410038], 1e-6);
    expectClose(grad.dataSync(), [-0.25, 0.440399], 1e-6);
    const big = sigmoidCrossEntropy(t(r, [40, -40], [2], dtype), t(r, [0, 1], [2], dtype));
    expectClose(big.loss.dataSync(), [40], 1e-6);
  });

  it('W10: dense forward/backward through matMul + biasGrad', () => {
    const r = makeRegistry();
    const x = t(r, [1, 2, 0, -1], [2, 2], dtype), w = t(r, [0.5, -0.25, 1, 0.5], [2, 2], dtype);
    const b = t(r, [0.1, -0.2], [2], dtype);
    expectClose(matMul(x, w, { transposeB: true, bias: b }).dataSync(), [0.1, 1.8, 0.35, -0.7], tol);
    expectClose(matMul(x, w, { transposeB: true, bias: b, activation: 'relu' }).dataSync(), [0.1, 1.8, 0.35, 0], tol);
    const g = t(r, [1, -1, 0.5, 2], [2, 2], dtype);
    expectClose(matMul(g, x, { transposeA: true }).dataSync(), [1, 1.5, -1, -4], tol);
    expectClose(biasGrad(g).dataSync(), [1.5, 1], tol);
    expectClose(matMul(g, w).dataSync(), [-0.5, -0.75, 2.25, 0.875], tol);
  });
});

describe('reductions and indexing', () => {
  it('sum/max over arbitrary axes with keepDims', () => {
    const r = makeRegistry();
    const vals = Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) - 5);
    const x = t(r, vals, [2, 3, 4]);
    const at = (a: number, b: number, c: number): number => vals[(a * 3 + b) * 4 + c];
    const cases: number[][] = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];
    for (const axes of cases) {
      for (const keepDims of [false, true]) {
        const s = sum(x, axes, keepDims), m = max(x, axes, keepDims);
        const outShape = [2, 3, 4].map((d, i) => (axes.includes(i) ? (keepDims ? 1 : 0) : d)).filter((d) => d > 0);
        expect(s.shape).toEqual(outShape);
        const expS: number[] = [], expM: number[] = [];
        const rng = (i: number, d: number): number[] => (axes.includes(i) ? [-1] : Array.from({ length: d }, (_, k) => k));
        for (const a of rng(0, 2)) for (const b of rng(1, 3)) for (const c of rng(2, 4)) {
          let acc = 0, best = -Infinity;
          for (const a2 of a < 0 ? [0, 1] : [a]) for (const b2 of b < 0 ? [0, 1, 2] : [b]) for (const c2 of c < 0 ? [0, 1, 2, 3] : [c]) {
            acc += at(a2, b2, c2);
            best = Math.max(best, at(a2, b2, c2));
          }
          expS.push(acc);
          expM.push(best);
        }
        expect(Array.from(s.dataSync())).toEqual(expS);
        expect(Array.from(m.dataSync())).toEqual(expM);
      }
    }
    expect(max(t(r, [1, NaN, 3, 4], [2, 2]), 0).dataSync()[1]).toBeNaN();
  });

  it('argMax (first max, NaN wins), oneHot, cast', () => {
    const r = makeRegistry();
    const a = argMax(t(r, [1, 3, 3, 0, NaN, 9, 2, 2, 1], [3, 3]), 1);
    expect(a.dtype).toBe('int32');
    expect(Array.from(a.dataSync())).toEqual([1, 1, 0]);
    expect(Array.from(argMax(t(r, [1, 5, 7, 2], [2, 2]), 0).dataSync())).toEqual([1, 0]);
    const oh = oneHot(t(r, [2, 0], [2], 'int32'), 3, 'float64');
    expect(oh.dtype).toBe('float64');
    expect(Array.from(oh.dataSync())).toEqual([0, 0, 1, 1, 0, 0]);
    const c = cast(t(r, [1.7, -2.5, 3], [3]), 'int32');
    expect(c.dtype).toBe('int32');
    expect(Array.from(c.dataSync())).toEqual([1, -2, 3]);
    expect(cast(c, 'float32').dataSync()).toBeInstanceOf(Float32Array);
  });
});

describe('optimizer updates (in place)', () => {
  it('sgd, momentum (plain and Nesterov), adam, rmsprop with weight decay', () => {
    const r = makeRegistry();
    const p0 = [1, -2], g0 = [0.5, 0.25], lr = 0.1, wd = 0.01;
    const gp = g0.map((g, i) => g + wd * p0[i]);

    const p = t(r, p0, [2]);
    sgdUpdate(p, t(r, g0, [2]), lr, wd);
    expectClose(p.dataSync(), p0.map((v, i) => v - lr * gp[i]), 1e-12);

    for (const nesterov of [false, true]) {
      const pm = t(r, p0, [2]), vel = t(r, [0.2, -0.1], [2]);
      momentumUpdate(pm, t(r, g0, [2]), vel, { learningRate: lr, momentum: 0.9, nesterov, weightDecay: wd });
      const v1 = [0.2, -0.1].map((v, i) => 0.9 * v + gp[i]);
      expectClose(vel.dataSync(), v1, 1e-12);
      expectClose(pm.dataSync(), p0.map((v, i) => v - lr * (nesterov ? gp[i] + 0.9 * v1[i] : v1[i])), 1e-12);
    }

    const pa = t(r, p0, [2]), m = t(r, [0.1, 0], [2]), v = t(r, [0.01, 0], [2]);
    adamUpdate(pa, t(r, g0, [2]), m, v, { learningRate: lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: 3, weightDecay: wd });
    const m1 = [0.1, 0].map((x, i) => 0.9 * x + 0.1 * gp[i]);
    const v1 = [0.01, 0].map((x, i) => 0.999 * x + 0.001 * gp[i] ** 2);
    expectClose(m.dataSync(), m1, 1e-12);
    expectClose(v.dataSync(), v1, 1e-12);
    expectClose(pa.dataSync(), p0.map((x, i) => x - (lr * m1[i] / (1 - 0.9 ** 3)) / (Math.sqrt(v1[i] / (1 - 0.999 ** 3)) + 1e-8)), 1e-12);

    const pr = t(r, p0, [2]), s = t(r, [0.5, 0.5], [2]);
    rmspropUpdate(pr, t(r, g0, [2]), s, { learningRate: lr, rho: 0.9, epsilon: 1e-7, weightDecay: wd });
    const s1 = [0.5, 0.5].map((x, i) => 0.9 * x + 0.1 * gp[i] ** 2);
    expectClose(s.dataSync(), s1, 1e-12);
    expectClose(pr.dataSync(), p0.map((x, i) => x - (lr * gp[i]) / (Math.sqrt(s1[i]) + 1e-7)), 1e-12);
  });
});
