// Max, average and L2 pooling (apps/docs/math/pooling.md) and their backward kernels, float32,
// NCHW planes, no padding. Window maxima are kept with selects (wasm `select`, no branch):
// which element of a window is largest is data-dependent and a branch would mispredict.
// The backward kernels zero ∂X, then accumulate each window's share (windows may overlap).

/** Offset in bytes (from the window start) of the window's first maximum; the first NaN wins. */
// @ts-ignore: decorator
@inline function firstMaxOffset(start: usize, rowBytes: usize, kh: i32, kw: i32): usize {
  let best = load<f32>(start);
  let at: usize = 0;
  for (let a = 0; a < kh; a++) {
    const row = <usize>a * rowBytes;
    for (let b = 0; b < kw; b++) {
      const q = row + (<usize>b << 2);
      const t = load<f32>(start + q);
      const take = t > best || (t != t && best == best);
      best = select<f32>(t, best, take);
      at = select<usize>(q, at, take);
    }
  }
  return at;
}

export function maxPool_f32(x: usize, o: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  const rowBytes = <usize>w << 2;
  let op = o;
  for (let p = 0; p < planes; p++) {
    const base = x + (<usize>p * <usize>h * <usize>w << 2);
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const start = base + (<usize>(i * sh * w + j * sw) << 2);
        store<f32>(op, load<f32>(start + firstMaxOffset(start, rowBytes, kh, kw)));
        op += 4;
      }
    }
  }
}

/** dy goes to each window's first maximum (NaN wins), accumulating overlaps. */
export function maxPoolBackward_f32(dy: usize, x: usize, dx: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  const rowBytes = <usize>w << 2;
  memory.fill(dx, 0, <usize>planes * <usize>h * <usize>w << 2);
  let gp = dy;
  for (let p = 0; p < planes; p++) {
    const offset = <usize>p * <usize>h * <usize>w << 2;
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const rel = offset + (<usize>(i * sh * w + j * sw) << 2);
        const d = dx + rel + firstMaxOffset(x + rel, rowBytes, kh, kw);
        store<f32>(d, load<f32>(d) + load<f32>(gp));
        gp += 4;
      }
    }
  }
}

/** Σ over the window at `start` of x (squares: Σ x²). */
// @ts-ignore: decorator
@inline function windowSum(start: usize, rowBytes: usize, kh: i32, kw: i32, squares: bool): f32 {
  let t: f32 = 0;
  for (let a = 0; a < kh; a++) {
    const row = start + <usize>a * rowBytes;
    for (let b = 0; b < kw; b++) {
      const q = load<f32>(row + (<usize>b << 2));
      t += squares ? q * q : q;
    }
  }
  return t;
}

/** Average (l2 = false: Σx / (kh·kw)) or L2 (l2 = true: sqrt(Σ x²)) pooling of every window. */
export function sumPool_f32(l2: bool, x: usize, o: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  const rowBytes = <usize>w << 2;
  const inv: f32 = <f32>(1.0 / <f64>(kh * kw));
  let op = o;
  for (let p = 0; p < planes; p++) {
    const base = x + (<usize>p * <usize>h * <usize>w << 2);
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const t = windowSum(base + (<usize>(i * sh * w + j * sw) << 2), rowBytes, kh, kw, l2);
        store<f32>(op, l2 ? Mathf.sqrt(t) : t * inv);
        op += 4;
      }
    }
  }
}

/**
 * The backward of sumPool_f32: average pooling spreads dy/(kh·kw) over the window; L2
 * pooling adds dy·x/y, 0 where y = 0 (a select, not a branch). `x` and `y` are read only for L2.
 */
export function sumPoolBackward_f32(l2: bool, dy: usize, x: usize, y: usize, dx: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  const inv: f32 = <f32>(1.0 / <f64>(kh * kw));
  const rowBytes = <usize>w << 2;
  memory.fill(dx, 0, <usize>planes * <usize>h * <usize>w << 2);
  let gi: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = <usize>p * <usize>h * <usize>w << 2;
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const g = load<f32>(dy + gi);
        let t = g * inv;
        if (l2) {
          const yy = load<f32>(y + gi);
          t = select<f32>(g / yy, 0, yy != 0);
        }
        gi += 4;
        const rel = plane + (<usize>(i * sh * w + j * sw) << 2);
        for (let a = 0; a < kh; a++) {
          const row = rel + <usize>a * rowBytes;
          for (let b = 0; b < kw; b++) {
            const q = row + (<usize>b << 2);
            store<f32>(dx + q, load<f32>(dx + q) + (l2 ? t * load<f32>(x + q) : t));
          }
        }
      }
    }
  }
}
