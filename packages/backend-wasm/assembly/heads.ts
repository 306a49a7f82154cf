// The fused loss heads (apps/docs/math/losses.md), float32 tensors, float64 sums.
import { rowMax } from './rows';

/**
 * Softmax + categorical cross-entropy from logits (n, k) and targets (n, k):
 * ℓ_r = (Σ_k y)·LSE(x_r) − Σ_k y·x, loss = mean_r ℓ_r (one float at `loss`), grad = (p·Σy − y)/n.
 */
export function softmaxCrossEntropy_f32(x: usize, y: usize, loss: usize, grad: usize, n: i32, k: i32): void {
  const invN: f64 = n > 0 ? 1.0 / <f64>n : 0;
  const row = <usize>k << 2;
  let total: f64 = 0;
  for (let r = 0; r < n; r++) {
    const base = <usize>r * row;
    const m = rowMax(x + base, k);
    let z: f64 = 0, ySum: f64 = 0, yx: f64 = 0;
    for (let j = 0; j < k; j++) {
      const q = base + (<usize>j << 2);
      const xv = load<f32>(x + q), yv = <f64>load<f32>(y + q);
      const t = Mathf.exp(xv - m);
      store<f32>(grad + q, t);
      z += t;
      ySum += yv;
      yx += yv * <f64>xv;
    }
    total += ySum * (<f64>m + Math.log(z)) - yx;
    const scale = ySum / z;
    for (let j = 0; j < k; j++) {
      const q = base + (<usize>j << 2);
      store<f32>(grad + q, <f32>((<f64>load<f32>(grad + q) * scale - <f64>load<f32>(y + q)) * invN));
    }
  }
  store<f32>(loss, <f32>(total * invN));
}

/**
 * Sigmoid + binary cross-entropy from logits, m elements: ℓ = max(x,0) − x·y + log1p(e^−|x|),
 * loss = mean (one float at `loss`), grad = (σ(x) − y)/m with the stable two-branch sigmoid.
 */
export function sigmoidCrossEntropy_f32(x: usize, y: usize, loss: usize, grad: usize, m: i32): void {
  const invM: f64 = m > 0 ? 1.0 / <f64>m : 0;
  let total: f64 = 0;
  for (let i = 0; i < m; i++) {
    const q = <usize>i << 2;
    const v = <f64>load<f32>(x + q), t = <f64>load<f32>(y + q);
    const e = Math.exp(-Math.abs(v));
    total += select<f64>(v, 0, v > 0) - v * t + Math.log1p(e);
    const r = 1 / (1 + e);
    const sig = select<f64>(r, e * r, v >= 0);
    store<f32>(grad + q, <f32>((sig - t) * invM));
  }
  store<f32>(loss, <f32>(total * invM));
}
