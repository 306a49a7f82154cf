// conv2d (apps/docs/math/convolution.md) and its two gradients, float32, NCHW, filters (F, C, kh, kw).
// Per image: im2col builds the column matrix col[CKK, P] (CKK = C·kh·kw taps, P = Ho·Wo output
// pixels) and the GEMM (gemm.ts) does the products:
//   forward          Y_n[F, P]   = K[F, CKK] · col_n[CKK, P], then bias + activation per row
//   filter gradient  ∂K[F, CKK] += G_n[F, P] · col_nᵀ            (summed over the batch)
//   input gradient   dcol[CKK, P] = Kᵀ · G_n, then col2im scatter-adds it into ∂X_n
// A 1×1 stride-1 unpadded convolution needs no column matrix: col_n is the image itself.
// The sizes all come from computeConv2DInfo on the JavaScript side.
import { gemm } from './gemm';
import { biasRowsActivate_f32 } from './matmul';

// @ts-ignore: decorator
@inline function maxI(a: i32, b: i32): i32 { return a > b ? a : b; }
// @ts-ignore: decorator
@inline function minI(a: i32, b: i32): i32 { return a < b ? a : b; }

/** First output column j whose input column j·s + v − p is ≥ 0. */
// @ts-ignore: decorator
@inline function firstInside(v: i32, s: i32, p: i32): i32 {
  const d = p - v;
  return d <= 0 ? 0 : (d + s - 1) / s;
}

/** One past the last output column j whose input column j·s + v − p is < size. */
// @ts-ignore: decorator
@inline function endInside(v: i32, s: i32, p: i32, size: i32, out: i32): i32 {
  const d = size - 1 + p - v;
  return d < 0 ? 0 : minI(out, d / s + 1);
}

/** col[CKK, P] of one image x[C, H, W], zeros where a window reads the padding. */
export function im2col(x: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, ho: i32, wo: i32, col: usize): void {
  const np = ho * wo;
  let row = col;
  for (let ch = 0; ch < c; ch++) {
    const plane = x + (<usize>ch * <usize>h * <usize>w << 2);
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++) {
        const j0 = firstInside(v, sw, pw), j1 = maxI(j0, endInside(v, sw, pw, w, wo));
        for (let i = 0; i < ho; i++) {
          const dst = row + (<usize>(i * wo) << 2);
          const ih = i * sh + u - ph;
          if (ih < 0 || ih >= h) {
            memory.fill(dst, 0, <usize>wo << 2);
            continue;
          }
          if (j0 > 0) memory.fill(dst, 0, <usize>j0 << 2);
          const src = plane + (<usize>(ih * w + v - pw) << 2);
          if (sw == 1) memory.copy(dst + (<usize>j0 << 2), src + (<usize>j0 << 2), <usize>(j1 - j0) << 2);
          else for (let j = j0; j < j1; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>(j * sw) << 2)));
          if (j1 < wo) memory.fill(dst + (<usize>j1 << 2), 0, <usize>(wo - j1) << 2);
        }
        row += <usize>np << 2;
      }
    }
  }
}

/** dx[C, H, W] += col2im(dcol[CKK, P]): each column entry goes back to the pixel it was read from (padding dropped). */
export function col2imAdd(dcol: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, ho: i32, wo: i32, dx: usize): void {
  const np = ho * wo;
  let row = dcol;
  for (let ch = 0; ch < c; ch++) {
    const plane = dx + (<usize>ch * <usize>h * <usize>w << 2);
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++) {
        const j0 = firstInside(v, sw, pw), j1 = endInside(v, sw, pw, w, wo);
        for (let i = 0; i < ho; i++) {
          const ih = i * sh + u - ph;
          if (ih < 0 || ih >= h) continue;
          const src = row + (<usize>(i * wo) << 2);
          const dst = plane + (<usize>(ih * w + v - pw) << 2);
          for (let j = j0; j < j1; j++) {
            const p = dst + (<usize>(j * sw) << 2);
            store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>j << 2)));
          }
        }
        row += <usize>np << 2;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function isPointwise(kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): bool {
  return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
}

/**
 * Y = act(X ⋆ K + b). `col` holds C·kh·kw·Ho·Wo floats (unused for 1×1 stride-1 unpadded),
 * `scratch` gemmScratchBytes(F, Ho·Wo, C·kh·kw) bytes.
 */
export function conv2d_f32(
  x: usize, k: usize, bias: usize, hasBias: bool, y: usize,
  n: i32, c: i32, h: i32, w: i32, f: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  act: i32, alpha: f32, col: usize, scratch: usize,
): void {
  const np = ho * wo, taps = c * kh * kw;
  const pointwise = isPointwise(kh, kw, sh, sw, ph, pw);
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>img * <usize>c * <usize>h * <usize>w << 2);
    const yi = y + (<usize>img * <usize>f * <usize>np << 2);
    let cols = xi;
    if (!pointwise) {
      im2col(xi, c, h, w, kh, kw, sh, sw, ph, pw, ho, wo, col);
      cols = col;
    }
    gemm(false, false, f, np, taps, k, taps, cols, np, yi, np, false, scratch);
    biasRowsActivate_f32(yi, f, np, bias, hasBias, act, alpha);
  }
}

