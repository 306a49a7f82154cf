// Activations and their backward kernels (apps/docs/math/activations.md), float32.
// Selects are masks (f32x4.gt gives all-ones lanes where true), never branches: the sign of
// an activation is random and a data-dependent branch would mispredict half the time.

import { ACT_LEAKY_RELU, ACT_RELU, ACT_SIGMOID, ACT_TANH } from './codes';

/** o = act(x) over n floats (o may be x): the fused epilogue of matMul/conv2d and the activation kernels. */
export function activate_f32(x: usize, o: usize, n: i32, act: i32, alpha: f32): void {
  if (act == ACT_RELU) relu_f32(x, o, n);
  else if (act == ACT_LEAKY_RELU) leakyRelu_f32(x, o, n, alpha);
  else if (act == ACT_SIGMOID) sigmoid_f32(x, o, n);
  else if (act == ACT_TANH) tanh_f32(x, o, n);
  else if (x != o) memory.copy(o, x, <usize>n << 2);
}

/** max(0, x) with +0 for x ≤ 0 and NaN kept: x AND (x > 0 OR x ≠ x). */
export function relu_f32(x: usize, o: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const v = v128.load(x + k);
    v128.store(o + k, v128.and(v, v128.or(f32x4.gt(v, zero), f32x4.ne(v, v))));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const v = load<f32>(x + k);
    store<f32>(o + k, select<f32>(v, 0, v > 0 || v != v));
  }
}

/** dx = dy · 1[x > 0] (ReLU'(0) = 0). */
export function reluBackward_f32(dy: usize, x: usize, o: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, v128.and(v128.load(dy + k), f32x4.gt(v128.load(x + k), zero)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, select<f32>(load<f32>(dy + k), 0, load<f32>(x + k) > 0));
  }
}

export function leakyRelu_f32(x: usize, o: usize, n: i32, alpha: f32): void {
  const zero = f32x4.splat(0);
  const av = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const v = v128.load(x + k);
    v128.store(o + k, v128.bitselect(v, f32x4.mul(v, av), f32x4.gt(v, zero)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const v = load<f32>(x + k);
    store<f32>(o + k, select<f32>(v, v * alpha, v > 0));
  }
}

/** dx = dy · (x > 0 ? 1 : alpha). */
export function leakyReluBackward_f32(dy: usize, x: usize, o: usize, n: i32, alpha: f32): void {
  const zero = f32x4.splat(0);
  const av = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const g = v128.load(dy + k);
    v128.store(o + k, v128.bitselect(g, f32x4.mul(g, av), f32x4.gt(v128.load(x + k), zero)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const g = load<f32>(dy + k);
    store<f32>(o + k, select<f32>(g, g * alpha, load<f32>(x + k) > 0));
  }
}

/** Stable sigmoid: e = exp(−|x|); x ≥ 0 → 1/(1+e), x < 0 → e/(1+e) (NaN stays NaN). */
export function sigmoid_f32(x: usize, o: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const k = <usize>i << 2;
    const v = load<f32>(x + k);
    const e = Mathf.exp(-Mathf.abs(v));
    const r: f32 = 1 / (1 + e);
    store<f32>(o + k, select<f32>(r, e * r, v >= 0 || v != v));
  }
}

/** dx = dy · y(1 − y). */
export function sigmoidBackward_f32(dy: usize, y: usize, o: usize, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const t = v128.load(y + k);
    v128.store(o + k, f32x4.mul(f32x4.mul(v128.load(dy + k), t), f32x4.sub(one, t)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const t = load<f32>(y + k);
    store<f32>(o + k, load<f32>(dy + k) * t * (1 - t));
  }
}

export function tanh_f32(x: usize, o: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, Mathf.tanh(load<f32>(x + k)));
  }
}

/** dx = dy · (1 − y²). */
export function tanhBackward_f32(dy: usize, y: usize, o: usize, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const t = v128.load(y + k);
    v128.store(o + k, f32x4.mul(v128.load(dy + k), f32x4.sub(one, f32x4.mul(t, t))));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const t = load<f32>(y + k);
    store<f32>(o + k, load<f32>(dy + k) * (1 - t * t));
  }
}
