// Unary float32 kernels. neg/sqrt/abs are single SIMD instructions; exp/log/log1p use
// AssemblyScript's float32 Math (musl ports, well within the suite's 1e-4 relative tolerance).
// square lives in elementwise.ts (powScalar with exponent 2 shares it).

export function neg_f32(x: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.neg(v128.load(x + k)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, -load<f32>(x + k));
  }
}

export function sqrt_f32(x: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.sqrt(v128.load(x + k)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, Mathf.sqrt(load<f32>(x + k)));
  }
}

export function abs_f32(x: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.abs(v128.load(x + k)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, Mathf.abs(load<f32>(x + k)));
  }
}

/** sign(x): 1, −1, or x itself for ±0 and NaN (so sign(0) = 0 and sign(NaN) = NaN), without branches. */
export function sign_f32(x: usize, o: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const k = <usize>i << 2;
    const v = load<f32>(x + k);
    store<f32>(o + k, select<f32>(1, select<f32>(-1, v, v < 0), v > 0));
  }
}

export function exp_f32(x: usize, o: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, Mathf.exp(load<f32>(x + k)));
  }
}

export function log_f32(x: usize, o: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, Mathf.log(load<f32>(x + k)));
  }
}

export function log1p_f32(x: usize, o: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, Mathf.log1p(load<f32>(x + k)));
  }
}
