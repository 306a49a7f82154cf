// Bias along axis 1 of (N, C, inner): y = x + b, and its gradient ∂b = Σ over N and inner
// (accumulated in float64, as the reference does).
import { biasRowsActivate_f32 } from './matmul';
import { ACT_LINEAR } from './codes';

export function biasAdd_f32(x: usize, bias: usize, o: usize, n: i32, ch: i32, inner: i32): void {
  const plane = <usize>ch * <usize>inner << 2;
  if (x != o) memory.copy(o, x, <usize>n * plane);
  for (let s = 0; s < n; s++) biasRowsActivate_f32(o + <usize>s * plane, ch, inner, bias, true, ACT_LINEAR, 0);
}

export function biasGrad_f32(dy: usize, o: usize, n: i32, ch: i32, inner: i32): void {
  for (let c = 0; c < ch; c++) {
    let total: f64 = 0;
    for (let s = 0; s < n; s++) {
      const base = dy + ((<usize>s * <usize>ch + <usize>c) * <usize>inner << 2);
      let acc = f32x4.splat(0);
      let t: f64 = 0;
      let i = 0;
      // Partial sums of four in float32 (short: at most `inner` terms per lane), totals in float64.
      for (; i + 4 <= inner; i += 4) acc = f32x4.add(acc, v128.load(base + (<usize>i << 2)));
      t = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
      for (; i < inner; i++) t += <f64>load<f32>(base + (<usize>i << 2));
      total += t;
    }
    store<f32>(o + (<usize>c << 2), <f32>total);
  }
}
