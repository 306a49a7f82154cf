// Element-wise kernels on float32: tensor ∘ tensor (same shape) and tensor ∘ scalar.
// Four lanes per step with 128-bit SIMD, then a scalar tail. wasm's f32.max/f32.min (and
// their f32x4 forms) propagate NaN like Math.max/Math.min.

export function add_f32(a: usize, b: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.add(v128.load(a + k), v128.load(b + k)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, load<f32>(a + k) + load<f32>(b + k));
  }
}

export function sub_f32(a: usize, b: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.sub(v128.load(a + k), v128.load(b + k)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, load<f32>(a + k) - load<f32>(b + k));
  }
}

export function mul_f32(a: usize, b: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.mul(v128.load(a + k), v128.load(b + k)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, load<f32>(a + k) * load<f32>(b + k));
  }
}

export function div_f32(a: usize, b: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.div(v128.load(a + k), v128.load(b + k)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, load<f32>(a + k) / load<f32>(b + k));
  }
}

export function maximum_f32(a: usize, b: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.max(v128.load(a + k), v128.load(b + k)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, max<f32>(load<f32>(a + k), load<f32>(b + k)));
  }
}

export function minimum_f32(a: usize, b: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.min(v128.load(a + k), v128.load(b + k)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, min<f32>(load<f32>(a + k), load<f32>(b + k)));
  }
}

export function addScalar_f32(x: usize, s: f32, o: usize, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.add(v128.load(x + k), sv));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, load<f32>(x + k) + s);
  }
}

export function mulScalar_f32(x: usize, s: f32, o: usize, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.mul(v128.load(x + k), sv));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, load<f32>(x + k) * s);
  }
}

export function maximumScalar_f32(x: usize, s: f32, o: usize, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.max(v128.load(x + k), sv));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, max<f32>(load<f32>(x + k), s));
  }
}

export function minimumScalar_f32(x: usize, s: f32, o: usize, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.min(v128.load(x + k), sv));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, min<f32>(load<f32>(x + k), s));
  }
}

/** x^e: e = 2 squares, e = 1 copies, otherwise pow in float64 (the exponent may not be a float32). */
export function powScalar_f32(x: usize, e: f64, o: usize, n: i32): void {
  if (e == 2) {
    square_f32(x, o, n);
    return;
  }
  if (e == 1) {
    memory.copy(o, x, <usize>n << 2);
    return;
  }
  for (let i = 0; i < n; i++) {
    const k = <usize>i << 2;
    store<f32>(o + k, <f32>Math.pow(<f64>load<f32>(x + k), e));
  }
}

export function square_f32(x: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const v = v128.load(x + k);
    v128.store(o + k, f32x4.mul(v, v));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const v = load<f32>(x + k);
    store<f32>(o + k, v * v);
  }
}
