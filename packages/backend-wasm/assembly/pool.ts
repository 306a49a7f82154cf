// Max, average and L2 pooling (apps/docs/math/pooling.md) and their backward kernels, float32,
// NCHW planes, no padding. Window maxima are kept with selects (wasm `select`, no branch):
// which element of a window is largest is data-dependent and a branch would mispredict.
// The backward kernels zero ∂X, then accumulate each window's share (windows may overlap).

/**
 * Whether t replaces the window's current maximum m: t is larger, or t is the first NaN.
 * Computed with bitwise and/or on the comparisons (no short-circuit branch).
 */
// @ts-ignore: decorator
@inline function takes(t: f32, m: f32): bool {
  return <bool>(<i32>(t > m) | (<i32>(t != t) & <i32>(m == m)));
}

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
      const take = takes(t, best);
      best = select<f32>(t, best, take);
      at = select<usize>(q, at, take);
    }
  }
  return at;
}

/** firstMaxOffset unrolled for a 2×2 window (the pooling of both presets). */
// @ts-ignore: decorator
@inline function firstMaxOffset2x2(start: usize, rowBytes: usize): usize {
  let best = load<f32>(start);
  let at: usize = 0;
  let t = load<f32>(start, 4);
  let take = takes(t, best);
  best = select<f32>(t, best, take);
  at = select<usize>(4, at, take);
  t = load<f32>(start + rowBytes);
  take = takes(t, best);
  best = select<f32>(t, best, take);
  at = select<usize>(rowBytes, at, take);
  t = load<f32>(start + rowBytes, 4);
  return select<usize>(rowBytes + 4, at, takes(t, best));
}

/**
 * 2×2 windows at stride 2, four outputs per step: the element-wise max of the two rows, then
 * of even and odd lanes. f32x4.max propagates NaN, so a window holding a NaN gives NaN, as the
 * first-NaN rule does (only its payload could differ).
 */
function maxPool2x2Stride2(x: usize, o: usize, planes: i32, h: i32, w: i32, ho: i32, wo: i32): void {
  const rowBytes = <usize>w << 2;
  let op = o;
  for (let p = 0; p < planes; p++) {
    const base = x + (<usize>p * <usize>h * <usize>w << 2);
    for (let i = 0; i < ho; i++) {
      const r0 = base + (<usize>(2 * i) * rowBytes);
      const r1 = r0 + rowBytes;
      let j = 0;
      for (; j + 4 <= wo; j += 4) {
        const k = <usize>j << 3;
        const m0 = f32x4.max(v128.load(r0 + k), v128.load(r1 + k));
        const m1 = f32x4.max(v128.load(r0 + k, 16), v128.load(r1 + k, 16));
        const even = v128.shuffle<f32>(m0, m1, 0, 2, 4, 6);
        const odd = v128.shuffle<f32>(m0, m1, 1, 3, 5, 7);
        v128.store(op, f32x4.max(even, odd));
        op += 16;
      }
      for (; j < wo; j++) {
        const k = <usize>j << 3;
        store<f32>(op, max<f32>(max<f32>(load<f32>(r0 + k), load<f32>(r0 + k, 4)), max<f32>(load<f32>(r1 + k), load<f32>(r1 + k, 4))));
        op += 4;
      }
    }
  }
}

export function maxPool_f32(x: usize, o: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2) {
    maxPool2x2Stride2(x, o, planes, h, w, ho, wo);
    return;
  }
  const rowBytes = <usize>w << 2;
  const is2x2 = kh == 2 && kw == 2;
  let op = o;
  for (let p = 0; p < planes; p++) {
    const base = x + (<usize>p * <usize>h * <usize>w << 2);
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const start = base + (<usize>(i * sh * w + j * sw) << 2);
        const at = is2x2 ? firstMaxOffset2x2(start, rowBytes) : firstMaxOffset(start, rowBytes, kh, kw);
        store<f32>(op, load<f32>(start + at));
        op += 4;
      }
    }
  }
}

