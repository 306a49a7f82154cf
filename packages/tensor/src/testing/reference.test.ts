import { describe, expect, it } from 'vitest';
import { computeConv2DInfo, computePool2DInfo } from '../geometry.js';
import { sizeOfShape } from '../tensor.js';
import { checkGradient, checkVjp, expectArraysClose, expectArraysEqual, numericalGradient } from './assertions.js';
import * as R from './reference.js';
import { ref } from './reference.js';

const X4 = ref([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
const K2 = ref([1, 2, 3, 4], [1, 1, 2, 2]);
const B1 = ref([1], [1]);
const close = (a: R.RefTensor, e: number[], label?: string): void => expectArraysClose(a, e, { rtol: 0, atol: 1e-6, label });
const lin = { activation: 'linear' as const, alpha: 0.01 };

describe('reference kernels reproduce the worked examples of apps/docs/math/', () => {
  it('W1 output sizes', () => {
    const out = (h: number, k: number, s: number, p: number): number[] => [...computeConv2DInfo([1, 1, h, h], [1, 1, k, k], [s, s], [p, p]).outShape];
    expect(out(4, 2, 1, 0)).toEqual([1, 1, 3, 3]);
    expect(out(4, 2, 2, 1)).toEqual([1, 1, 3, 3]);
    expect(out(5, 2, 2, 0)).toEqual([1, 1, 2, 2]);
    expect(out(4, 3, 2, 1)).toEqual([1, 1, 2, 2]);
    expect(computePool2DInfo([1, 1, 4, 4], [2, 2], [2, 2]).outShape).toEqual([1, 1, 2, 2]);
    // (5,2,2,0): the last row and column are never read, so their ∂X is 0.
    const dx = R.conv2dBackwardInput(
      { dy: ref([1, 2, 3, 4], [1, 1, 2, 2]), filter: K2 },
      { strides: [2, 2], pad: [0, 0], inputShape: [1, 1, 5, 5] },
    );
    for (let k = 0; k < 5; k++) {
      expect(dx.values[4 * 5 + k]).toBe(0);
      expect(dx.values[k * 5 + 4]).toBe(0);
    }
  });

  it('W2 conv stride 1, no padding', () => {
    const g = { strides: [1, 1] as [number, number], pad: [0, 0] as [number, number] };
    const y = R.conv2d({ x: X4, filter: K2, bias: B1 }, { ...g, ...lin });
    expectArraysEqual(y, ref([45, 55, 65, 85, 95, 105, 125, 135, 145], [1, 1, 3, 3]));
    const G = ref([1, 0, -1, 0, 2, 0, 1, 0, 0], [1, 1, 3, 3]);
    expectArraysEqual(R.biasGrad({ dy: G }), [3]);
    expectArraysEqual(R.conv2dBackwardFilter({ x: X4, dy: G }, { ...g, filterShape: [1, 1, 2, 2] }), [19, 22, 31, 34]);
    expectArraysEqual(
      R.conv2dBackwardInput({ dy: G, filter: K2 }, { ...g, inputShape: [1, 1, 4, 4] }),
      [1, 2, -1, -2, 3, 6, 1, -4, 1, 8, 8, 0, 3, 4, 0, 0],
    );
  });

  it('W3 conv stride 2, padding 1', () => {
    const g = { strides: [2, 2] as [number, number], pad: [1, 1] as [number, number] };
    expectArraysEqual(R.conv2d({ x: X4, filter: K2, bias: B1 }, { ...g, ...lin }), [5, 19, 13, 47, 95, 45, 27, 45, 17]);
    const G = ref([1, -1, 0, 0, 2, 1, 1, 0, -1], [1, 1, 3, 3]);
    expectArraysEqual(R.biasGrad({ dy: G }), [3]);
    expectArraysEqual(R.conv2dBackwardFilter({ x: X4, dy: G }, { ...g, filterShape: [1, 1, 2, 2] }), [4, 27, 30, 20]);
    expectArraysEqual(
      R.conv2dBackwardInput({ dy: G, filter: K2 }, { ...g, inputShape: [1, 1, 4, 4] }),
      [4, -3, -4, 0, 0, 2, 4, 1, 0, 6, 8, 3, 2, 0, 0, -1],
    );
  });

  it('W4 pooling', () => {
    const x = ref([1, 3, 2, 1, 4, 2, 0, 1, 5, 6, 1, 2, 7, 8, 3, 3], [1, 1, 4, 4]);
    const G = ref([1, 2, 3, 4], [1, 1, 2, 2]);
    const g = { poolSize: [2, 2] as [number, number], strides: [2, 2] as [number, number] };
    expectArraysEqual(R.maxPool({ x }, g), [4, 2, 8, 3]);
    expectArraysEqual(R.maxPoolBackward({ dy: G, x }, g), [0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0]);
    expectArraysEqual(R.avgPool({ x }, g), [2.5, 1, 6.5, 2.25]);
    expectArraysEqual(R.avgPoolBackward({ dy: G }, { ...g, inputShape: [1, 1, 4, 4] }), [
      0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 0.75, 0.75, 1, 1,
    ]);
    const y = R.l2Pool({ x }, g);
    close(y, [5.477226, 2.44949, 13.190906, 4.795832]);
    const dx = R.l2PoolBackward({ dy: G, x, y }, g);
    expect(dx.values[2]).toBeCloseTo(1.632993, 6);
    expect(dx.values[3]).toBeCloseTo(0.816497, 6);
    expect(dx.values[6]).toBe(0);
    expect(dx.values[7]).toBeCloseTo(0.816497, 6);
    // NaN wins the window and receives the gradient.
    const xn = ref([1, NaN, 5, NaN], [1, 1, 2, 2]);
    expect(R.maxPool({ x: xn }, g).values[0]).toBeNaN();
    expectArraysEqual(R.maxPoolBackward({ dy: ref([7], [1, 1, 1, 1]), x: xn }, g), [0, 7, 0, 0]);
  });

  it('W5 activations', () => {
    const one = ref([1], [1]);
    close(R.sigmoidBackward({ dy: one, y: R.sigmoid({ x: ref([0], [1]) }) }), [0.25]);
    const s2 = R.sigmoid({ x: ref([2], [1]) });
    close(s2, [0.880797]);
    close(R.sigmoidBackward({ dy: one, y: s2 }), [0.104994]);
    close(R.tanhBackward({ dy: one, y: R.tanh({ x: ref([0.5], [1]) }) }), [0.786448]);
    close(R.reluBackward({ dy: one, x: ref([0], [1]) }), [0]);
    close(R.leakyReluBackward({ dy: one, x: ref([0], [1]) }, { alpha: 0.01 }), [0.01]);
    const y = R.softmax({ x: ref([1, 2, 3], [1, 3]) });
    close(R.softmaxBackward({ dy: ref([1, 0, 0], [1, 3]), y }), [0.081925, -0.022033, -0.059892]);
    expect(R.relu({ x: ref([NaN], [1]) }).values[0]).toBeNaN();
  });

  it('W6 softmax + CE', () => {
    for (const shift of [0, 1000]) {
      const x = ref([1 + shift, 2 + shift, 3 + shift], [1, 3]);
      close(R.softmax({ x }), [0.090031, 0.244728, 0.665241]);
      close(R.logSoftmax({ x }), [1 - 3.407606, 2 - 3.407606, 3 - 3.407606]);
      const [loss, grad] = R.softmaxCrossEntropy({ logits: x, labels: ref([0, 0, 1], [1, 3]) });
      close(loss, [0.407606]);
      close(grad, [0.090031, 0.244728, -0.334759]);
      close(R.softmaxCrossEntropy({ logits: x, labels: ref([1, 0, 0], [1, 3]) })[0], [2.407606]);
    }
    const [loss, grad] = R.softmaxCrossEntropy({ logits: ref([1, 2, 3, 0, 0, 0], [2, 3]), labels: ref([0, 0, 1, 1, 0, 0], [2, 3]) });
    close(loss, [0.753109]);
    close(grad, [0.045015, 0.122364, -0.16738, -1 / 3, 1 / 6, 1 / 6]);
  });

  it('W7 sigmoid + BCE', () => {
    close(R.sigmoidCrossEntropy({ logits: ref([0], [1]), labels: ref([1], [1]) })[0], [0.693147]);
    close(R.sigmoidCrossEntropy({ logits: ref([0], [1]), labels: ref([1], [1]) })[1], [-0.5]);
    close(R.sigmoidCrossEntropy({ logits: ref([2], [1]), labels: ref([0], [1]) })[0], [2.126928]);
    close(R.sigmoidCrossEntropy({ logits: ref([2], [1]), labels: ref([0], [1]) })[1], [0.880797]);
    const [loss, grad] = R.sigmoidCrossEntropy({ logits: ref([0, 2], [2]), labels: ref([1, 0], [2]) });
    close(loss, [1.410038]);
    close(grad, [-0.25, 0.440399]);
    expect(R.sigmoidCrossEntropy({ logits: ref([40], [1]), labels: ref([0], [1]) })[0].values[0]).toBe(40);
  });

  it('W9 one SGD step on folded-bias weights', () => {
    const sig = ref([1, 2, 1], [1, 3]);
    const w = ref([0.5, -0.25, 0.1], [1, 3]);
    const h = R.matMul({ a: sig, b: w }, { transposeA: false, transposeB: true, ...lin });
    close(h, [0.1]);
    const s = R.relu({ x: h });
    const dh = R.reluBackward({ dy: ref([s.values[0] - 1], [1, 1]), x: h });
    const dw = R.matMul({ a: dh, b: sig }, { transposeA: true, transposeB: false, ...lin });
    close(dw, [-0.9, -1.8, -0.9]);
    const { param } = R.sgdUpdate({ param: w, grad: dw }, { learningRate: 0.1, weightDecay: 0 });
    close(param, [0.59, -0.07, 0.19]);
    close(R.matMul({ a: sig, b: param }, { transposeA: false, transposeB: true, ...lin }), [0.64]);
  });

  it('W10 dense', () => {
    const x = ref([1, 2, 0, -1], [2, 2]);
    const w = ref([0.5, -0.25, 1, 0.5], [2, 2]);
    const b = ref([0.1, -0.2], [2]);
    close(R.matMul({ a: x, b: w, bias: b }, { transposeA: false, transposeB: true, ...lin }), [0.1, 1.8, 0.35, -0.7]);
    const G = ref([1, -1, 0.5, 2], [2, 2]);
    close(R.matMul({ a: G, b: x }, { transposeA: true, transposeB: false, ...lin }), [1, 1.5, -1, -4]);
    close(R.biasGrad({ dy: G }), [1.5, 1]);
    close(R.matMul({ a: G, b: w }, { transposeA: false, transposeB: false, ...lin }), [-0.5, -0.75, 2.25, 0.875]);
  });

  it('reductions, argMax and oneHot', () => {
    const x = ref([1, 5, 5, 2, 0, 3], [2, 3]);
    expectArraysEqual(R.sum({ x }, { axes: [1], keepDims: false }), ref([11, 5], [2]));
    expectArraysEqual(R.sum({ x }, { axes: [0], keepDims: true }), ref([3, 5, 8], [1, 3]));
    expectArraysEqual(R.max({ x }, { axes: [0, 1], keepDims: false }), ref([5], []));
    expectArraysEqual(R.argMax({ x }, { axis: 1 }), [1, 2]);
    expectArraysEqual(R.argMax({ x: ref([1, NaN, 3, NaN], [4]) }, { axis: 0 }), ref([1], []));
    expectArraysEqual(R.oneHot({ indices: ref([2, 0], [2]) }, { depth: 3 }), [0, 0, 1, 1, 0, 0]);
  });

  it('optimizer formulas', () => {
    const p = ref([1, -2], [2]);
    const g = ref([0.5, 0.5], [2]);
    close(R.sgdUpdate({ param: p, grad: g }, { learningRate: 0.1, weightDecay: 0.5 }).param, [1 - 0.1 * 1, -2 - 0.1 * -0.5]);
    const mom = R.momentumUpdate(
      { param: p, grad: g, velocity: ref([1, 1], [2]) },
      { learningRate: 0.1, weightDecay: 0, momentum: 0.9, nesterov: true },
    );
    close(mom.velocity, [1.4, 1.4]);
    close(mom.param, [1 - 0.1 * (0.5 + 0.9 * 1.4), -2 - 0.1 * (0.5 + 0.9 * 1.4)]);
    // Adam's first bias-corrected step moves every weight by ≈ lr·sign(g).
    const adam = R.adamUpdate(
      { param: p, grad: g, m: ref([0, 0], [2]), v: ref([0, 0], [2]) },
      { learningRate: 0.01, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: 1 },
    );
    close(adam.param, [0.99, -2.01]);
  });

  it('assertion helpers', () => {
    expect(() => expectArraysClose([1, 2, 3], [1, 2.1, 3], { label: 'demo' })).toThrow(/demo: 1 of 3 values differ.*index 1/);
    expect(() => expectArraysClose([NaN], [NaN])).not.toThrow();
    expect(() => expectArraysClose(ref([1, 2], [1, 2]), ref([1, 2], [2, 1]))).toThrow(/shape mismatch/);
    const g = numericalGradient((v) => v[0] * v[0] + 3 * v[1], Float64Array.of(2, 5));
    expectArraysClose(g, [4, 3], { atol: 1e-6 });
    expect(() => checkGradient((v) => v[0] * v[0], [3], [6])).not.toThrow();
    expect(() => checkGradient((v) => v[0] * v[0], [3], [6.1], { label: 'sq' })).toThrow(/sq: gradient check failed/);
    // Reference backward kernels pass the gradient check (apps/docs/math/backprop.md) against their own forwards.
    const x = Float64Array.from({ length: 2 * 2 * 5 * 5 }, (_, i) => Math.sin(i * 1.7));
    const k = Float64Array.from({ length: 3 * 2 * 3 * 3 }, (_, i) => Math.cos(i * 0.9));
    const geo = { strides: [2, 1] as [number, number], pad: [1, 2] as [number, number] };
    const fwd = (xv: Float64Array, kv: Float64Array): Float64Array =>
      R.conv2d({ x: ref(xv, [2, 2, 5, 5]), filter: ref(kv, [3, 2, 3, 3]) }, { ...geo, ...lin }).values;
    const yShape = R.conv2d({ x: ref(x, [2, 2, 5, 5]), filter: ref(k, [3, 2, 3, 3]) }, { ...geo, ...lin }).shape;
    const G = Float64Array.from({ length: sizeOfShape(yShape) }, (_, i) => Math.sin(i * 0.37 + 1));
    const dK = R.conv2dBackwardFilter({ x: ref(x, [2, 2, 5, 5]), dy: ref(G, yShape) }, { ...geo, filterShape: [3, 2, 3, 3] });
    checkVjp((kv) => fwd(x, kv), k, G, dK.values, { label: 'ref dK' });
    const dX = R.conv2dBackwardInput({ dy: ref(G, yShape), filter: ref(k, [3, 2, 3, 3]) }, { ...geo, inputShape: [2, 2, 5, 5] });
    checkVjp((xv) => fwd(xv, k), x, G, dX.values, { label: 'ref dX' });
  });
});
