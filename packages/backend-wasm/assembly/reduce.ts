// sum / max over axes, and argMax along one axis, float32.
//
// The JavaScript side collapses the shape into runs of adjacent axes that are all reduced or
// all kept (size-1 axes dropped) and passes them as `rank` i32 pairs at `dims`:
// (size, reduced ? 1 : 0). The input is walked once in row-major order; the innermost run is
// either reduced into one output or mapped one-to-one onto a contiguous output run, and an
// odometer over the outer runs tracks the output offset. Sums accumulate into a float64
// scratch `acc` of outSize values, then are rounded once.

// @ts-ignore: decorator
@inline function dimSize(dims: usize, d: i32): i32 {
  return load<i32>(dims + (<usize>d << 3));
}
// @ts-ignore: decorator
@inline function dimReduced(dims: usize, d: i32): bool {
  return load<i32>(dims + (<usize>d << 3), 4) != 0;
}

/**
 * isMax = false: out = Σ; true: out = max (the first NaN wins). `ostride` is i32 scratch of
 * `rank` output strides, `counters` i32 scratch of `rank` counters.
 */
export function reduce_f32(x: usize, o: usize, outSize: i32, dims: usize, rank: i32, isMax: bool, acc: usize, ostride: usize, counters: usize): void {
  if (rank == 0) {
    // Every axis has size 1 (or there are none): a copy.
    store<f32>(o, load<f32>(x));
    return;
  }
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const s = dimReduced(dims, d) ? 0 : stride;
    store<i32>(ostride + (<usize>d << 2), s);
    if (!dimReduced(dims, d)) stride *= dimSize(dims, d);
    store<i32>(counters + (<usize>d << 2), 0);
  }
  for (let i = 0; i < outSize; i++) {
    if (isMax) store<f32>(o + (<usize>i << 2), -Infinity);
    else store<f64>(acc + (<usize>i << 3), 0);
  }
  const last = dimSize(dims, rank - 1);
  const lastReduced = dimReduced(dims, rank - 1);
  let outer = 1;
  for (let d = 0; d < rank - 1; d++) outer *= dimSize(dims, d);
  let xp = x;
  let oi = 0;
  for (let r = 0; r < outer; r++) {
    if (lastReduced) {
      if (isMax) {
        const op = o + (<usize>oi << 2);
        let m = load<f32>(op);
        for (let j = 0; j < last; j++) {
          const v = load<f32>(xp + (<usize>j << 2));
          m = select<f32>(v, m, v > m || (v != v && m == m));
        }
        store<f32>(op, m);
      } else {
        let s: f64 = 0;
        for (let j = 0; j < last; j++) s += <f64>load<f32>(xp + (<usize>j << 2));
        const ap = acc + (<usize>oi << 3);
        store<f64>(ap, load<f64>(ap) + s);
      }
    } else if (isMax) {
      const ob = o + (<usize>oi << 2);
      let j = 0;
      for (; j + 4 <= last; j += 4) {
        const k = <usize>j << 2;
        // f32x4.max propagates NaN, which is what the first-NaN-wins rule gives for max values.
        v128.store(ob + k, f32x4.max(v128.load(ob + k), v128.load(xp + k)));
      }
      for (; j < last; j++) {
        const k = <usize>j << 2;
        store<f32>(ob + k, max<f32>(load<f32>(ob + k), load<f32>(xp + k)));
      }
    } else {
      const ab = acc + (<usize>oi << 3);
      for (let j = 0; j < last; j++) {
        const q = ab + (<usize>j << 3);
        store<f64>(q, load<f64>(q) + <f64>load<f32>(xp + (<usize>j << 2)));
      }
    }
    xp += <usize>last << 2;
    for (let d = rank - 2; d >= 0; d--) {
      const cp = counters + (<usize>d << 2);
      const c = load<i32>(cp) + 1;
      const s = load<i32>(ostride + (<usize>d << 2));
      oi += s;
      if (c < dimSize(dims, d)) {
        store<i32>(cp, c);
        break;
      }
      oi -= s * dimSize(dims, d);
      store<i32>(cp, 0);
    }
  }
  if (!isMax) {
    for (let i = 0; i < outSize; i++) store<f32>(o + (<usize>i << 2), <f32>load<f64>(acc + (<usize>i << 3)));
  }
}

/** Index (int32) of the first maximum along the middle axis of (outer, len, inner); a NaN wins. */
export function argMax_f32(x: usize, o: usize, outer: i32, len: i32, inner: i32): void {
  const step = <usize>inner << 2;
  for (let a = 0; a < outer; a++) {
    for (let b = 0; b < inner; b++) {
      let p = x + ((<usize>a * <usize>len * <usize>inner + <usize>b) << 2);
      let best = load<f32>(p);
      let bi = 0;
      for (let k = 1; k < len; k++) {
        p += step;
        const t = load<f32>(p);
        // Take t when it is larger, or when it is the first NaN (best is not NaN yet).
        const take = t > best || (t != t && best == best);
        best = select<f32>(t, best, take);
        bi = select<i32>(k, bi, take);
      }
      store<i32>(o + ((<usize>a * <usize>inner + <usize>b) << 2), bi);
    }
  }
}