/**
 * maxPoolBackward for 2×2 windows at stride 2 (they do not overlap), four windows per step:
 * the window's elements a0..a3 (deinterleaved from the two rows) hit when they equal the max
 * (or, in a window holding a NaN, when they are NaN); the first hit takes dy, the others 0,
 * with masks: e0 = h0, e1 = h1 ∧ ¬h0, e2 = h2 ∧ ¬(h0 ∨ h1), e3 = h3 ∧ ¬(h0 ∨ h1 ∨ h2).
 * Exactly one element hits first, so every window element is written (no accumulation);
 * dx starts zeroed for the rows and columns no window covers.
 */
function maxPool2x2Stride2Backward(dy: usize, x: usize, dx: usize, planes: i32, h: i32, w: i32, ho: i32, wo: i32): void {
  const rowBytes = <usize>w << 2;
  const planeBytes = <usize>h * rowBytes;
  memory.fill(dx, 0, <usize>planes * planeBytes);
  let gp = dy;
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < ho; i++) {
      const rel0 = <usize>p * planeBytes + <usize>(2 * i) * rowBytes;
      const rel1 = rel0 + rowBytes;
      let j = 0;
      for (; j + 4 <= wo; j += 4) {
        const k = <usize>j << 3;
        const r0a = v128.load(x + rel0 + k), r0b = v128.load(x + rel0 + k, 16);
        const r1a = v128.load(x + rel1 + k), r1b = v128.load(x + rel1 + k, 16);
        const a0 = v128.shuffle<f32>(r0a, r0b, 0, 2, 4, 6), a1 = v128.shuffle<f32>(r0a, r0b, 1, 3, 5, 7);
        const a2 = v128.shuffle<f32>(r1a, r1b, 0, 2, 4, 6), a3 = v128.shuffle<f32>(r1a, r1b, 1, 3, 5, 7);
        const m = f32x4.max(f32x4.max(a0, a1), f32x4.max(a2, a3));
        const h0 = v128.or(f32x4.eq(a0, m), f32x4.ne(a0, a0));
        const h1 = v128.or(f32x4.eq(a1, m), f32x4.ne(a1, a1));
        const h2 = v128.or(f32x4.eq(a2, m), f32x4.ne(a2, a2));
        const h3 = v128.or(f32x4.eq(a3, m), f32x4.ne(a3, a3));
        const g = v128.load(gp);
        gp += 16;
        const t0 = v128.and(g, h0);
        const t1 = v128.and(g, v128.andnot(h1, h0));
        const seen = v128.or(h0, h1);
        const t2 = v128.and(g, v128.andnot(h2, seen));
        const t3 = v128.and(g, v128.andnot(h3, v128.or(seen, h2)));
        v128.store(dx + rel0 + k, v128.shuffle<f32>(t0, t1, 0, 4, 1, 5));
        v128.store(dx + rel0 + k, v128.shuffle<f32>(t0, t1, 2, 6, 3, 7), 16);
        v128.store(dx + rel1 + k, v128.shuffle<f32>(t2, t3, 0, 4, 1, 5));
        v128.store(dx + rel1 + k, v128.shuffle<f32>(t2, t3, 2, 6, 3, 7), 16);
      }
      for (; j < wo; j++) {
        const rel = rel0 + (<usize>j << 3);
        store<f32>(dx + rel + firstMaxOffset2x2(x + rel, rowBytes), load<f32>(gp));
        gp += 4;
      }
    }
  }
}

/** dy goes to each window's first maximum (NaN wins), accumulating overlaps. */
export function maxPoolBackward_f32(dy: usize, x: usize, dx: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2) {
    maxPool2x2Stride2Backward(dy, x, dx, planes, h, w, ho, wo);
    return;
  }
  const rowBytes = <usize>w << 2;
  const is2x2 = kh == 2 && kw == 2;
  memory.fill(dx, 0, <usize>planes * <usize>h * <usize>w << 2);
  let gp = dy;
  for (let p = 0; p < planes; p++) {
    const offset = <usize>p * <usize>h * <usize>w << 2;
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const rel = offset + (<usize>(i * sh * w + j * sw) << 2);
        const at = is2x2 ? firstMaxOffset2x2(x + rel, rowBytes) : firstMaxOffset(x + rel, rowBytes, kh, kw);
        const d = dx + rel + at;
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
