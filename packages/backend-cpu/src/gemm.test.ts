import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, matMul, type DataType } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, makeRegistry, rand, t } from './testUtil.js';

function naiveMatMul(a: Float64Array, b: Float64Array, m: number, n: number, k: number, ta: boolean, tb: boolean): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = s;
    }
  }
  return out;
}

const f32 = (v: Float64Array): Float64Array => Float64Array.from(Float32Array.from(v));

describe('matMul vs a naive triple loop', () => {
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
            expectClose(c.dataSync(), naiveMatMul(av, bv, m, n, k, ta, tb), dtype === 'float64' ? 1e-12 : 1e-5);
          });
        }
      }
    }
  }

  it('fused bias and every activation', () => {
    const r = makeRegistry();
    const [m, n, k] = [7, 11, 5];
    const av = rand(m * k, 1), bv = rand(k * n, 2), biasv = rand(n, 3);
    const base = naiveMatMul(av, bv, m, n, k, false, false).map((v, i) => v + biasv[i % n]);
    const acts = {
      linear: (v: number) => v,
      relu: (v: number) => Math.max(0, v),
      leakyRelu: (v: number) => (v > 0 ? v : 0.2 * v),
      sigmoid: (v: number) => 1 / (1 + Math.exp(-v)),
      tanh: (v: number) => Math.tanh(v),
    } as const;
    for (const [activation, fn] of Object.entries(acts)) {
      const c = matMul(t(r, av, [m, k]), t(r, bv, [k, n]), { bias: t(r, biasv, [n]), activation: activation as keyof typeof acts, alpha: 0.2 });
      expectClose(c.dataSync(), base.map(fn), 1e-12);
    }
  });
});

interface Geo { n: number; c: number; h: number; w: number; f: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number }

function naiveConv(x: Float64Array, k: Float64Array, g: Geo) {
  const ho = Math.floor((g.h + 2 * g.ph - g.kh) / g.sh) + 1, wo = Math.floor((g.w + 2 * g.pw - g.kw) / g.sw) + 1;
  const xAt = (n: number, c: number, r: number, s: number): number => {
    const rr = r - g.ph, ss = s - g.pw;
    return rr >= 0 && rr < g.h && ss >= 0 && ss < g.w ? x[((n * g.c + c) * g.h + rr) * g.w + ss] : 0;
  };
  const kIdx = (f: number, c: number, u: number, v: number): number => ((f * g.c + c) * g.kh + u) * g.kw + v;
  return { ho, wo, xAt, kIdx };
}

describe('conv2d and its gradients vs direct loops (random geometry)', () => {
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
        const { ho, wo, xAt, kIdx } = naiveConv(xv, kv, g);
        const tol = dtype === 'float64' ? 1e-12 : 1e-5;
        const x = t(r, xv, [g.n, g.c, g.h, g.w], dtype), k = t(r, kv, [g.f, g.c, g.kh, g.kw], dtype);
        const opts = { strides: [g.sh, g.sw] as [number, number], pad: [g.ph, g.pw] as [number, number] };

        // forward (+ bias, relu)
        const y = conv2d(x, k, { ...opts, bias: t(r, bv, [g.f], dtype), activation: 'relu' });
        expect(y.shape).toEqual([g.n, g.f, ho, wo]);
        const yExp = new Float64Array(g.n * g.f * ho * wo);
        for (let n = 0; n < g.n; n++) for (let f = 0; f < g.f; f++) for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) {
          let s = bv[f];
          for (let c = 0; c < g.c; c++) for (let u = 0; u < g.kh; u++) for (let v = 0; v < g.kw; v++) {
            s += kv[kIdx(f, c, u, v)] * xAt(n, c, i * g.sh + u, j * g.sw + v);
          }
          yExp[((n * g.f + f) * ho + i) * wo + j] = Math.max(0, s);
        }
        expectClose(y.dataSync(), yExp, tol);

        // backward: ∂K via the definition, ∂X via scatter-add on the padded input then crop
        const gv = rand(g.n * g.f * ho * wo, 99);
        const gy = t(r, dtype === 'float32' ? f32(gv) : gv, [g.n, g.f, ho, wo], dtype);
        const gvals = dtype === 'float32' ? f32(gv) : gv;
        const dK = new Float64Array(kv.length);
        const hp = g.h + 2 * g.ph, wp = g.w + 2 * g.pw;
        const dXp = new Float64Array(g.n * g.c * hp * wp);
        for (let n = 0; n < g.n; n++) for (let f = 0; f < g.f; f++) for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) {
          const gg = gvals[((n * g.f + f) * ho + i) * wo + j];
          for (let c = 0; c < g.c; c++) for (let u = 0; u < g.kh; u++) for (let v = 0; v < g.kw; v++) {
            dK[kIdx(f, c, u, v)] += gg * xAt(n, c, i * g.sh + u, j * g.sw + v);
            dXp[((n * g.c + c) * hp + i * g.sh + u) * wp + j * g.sw + v] += gg * kv[kIdx(f, c, u, v)];
          }
        }
        const dX = new Float64Array(xv.length);
        for (let n = 0; n < g.n; n++) for (let c = 0; c < g.c; c++) for (let rr = 0; rr < g.h; rr++) for (let s = 0; s < g.w; s++) {
          dX[((n * g.c + c) * g.h + rr) * g.w + s] = dXp[((n * g.c + c) * hp + rr + g.ph) * wp + s + g.pw];
        }
        expectClose(conv2dBackwardFilter(x, gy, [g.f, g.c, g.kh, g.kw], opts).dataSync(), dK, tol);
        expectClose(conv2dBackwardInput(gy, k, [g.n, g.c, g.h, g.w], opts).dataSync(), dX, tol);
      });
    }
  }
});
