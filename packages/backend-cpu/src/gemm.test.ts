import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, matMul, type DataType, type FusedActivation } from '@backprop/tensor';
import { reference as R } from '@backprop/tensor/testing';
import { describe, expect, it } from 'vitest';
import { expectClose, makeRegistry, rand, t } from './testUtil.js';

// The expected values come from the plain loops of @backprop/tensor/testing's reference.

const f32 = (v: Float64Array): Float64Array => Float64Array.from(Float32Array.from(v));

describe('matMul vs the reference triple loop', () => {
  const shapes: [number, number, number][] = [[37, 53, 29], [1, 1, 1], [5, 3, 300], [130, 9, 260], [3, 2049, 2], [0, 4, 3], [4, 3, 0]];
  for (const dtype of ['float64', 'float32'] as DataType[]) {
    for (const [m, n, k] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          it(`${dtype} ${m}×${n}×${k} transposeA=${ta} transposeB=${tb}`, () => {
            const r = makeRegistry();
            let av = rand(m * k, m * 7 + k), bv = rand(k * n, n * 13 + k + 1);
            if (dtype === 'float32') { av = f32(av); bv = f32(bv); }
            const a = t(r, av, ta ? [k, m] : [m, k], dtype), b = t(r, bv, tb ? [n, k] : [k, n], dtype);
            const c = matMul(a, b, { transposeA: ta, transposeB: tb });
            expect(c.shape).toEqual([m, n]);
            expect(c.dtype).toBe(dtype);
            const expected = R.matMul(
              { a: R.ref(av, ta ? [k, m] : [m, k]), b: R.ref(bv, tb ? [n, k] : [k, n]) },
              { transposeA: ta, transposeB: tb, activation: 'linear', alpha: 0 },
            );
            expectClose(c.dataSync(), expected.values, dtype === 'float64' ? 1e-12 : 1e-5);
          });
        }
      }
    }
  }

  it('fused bias and every activation', () => {
    const r = makeRegistry();
    const [m, n, k] = [7, 11, 5];
    const av = rand(m * k, 1), bv = rand(k * n, 2), biasv = rand(n, 3);
    for (const activation of ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh'] as FusedActivation[]) {
      const c = matMul(t(r, av, [m, k]), t(r, bv, [k, n]), { bias: t(r, biasv, [n]), activation, alpha: 0.2 });
      const expected = R.matMul(
        { a: R.ref(av, [m, k]), b: R.ref(bv, [k, n]), bias: R.ref(biasv, [n]) },
        { transposeA: false, transposeB: false, activation, alpha: 0.2 },
      );
      expectClose(c.dataSync(), expected.values, 1e-12);
    }
  });
});

interface Geo { n: number; c: number; h: number; w: number; f: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number }

describe('conv2d and its gradients vs the reference loops (random geometry)', () => {
  let seed = 11;
  const next = (lo: number, hi: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return lo + (seed % (hi - lo + 1));
  };
  const cases: Geo[] = [];
  for (let i = 0; i < 24; i++) {
    const kh = next(1, 4), kw = next(1, 4), ph = next(0, 2), pw = next(0, 2);
    cases.push({
      n: next(1, 3), c: next(1, 4), f: next(1, 5), kh, kw, ph, pw, sh: next(1, 3), sw: next(1, 3),
      h: Math.max(next(1, 9), kh - 2 * ph), w: Math.max(next(1, 9), kw - 2 * pw),
    });
  }
  cases.push({ n: 2, c: 1, h: 28, w: 28, f: 8, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0 });
  cases.push({ n: 2, c: 8, h: 12, w: 12, f: 32, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 });
  cases.push({ n: 1, c: 5, h: 5, w: 5, f: 2, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 });

  for (const dtype of ['float64', 'float32'] as DataType[]) {
    for (const g of cases) {
      it(`${dtype} x[${g.n},${g.c},${g.h},${g.w}] k[${g.f},${g.c},${g.kh},${g.kw}] s${g.sh},${g.sw} p${g.ph},${g.pw}`, () => {
        const r = makeRegistry();
        let xv = rand(g.n * g.c * g.h * g.w, g.h * 31 + g.c), kv = rand(g.f * g.c * g.kh * g.kw, g.f * 17 + g.kw);
        let bv = rand(g.f, 5);
        if (dtype === 'float32') { xv = f32(xv); kv = f32(kv); bv = f32(bv); }
        const tol = dtype === 'float64' ? 1e-12 : 1e-5;
        const x = t(r, xv, [g.n, g.c, g.h, g.w], dtype), k = t(r, kv, [g.f, g.c, g.kh, g.kw], dtype);
        const strides: [number, number] = [g.sh, g.sw], pad: [number, number] = [g.ph, g.pw];
        const xRef = R.ref(xv, [g.n, g.c, g.h, g.w]), kRef = R.ref(kv, [g.f, g.c, g.kh, g.kw]);

        // forward (+ bias, relu)
        const y = conv2d(x, k, { strides, pad, bias: t(r, bv, [g.f], dtype), activation: 'relu' });
        const yExp = R.conv2d({ x: xRef, filter: kRef, bias: R.ref(bv, [g.f]) }, { strides, pad, activation: 'relu', alpha: 0 });
        expect(y.shape).toEqual(yExp.shape);
        expectClose(y.dataSync(), yExp.values, tol);

        // backward: ∂K and ∂X
        const gv = rand(y.size, 99);
        const gvals = dtype === 'float32' ? f32(gv) : gv;
        const gy = t(r, gvals, [...y.shape], dtype), gRef = R.ref(gvals, [...y.shape]);
        const filterShape: [number, number, number, number] = [g.f, g.c, g.kh, g.kw];
        const inputShape: [number, number, number, number] = [g.n, g.c, g.h, g.w];
        expectClose(
          conv2dBackwardFilter(x, gy, filterShape, { strides, pad }).dataSync(),
          R.conv2dBackwardFilter({ x: xRef, dy: gRef }, { strides, pad, filterShape }).values, tol,
        );
        expectClose(
          conv2dBackwardInput(gy, k, inputShape, { strides, pad }).dataSync(),
          R.conv2dBackwardInput({ dy: gRef, filter: kRef }, { strides, pad, inputShape }).values, tol,
        );
      });
    }
  }
});
