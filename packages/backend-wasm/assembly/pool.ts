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

export function avgPool_f32(x: usize, o: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  const inv: f32 = <f32>(1.0 / <f64>(kh * kw));
  let op = o;
  for (let p = 0; p < planes; p++) {
    const base = x + (<usize>p * <usize>h * <usize>w << 2);
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const start = base + (<usize>(i * sh * w + j * sw) << 2);
        let t: f32 = 0;
        for (let a = 0; a < kh; a++) {
          const row = start + (<usize>(a * w) << 2);
          for (let b = 0; b < kw; b++) t += load<f32>(row + (<usize>b << 2));
        }
        store<f32>(op, t * inv);
        op += 4;
      }
    }
  }
}

export function avgPoolBackward_f32(dy: usize, dx: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  const inv: f32 = <f32>(1.0 / <f64>(kh * kw));
  memory.fill(dx, 0, <usize>planes * <usize>h * <usize>w << 2);
  let gp = dy;
  for (let p = 0; p < planes; p++) {
    const base = dx + (<usize>p * <usize>h * <usize>w << 2);
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const start = base + (<usize>(i * sh * w + j * sw) << 2);
        const t = load<f32>(gp) * inv;
        gp += 4;
        for (let a = 0; a < kh; a++) {
          const row = start + (<usize>(a * w) << 2);
          for (let b = 0; b < kw; b++) {
            const q = row + (<usize>b << 2);
            store<f32>(q, load<f32>(q) + t);
          }
        }
      }
    }
  }
}

/** y = sqrt(Σ x²) over each window. */
export function l2Pool_f32(x: usize, o: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  let op = o;
  for (let p = 0; p < planes; p++) {
    const base = x + (<usize>p * <usize>h * <usize>w << 2);
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const start = base + (<usize>(i * sh * w + j * sw) << 2);
        let t: f32 = 0;
        for (let a = 0; a < kh; a++) {
          const row = start + (<usize>(a * w) << 2);
          for (let b = 0; b < kw; b++) {
            const q = load<f32>(row + (<usize>b << 2));
            t += q * q;
          }
        }
        store<f32>(op, Mathf.sqrt(t));
        op += 4;
      }
    }
  }
}

/** dx += dy · x / y over each window, 0 where y = 0 (a select, not a branch). */
export function l2PoolBackward_f32(dy: usize, x: usize, y: usize, dx: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ho: i32, wo: i32): void {
  memory.fill(dx, 0, <usize>planes * <usize>h * <usize>w << 2);
  let gi: usize = 0;
  for (let p = 0; p < planes; p++) {
    const rel0 = <usize>p * <usize>h * <usize>w << 2;
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const yy = load<f32>(y + gi);
        const t = select<f32>(load<f32>(dy + gi) / yy, 0, yy != 0);
        gi += 4;
        const rel = rel0 + (<usize>(i * sh * w + j * sw) << 2);
        for (let a = 0; a < kh; a++) {
          const row = rel + (<usize>(a * w) << 2);
          for (let b = 0; b < kw; b++) {
            const q = row + (<usize>b << 2);
            store<f32>(dx + q, load<f32>(dx + q) + t * load<f32>(x + q));
          }
        }
      }
    }
  }
}
