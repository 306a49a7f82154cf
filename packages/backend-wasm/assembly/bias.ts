// Bias along axis 1 of (N, C, inner): y = x + b, and its gradient ∂b = Σ over N and inner
// (accumulated in float64, as the reference does, in fixed chunks of images).
import { biasRowsActivate_f32 } from './matmul';
import { ACT_LINEAR } from './codes';

export function biasAdd_f32(x: usize, bias: usize, o: usize, n: i32, ch: i32, inner: i32): void {
  const plane = <usize>ch * <usize>inner << 2;
  if (x != o) memory.copy(o, x, <usize>n * plane);
  for (let s = 0; s < n; s++) biasRowsActivate_f32(o + <usize>s * plane, ch, inner, bias, true, ACT_LINEAR, 0);
}

/**
 * ∂b in partial sums over chunks of `chunk` images: partials[p·ch + c] (float64) sums channel c
 * over images p·chunk … p·chunk + chunk − 1; biasGradSum_f32 adds them in chunk order (fixed
 * chunks: the same order whatever the number of threads sharing them).
 */
export function biasGradChunks_f64(dy: usize, partials: usize, n: i32, ch: i32, inner: i32, chunk: i32): void {
  for (let s = 0, p = 0; s < n; s += chunk, p++) {
    const end = s + chunk < n ? s + chunk : n;
    for (let c = 0; c < ch; c++) {
      let total: f64 = 0;
      for (let img = s; img < end; img++) {
        const base = dy + ((<usize>img * <usize>ch + <usize>c) * <usize>inner << 2);
        let acc = f32x4.splat(0);
        let t: f64 = 0;
        let i = 0;
        // Partial sums of four in float32 (short: at most `inner` terms per lane), totals in float64.
        for (; i + 4 <= inner; i += 4) acc = f32x4.add(acc, v128.load(base + (<usize>i << 2)));
        t = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
        for (; i < inner; i++) t += <f64>load<f32>(base + (<usize>i << 2));
        total += t;
      }
      store<f64>(partials + ((<usize>p * <usize>ch + <usize>c) << 3), total);
    }
  }
}

/** o[c] = Σ_p partials[p·ch + c] in chunk order, rounded once to float32. */
export function biasGradSum_f32(partials: usize, count: i32, ch: i32, o: usize): void {
  for (let c = 0; c < ch; c++) {
    let total: f64 = 0;
    for (let p = 0; p < count; p++) total += load<f64>(partials + ((<usize>p * <usize>ch + <usize>c) << 3));
    store<f32>(o + (<usize>c << 2), <f32>total);
  }
}
