/**
 * Pooling kernels, fast: 2×2 max pooling on float32 takes a branch-free path, other windows
 * a general loop. The readable versions are `maxPool`, `maxPoolBackward`, `avgPool`,
 * `avgPoolBackward`, `l2Pool` and `l2PoolBackward` in
 * [reference.ts](../../../tensor/src/testing/reference.ts).
 * The math: [pooling.md](../../../../apps/docs/math/pooling.md).
 */
import { computePool2DInfo, defineKernel, type Pool2DInfo, type PoolGeometry, type TypedArray } from '@backprop/tensor';
import type { CpuBackend } from '../backend.js';
import { float32Bits } from './util.js';

type B = CpuBackend;

/** The sizes, once per call: @backprop/tensor's geometry (Eq 2.2 with the floor). */
const dims = (op: string, shape: readonly number[], g: PoolGeometry): Pool2DInfo => computePool2DInfo(shape, g.poolSize, g.strides, op);

/**
 * Offset (from the plane start) of the first maximum of the window at (i, j) in
 * row-major order: strict `>` keeps the first of equal values, and the first NaN wins.
 */
function argMaxWindow(x: TypedArray, base: number, d: Pool2DInfo, i: number, j: number): number {
  const { inWidth: w, poolHeight: kh, poolWidth: kw } = d;
  const start = base + i * d.strideHeight * w + j * d.strideWidth;
  let best = x[start];
  let bi = start;
  if (best !== best) return bi;
  for (let a = 0; a < kh; a++) {
    const row = start + a * w;
    for (let b = 0; b < kw; b++) {
      const v = x[row + b];
      if (v > best) {
        best = v;
        bi = row + b;
      } else if (v !== v) {
        return row + b;
      }
    }
  }
  return bi;
}

/*
 * Branch-free 2×2 max pooling for float32. Which element of a window is largest is
 * data-dependent, so `if (a > m)` mispredicts often (0.53 ms vs 0.33 ms for the paper's
 * pooling at batch 256). Instead each value's bits become an integer key that orders like
 * the float (−0 ties with +0, NaN above everything and ties with NaN), and the window's
 * first maximum is kept with masks: take = −(key > best) is 0 or −1, never a branch.
 */

/** Integer ordering key of a float32 bit pattern: monotone, ±0 equal, every NaN = max. */
function orderKey(u: number): number {
  const k = u ^ ((u >> 31) & 0x7fffffff);
  const isNaN = (0x7f800000 - (u & 0x7fffffff)) >> 31;
  return ((k + ((k >> 31) & 1)) & ~isNaN) | (0x7fffffff & isNaN);
}

/** Index of the first maximum of the 2×2 window at s (row length w) of float32 bits `vb`. */
function firstMaxAt2x2(vb: Int32Array, s: number, w: number): number {
  let best = orderKey(vb[s]), at = s;
  let key = orderKey(vb[s + 1]), take = -(key > best);
  best ^= (best ^ key) & take; at ^= (at ^ (s + 1)) & take;
  key = orderKey(vb[s + w]); take = -(key > best);
  best ^= (best ^ key) & take; at ^= (at ^ (s + w)) & take;
  key = orderKey(vb[s + w + 1]); take = -(key > best);
  return at ^ ((at ^ (s + w + 1)) & take);
}

/** maxPool over 2×2 windows of float32 planes, copying the max's bits (first max, NaN wins). */
function maxPool2x2Float32(v: Float32Array, o: Float32Array, d: Pool2DInfo): void {
  const vb = float32Bits(v), ob = float32Bits(o);
  const { inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = d;
  let oi = 0;
  for (let p = 0; p < d.planes; p++) {
    const base = p * h * w;
    for (let i = 0; i < ho; i++) {
      let s = base + i * sh * w;
      for (let j = 0; j < wo; j++, s += sw) ob[oi++] = vb[firstMaxAt2x2(vb, s, w)];
    }
  }
}

/** maxPoolBackward over 2×2 windows of float32 planes: dy goes to each window's first max. */
function maxPool2x2BackwardFloat32(v: Float32Array, g: Float32Array | Float64Array, o: Float32Array, d: Pool2DInfo): void {
  const vb = float32Bits(v);
  const { inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = d;
  let gi = 0;
  for (let p = 0; p < d.planes; p++) {
    const base = p * h * w;
    for (let i = 0; i < ho; i++) {
      let s = base + i * sh * w;
      for (let j = 0; j < wo; j++, s += sw) o[firstMaxAt2x2(vb, s, w)] += g[gi++];
    }
  }
}

export const maxPool = defineKernel<'maxPool', B>({
  kernelName: 'maxPool', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const d = dims('maxPool', x.shape, attrs);
    const v = backend.values(x);
    const out = backend.makeOutput(d.outShape, x.dtype);
    const o = out.values;
    const { inHeight: h, inWidth: w, poolHeight: kh, poolWidth: kw } = d;
    const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = d;
    let oi = 0;
    if (kh === 2 && kw === 2 && v instanceof Float32Array && o instanceof Float32Array) {
      maxPool2x2Float32(v, o, d);
      return out.info;
    }
    if (kh === 2 && kw === 2) {
      for (let p = 0; p < d.planes; p++) {
        const base = p * h * w;
        for (let i = 0; i < ho; i++) {
          let s = base + i * sh * w;
          for (let j = 0; j < wo; j++, s += sw) {
            const a0 = v[s], a1 = v[s + 1], a2 = v[s + w], a3 = v[s + w + 1];
            let m = a0;
            if (a1 > m || a1 !== a1) m = a1;
            if (m === m && (a2 > m || a2 !== a2)) m = a2;
            if (m === m && (a3 > m || a3 !== a3)) m = a3;
            if (a0 !== a0) m = a0;
            o[oi++] = m;
          }
        }
      }
      return out.info;
    }
    for (let p = 0; p < d.planes; p++) {
      const base = p * h * w;
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          const start = base + i * sh * w + j * sw;
          let m = v[start];
          for (let a = 0; a < kh && m === m; a++) {
            const row = start + a * w;
            for (let b = 0; b < kw; b++) {
              const t = v[row + b];
              if (t > m || t !== t) {
                m = t;
                if (t !== t) break;
              }
            }
          }
          o[oi++] = m;
        }
      }
    }
    return out.info;
  },
});