/** ∂X = col2im(Kᵀ · G_n) per image. `dcol` holds C·kh·kw·Ho·Wo floats. */
export function conv2dBackwardInput_f32(
  dy: usize, k: usize, dx: usize,
  n: i32, c: i32, h: i32, w: i32, f: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  dcol: usize, scratch: usize,
): void {
  const np = ho * wo, taps = c * kh * kw;
  const pointwise = isPointwise(kh, kw, sh, sw, ph, pw);
  const imageBytes = <usize>c * <usize>h * <usize>w << 2;
  for (let img = 0; img < n; img++) {
    const gi = dy + (<usize>img * <usize>f * <usize>np << 2);
    const xi = dx + <usize>img * imageBytes;
    if (pointwise) {
      gemm(true, false, taps, np, f, k, taps, gi, np, xi, np, false, scratch);
      continue;
    }
    gemm(true, false, taps, np, f, k, taps, gi, np, dcol, np, false, scratch);
    memory.fill(xi, 0, imageBytes);
    col2imAdd(dcol, c, h, w, kh, kw, sh, sw, ph, pw, ho, wo, xi);
  }
}

/** ∂K[F, CKK] = Σ_n G_n · col_nᵀ over n images via the GEMM, accumulated in image order. */
function filterGradGemm(
  x: usize, dy: usize, dk: usize,
  n: i32, c: i32, h: i32, w: i32, f: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  col: usize, scratch: usize,
): void {
  const np = ho * wo, taps = c * kh * kw;
  const pointwise = isPointwise(kh, kw, sh, sw, ph, pw);
  if (n == 0 || np == 0) {
    memory.fill(dk, 0, <usize>f * <usize>taps << 2);
    return;
  }
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>img * <usize>c * <usize>h * <usize>w << 2);
    const gi = dy + (<usize>img * <usize>f * <usize>np << 2);
    let cols = xi;
    if (!pointwise) {
      im2col(xi, c, h, w, kh, kw, sh, sw, ph, pw, ho, wo, col);
      cols = col;
    }
    gemm(false, true, f, taps, np, gi, np, cols, np, dk, taps, img > 0, scratch);
  }
}

/**
 * The filter gradient in partial sums over chunks of `chunk` images: partial p (F·CKK floats,
 * one after the other from `partials`) sums images p·chunk … p·chunk + chunk − 1 of these n
 * (the last chunk may be shorter); sumChunks_f32 adds them in chunk order. Fixed chunks keep the
 * summation order independent of how many threads share the chunks. `col` holds C·kh·kw·Ho·Wo
 * floats, `scratch` gemmScratchBytes(F, C·kh·kw, Ho·Wo) bytes.
 */
export function conv2dBackwardFilter_f32(
  x: usize, dy: usize, partials: usize,
  n: i32, c: i32, h: i32, w: i32, f: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  chunk: i32, col: usize, scratch: usize,
): void {
  const inBytes = <usize>c * <usize>h * <usize>w << 2, outBytes = <usize>f * <usize>(ho * wo) << 2;
  const partBytes = <usize>f * <usize>(c * kh * kw) << 2;
  for (let s = 0, p = 0; s < n; s += chunk, p++) {
    const m = minI(chunk, n - s);
    filterGradGemm(x + <usize>s * inBytes, dy + <usize>s * outBytes, partials + <usize>p * partBytes, m, c, h, w, f, kh, kw, sh, sw, ph, pw, ho, wo, col, scratch);
  }
}

/** o[len] = Σ partial p (p = 0 … count − 1, each len floats from `partials`), added in order; zeros for count 0. */
export function sumChunks_f32(partials: usize, count: i32, len: i32, o: usize): void {
  const bytes = <usize>len << 2;
  if (count == 0) {
    memory.fill(o, 0, bytes);
    return;
  }
  memory.copy(o, partials, bytes);
  for (let p = 1; p < count; p++) {
    const src = partials + <usize>p * bytes;
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      const k = <usize>i << 2;
      v128.store(o + k, f32x4.add(v128.load(o + k), v128.load(src + k)));
    }
    for (; i < len; i++) {
      const k = <usize>i << 2;
      store<f32>(o + k, load<f32>(o + k) + load<f32>(src + k));
    }
  }
}

/** Count of non-zero floats (±0 are zero), four lanes at a time. */
export function nonZeroCount_f32(x: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let acc = i32x4.splat(0);
  let i = 0;
  // ne gives −1 in each non-zero lane: subtracting counts them.
  for (; i + 4 <= n; i += 4) acc = i32x4.sub(acc, f32x4.ne(v128.load(x + (<usize>i << 2)), zero));
  let count = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; i < n; i++) count += i32(load<f32>(x + (<usize>i << 2)) != 0);
  return count;
}

/** Whether every value is finite: x·0 is 0 for finite x and NaN for ±Inf or NaN. */
export function allFinite_f32(x: usize, n: i32): bool {
  let acc = f32x4.splat(0);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(x + (<usize>i << 2)), zero));
  let z: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < n; i++) z += load<f32>(x + (<usize>i << 2)) * 0;
  return z == 0;
}

