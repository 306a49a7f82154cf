// Softmax, its backward, and log-softmax over the last axis of an (n, k) float32 tensor,
// max-shifted (a NaN in a row makes the shift NaN, so the whole row is NaN). Sums run in
// float64: the reference sums in float64 and a class axis can be long.
import { rowMax } from './rows';

export function softmax_f32(x: usize, o: usize, n: i32, k: i32): void {
  const row = <usize>k << 2;
  for (let r = 0; r < n; r++) {
    const xr = x + <usize>r * row, orow = o + <usize>r * row;
    const m = rowMax(xr, k);
    let total: f64 = 0;
    for (let j = 0; j < k; j++) {
      const t = Mathf.exp(load<f32>(xr + (<usize>j << 2)) - m);
      store<f32>(orow + (<usize>j << 2), t);
      total += t;
    }
    const inv = <f32>(1 / total);
    for (let j = 0; j < k; j++) {
      const p = orow + (<usize>j << 2);
      store<f32>(p, load<f32>(p) * inv);
    }
  }
}

export function logSoftmax_f32(x: usize, o: usize, n: i32, k: i32): void {
  const row = <usize>k << 2;
  for (let r = 0; r < n; r++) {
    const xr = x + <usize>r * row, orow = o + <usize>r * row;
    const m = rowMax(xr, k);
    let total: f64 = 0;
    for (let j = 0; j < k; j++) total += Mathf.exp(load<f32>(xr + (<usize>j << 2)) - m);
    const shift = <f64>m + Math.log(total);
    for (let j = 0; j < k; j++) {
      store<f32>(orow + (<usize>j << 2), <f32>(<f64>load<f32>(xr + (<usize>j << 2)) - shift));
    }
  }
}

/** dx = y ⊙ (dy − Σ_k dy_k y_k) per row. */
export function softmaxBackward_f32(dy: usize, y: usize, o: usize, n: i32, k: i32): void {
  const row = <usize>k << 2;
  for (let r = 0; r < n; r++) {
    const base = <usize>r * row;
    let dot: f64 = 0;
    for (let j = 0; j < k; j++) {
      const q = base + (<usize>j << 2);
      dot += <f64>load<f32>(dy + q) * <f64>load<f32>(y + q);
    }
    const d = <f32>dot;
    for (let j = 0; j < k; j++) {
      const q = base + (<usize>j << 2);
      store<f32>(o + q, load<f32>(y + q) * (load<f32>(dy + q) - d));
    }
  }
}