export const maxPoolBackward = defineKernel<'maxPoolBackward', B>({
  kernelName: 'maxPoolBackward', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, x }, attrs, backend }) => {
    const d = dims('maxPoolBackward', x.shape, attrs);
    const v = backend.values(x), g = backend.values(dy);
    const out = backend.makeZeroOutput(x.shape, x.dtype);
    const o = out.values;
    let gi = 0;
    const { inHeight: h, inWidth: w, outHeight: ho, outWidth: wo } = d;
    if (d.poolHeight === 2 && d.poolWidth === 2 && v instanceof Float32Array && o instanceof Float32Array && !(g instanceof Int32Array)) {
      maxPool2x2BackwardFloat32(v, g, o, d);
      return out.info;
    }
    for (let p = 0; p < d.planes; p++) {
      const base = p * h * w;
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) o[argMaxWindow(v, base, d, i, j)] += g[gi++];
      }
    }
    return out.info;
  },
});

export const avgPool = defineKernel<'avgPool', B>({
  kernelName: 'avgPool', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const d = dims('avgPool', x.shape, attrs);
    const v = backend.values(x);
    const out = backend.makeOutput(d.outShape, x.dtype);
    const o = out.values;
    const { inHeight: h, inWidth: w, poolHeight: kh, poolWidth: kw } = d;
    const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = d;
    const inv = 1 / (kh * kw);
    let oi = 0;
    for (let p = 0; p < d.planes; p++) {
      const base = p * h * w;
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          const start = base + i * sh * w + j * sw;
          let t = 0;
          for (let a = 0; a < kh; a++) {
            const row = start + a * w;
            for (let b = 0; b < kw; b++) t += v[row + b];
          }
          o[oi++] = t * inv;
        }
      }
    }
    return out.info;
  },
});

export const avgPoolBackward = defineKernel<'avgPoolBackward', B>({
  kernelName: 'avgPoolBackward', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy }, attrs, backend }) => {
    const d = dims('avgPoolBackward', attrs.inputShape, attrs);
    const g = backend.values(dy);
    const out = backend.makeZeroOutput(attrs.inputShape, dy.dtype);
    const o = out.values;
    const { inHeight: h, inWidth: w, poolHeight: kh, poolWidth: kw } = d;
    const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = d;
    const inv = 1 / (kh * kw);
    let gi = 0;
    for (let p = 0; p < d.planes; p++) {
      const base = p * h * w;
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          const start = base + i * sh * w + j * sw;
          const t = g[gi++] * inv;
          for (let a = 0; a < kh; a++) {
            const row = start + a * w;
            for (let b = 0; b < kw; b++) o[row + b] += t;
          }
        }
      }
    }
    return out.info;
  },
});

export const l2Pool = defineKernel<'l2Pool', B>({
  kernelName: 'l2Pool', backendName: 'cpu',
  kernelFunc: ({ inputs: { x }, attrs, backend }) => {
    const d = dims('l2Pool', x.shape, attrs);
    const v = backend.values(x);
    const out = backend.makeOutput(d.outShape, x.dtype);
    const o = out.values;
    const { inHeight: h, inWidth: w, poolHeight: kh, poolWidth: kw } = d;
    const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = d;
    let oi = 0;
    for (let p = 0; p < d.planes; p++) {
      const base = p * h * w;
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          const start = base + i * sh * w + j * sw;
          let t = 0;
          for (let a = 0; a < kh; a++) {
            const row = start + a * w;
            for (let b = 0; b < kw; b++) {
              const q = v[row + b];
              t += q * q;
            }
          }
          o[oi++] = Math.sqrt(t);
        }
      }
    }
    return out.info;
  },
});

export const l2PoolBackward = defineKernel<'l2PoolBackward', B>({
  kernelName: 'l2PoolBackward', backendName: 'cpu',
  kernelFunc: ({ inputs: { dy, x, y }, attrs, backend }) => {
    const d = dims('l2PoolBackward', x.shape, attrs);
    const v = backend.values(x), g = backend.values(dy), yv = backend.values(y);
    const out = backend.makeZeroOutput(x.shape, x.dtype);
    const o = out.values;
    const { inHeight: h, inWidth: w, poolHeight: kh, poolWidth: kw } = d;
    const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = d;
    let gi = 0;
    for (let p = 0; p < d.planes; p++) {
      const base = p * h * w;
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++, gi++) {
          const yy = yv[gi];
          if (yy === 0) continue;
          const t = g[gi] / yy;
          const start = base + i * sh * w + j * sw;
          for (let a = 0; a < kh; a++) {
            const row = start + a * w;
            for (let b = 0; b < kw; b++) o[row + b] += t * v[row + b];
          }
        }
      }
    }
    return out.info;
  },
});

export const poolKernels = [maxPool, maxPoolBackward, avgPool, avgPoolBackward, l2Pool, l2PoolBackward];