/**
 * The filter gradient over dy's non-zeros only (the trick of backend-cpu's
 * sparseFilterGradient.ts): behind max pooling + ReLU most of dy is zero, so each (image,
 * filter)'s non-zeros are listed once (branch-free: always written, kept when non-zero) and
 * the taps run over that list. The image is read from a zero-padded copy xp of C planes of
 * hp×wp, so a tap (c, u, v) is the constant offset off[t] = (c·hp + u)·wp + v from a pixel's
 * window origin. Only for finite x (a skipped 0·NaN would change the result).
 * Scratch: xp (C·hp·wp floats), pos (P i32), val (P floats), off (taps i32).
 */
function filterGradSparse(
  x: usize, dy: usize, dk: usize,
  n: i32, c: i32, h: i32, w: i32, f: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  hp: i32, wp: i32, xp: usize, pos: usize, val: usize, off: usize,
): void {
  const np = ho * wo, taps = c * kh * kw;
  memory.fill(dk, 0, <usize>f * <usize>taps << 2);
  let t = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++) {
        store<i32>(off + (<usize>t << 2), ((ch * hp + u) * wp + v) << 2);
        t++;
      }
    }
  }
  memory.fill(xp, 0, <usize>c * <usize>hp * <usize>wp << 2);
  for (let img = 0; img < n; img++) {
    let padded = false;
    for (let fi = 0; fi < f; fi++) {
      const g = dy + ((<usize>img * <usize>f + <usize>fi) * <usize>np << 2);
      let cnt = 0;
      let p = 0;
      for (let i = 0; i < ho; i++) {
        const rowBase = i * sh * wp;
        for (let j = 0; j < wo; j++, p++) {
          const gv = load<f32>(g + (<usize>p << 2));
          store<i32>(pos + (<usize>cnt << 2), (rowBase + j * sw) << 2);
          store<f32>(val + (<usize>cnt << 2), gv);
          cnt += i32(gv != 0);
        }
      }
      if (cnt == 0) continue;
      if (!padded) {
        const xi = x + (<usize>img * <usize>c * <usize>h * <usize>w << 2);
        for (let ch = 0; ch < c; ch++) {
          for (let r = 0; r < h; r++) {
            memory.copy(
              xp + (<usize>((ch * hp + r + ph) * wp + pw) << 2),
              xi + (<usize>((ch * h + r) * w) << 2),
              <usize>w << 2,
            );
          }
        }
        padded = true;
      }
      const row = dk + (<usize>fi * <usize>taps << 2);
      let tt = 0;
      // Four taps per pass over the list, then the rest one at a time.
      for (; tt + 4 <= taps; tt += 4) {
        const o0 = xp + <usize>load<i32>(off + (<usize>tt << 2));
        const o1 = xp + <usize>load<i32>(off + (<usize>tt << 2), 4);
        const o2 = xp + <usize>load<i32>(off + (<usize>tt << 2), 8);
        const o3 = xp + <usize>load<i32>(off + (<usize>tt << 2), 12);
        let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
        for (let q = 0; q < cnt; q++) {
          const b = <usize>load<i32>(pos + (<usize>q << 2));
          const gv = load<f32>(val + (<usize>q << 2));
          a0 += gv * load<f32>(o0 + b);
          a1 += gv * load<f32>(o1 + b);
          a2 += gv * load<f32>(o2 + b);
          a3 += gv * load<f32>(o3 + b);
        }
        const d = row + (<usize>tt << 2);
        v128.store(d, f32x4.add(v128.load(d), f32x4(a0, a1, a2, a3)));
      }
      for (; tt < taps; tt++) {
        const o0 = xp + <usize>load<i32>(off + (<usize>tt << 2));
        let a0: f32 = 0;
        for (let q = 0; q < cnt; q++) {
          a0 += load<f32>(val + (<usize>q << 2)) * load<f32>(o0 + <usize>load<i32>(pos + (<usize>q << 2)));
        }
        const d = row + (<usize>tt << 2);
        store<f32>(d, load<f32>(d) + a0);
      }
    }
  }
}

/** filterGradSparse in partial sums over chunks of `chunk` images, as conv2dBackwardFilter_f32. */
export function conv2dBackwardFilterSparse_f32(
  x: usize, dy: usize, partials: usize,
  n: i32, c: i32, h: i32, w: i32, f: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  hp: i32, wp: i32, chunk: i32, xp: usize, pos: usize, val: usize, off: usize,
): void {
  const inBytes = <usize>c * <usize>h * <usize>w << 2, outBytes = <usize>f * <usize>(ho * wo) << 2;
  const partBytes = <usize>f * <usize>(c * kh * kw) << 2;
  for (let s = 0, p = 0; s < n; s += chunk, p++) {
    const m = minI(chunk, n - s);
    filterGradSparse(x + <usize>s * inBytes, dy + <usize>s * outBytes, partials + <usize>p * partBytes, m, c, h, w, f, kh, kw, sh, sw, ph, pw, ho, wo, hp, wp, xp, pos, val, off);
  }
}
