// Optimizer updates, in place on float32 (apps/docs/math/gradient-descent.md). g' = g + wd·θ
// (classic L2 decay). Four parameters per SIMD step; the scalar tail repeats the same formula.

/** θ ← θ − lr·g'. */
export function sgdUpdate_f32(p: usize, g: usize, n: i32, lr: f32, wd: f32): void {
  const lrv = f32x4.splat(lr), wdv = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const pv = v128.load(p + k);
    const gv = f32x4.add(v128.load(g + k), f32x4.mul(wdv, pv));
    v128.store(p + k, f32x4.sub(pv, f32x4.mul(lrv, gv)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const pv = load<f32>(p + k);
    store<f32>(p + k, pv - lr * (load<f32>(g + k) + wd * pv));
  }
}

/** v ← μv + g'; θ ← θ − lr·v (Nesterov: θ ← θ − lr·(g' + μv)). */
export function momentumUpdate_f32(p: usize, g: usize, vel: usize, n: i32, lr: f32, wd: f32, mu: f32, nesterov: bool): void {
  const lrv = f32x4.splat(lr), wdv = f32x4.splat(wd), muv = f32x4.splat(mu);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const pv = v128.load(p + k);
    const gv = f32x4.add(v128.load(g + k), f32x4.mul(wdv, pv));
    const vv = f32x4.add(f32x4.mul(muv, v128.load(vel + k)), gv);
    v128.store(vel + k, vv);
    const step = nesterov ? f32x4.add(gv, f32x4.mul(muv, vv)) : vv;
    v128.store(p + k, f32x4.sub(pv, f32x4.mul(lrv, step)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const pv = load<f32>(p + k);
    const gi = load<f32>(g + k) + wd * pv;
    const vi = mu * load<f32>(vel + k) + gi;
    store<f32>(vel + k, vi);
    store<f32>(p + k, pv - lr * (nesterov ? gi + mu * vi : vi));
  }
}

/**
 * m ← β1 m + (1−β1) g'; v ← β2 v + (1−β2) g'²; θ ← θ − lr·(m/c1)/(sqrt(v/c2) + ε), where
 * c1 = 1 − β1ᵗ and c2 = 1 − β2ᵗ come from the caller (computed in float64 once per step).
 */
export function adamUpdate_f32(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, wd: f32, beta1: f32, beta2: f32, eps: f32, c1: f32, c2: f32): void {
  const lrv = f32x4.splat(lr), wdv = f32x4.splat(wd), b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2);
  const b1c = f32x4.splat(1 - beta1), b2c = f32x4.splat(1 - beta2), ev = f32x4.splat(eps);
  const c1v = f32x4.splat(c1), c2v = f32x4.splat(c2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const pv = v128.load(p + k);
    const gv = f32x4.add(v128.load(g + k), f32x4.mul(wdv, pv));
    const mv = f32x4.add(f32x4.mul(b1, v128.load(m + k)), f32x4.mul(b1c, gv));
    const vv = f32x4.add(f32x4.mul(b2, v128.load(v + k)), f32x4.mul(f32x4.mul(b2c, gv), gv));
    v128.store(m + k, mv);
    v128.store(v + k, vv);
    const num = f32x4.mul(lrv, f32x4.div(mv, c1v));
    const den = f32x4.add(f32x4.sqrt(f32x4.div(vv, c2v)), ev);
    v128.store(p + k, f32x4.sub(pv, f32x4.div(num, den)));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const pv = load<f32>(p + k);
    const gi = load<f32>(g + k) + wd * pv;
    const mi = beta1 * load<f32>(m + k) + (1 - beta1) * gi;
    const vi = beta2 * load<f32>(v + k) + (1 - beta2) * gi * gi;
    store<f32>(m + k, mi);
    store<f32>(v + k, vi);
    store<f32>(p + k, pv - (lr * (mi / c1)) / (Mathf.sqrt(vi / c2) + eps));
  }
}

/** s ← ρs + (1−ρ) g'²; θ ← θ − lr·g'/(sqrt(s) + ε). */
export function rmspropUpdate_f32(p: usize, g: usize, s: usize, n: i32, lr: f32, wd: f32, rho: f32, eps: f32): void {
  const lrv = f32x4.splat(lr), wdv = f32x4.splat(wd), rv = f32x4.splat(rho), rc = f32x4.splat(1 - rho), ev = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const pv = v128.load(p + k);
    const gv = f32x4.add(v128.load(g + k), f32x4.mul(wdv, pv));
    const sv = f32x4.add(f32x4.mul(rv, v128.load(s + k)), f32x4.mul(f32x4.mul(rc, gv), gv));
    v128.store(s + k, sv);
    v128.store(p + k, f32x4.sub(pv, f32x4.div(f32x4.mul(lrv, gv), f32x4.add(f32x4.sqrt(sv), ev))));
  }
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const pv = load<f32>(p + k);
    const gi = load<f32>(g + k) + wd * pv;
    const si = rho * load<f32>(s + k) + (1 - rho) * gi * gi;
    store<f32>(s + k, si);
    store<f32>(p + k, pv - (lr * gi) / (Mathf.sqrt(si) + eps));
  }
}
