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

/**
 * Winograd F(2×2, 3×3) forward for 3×3 stride-1 convolutions (Lavin & Gray 2016; the same
 * algorithm as backend-cpu's kernels/winograd.ts): per image, Y_tile = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A
 * over 2×2 output tiles, with the channel sum as 16 GEMMs M[ξ] = U[ξ]·V[ξ] (U[ξ] F×C, V[ξ]
 * C×tiles): 16 products per tile and channel pair instead of 36. Transforms use 0, ±1, ±½ only,
 * so results differ from im2col + GEMM by rounding; only for finite x and filters (±Inf would
 * meet its own negation). The GEMMs run over `group` images' tiles at once (a wide N); each
 * element is a K-ascending sum over the channels whatever N is (gemm.ts), so neither the group
 * nor a thread split changes any result.
 * Scratch (T = group·⌈Ho/2⌉·⌈Wo/2⌉ tiles, tw4 = ⌈Wo/2⌉ rounded up to 4): u 16·F·C floats,
 * v 16·C·T, m 16·F·T + 36, pad (2·⌈Ho/2⌉ + 2)·(2·tw4 + 2), `scratch` gemmScratchBytes(F, T, C) bytes.
 */
export function conv2dWinograd_f32(
  x: usize, k: usize, bias: usize, hasBias: bool, y: usize,
  n: i32, c: i32, h: i32, w: i32, f: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  act: i32, alpha: f32, group: i32, u: usize, v: usize, m: usize, pad: usize, scratch: usize,
): void {
  const th = (ho + 1) >> 1, tw = (wo + 1) >> 1, tiles = th * tw;
  const fc = f * c;
  // U[ξ][fi, ch] = (G g Gᵀ)ξ, G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]].
  for (let i = 0; i < fc; i++) {
    const g = k + (<usize>i * 9 << 2);
    for (let col = 0; col < 3; col++) {
      // t = G·g: a 4×3 column by column, then U = t·Gᵀ row by row.
      const g0 = load<f32>(g + (<usize>col << 2)), g1 = load<f32>(g + (<usize>(3 + col) << 2)), g2 = load<f32>(g + (<usize>(6 + col) << 2));
      store<f32>(m + (<usize>col << 2), g0);
      store<f32>(m + (<usize>(3 + col) << 2), (g0 + g1 + g2) * 0.5);
      store<f32>(m + (<usize>(6 + col) << 2), (g0 - g1 + g2) * 0.5);
      store<f32>(m + (<usize>(9 + col) << 2), g2);
    }
    for (let r = 0; r < 4; r++) {
      const t0 = load<f32>(m + (<usize>(r * 3) << 2)), t1 = load<f32>(m + (<usize>(r * 3 + 1) << 2)), t2 = load<f32>(m + (<usize>(r * 3 + 2) << 2));
      const base = u + (<usize>(r * 4 * fc + i) << 2), step = <usize>fc << 2;
      store<f32>(base, t0);
      store<f32>(base + step, (t0 + t1 + t2) * 0.5);
      store<f32>(base + 2 * step, (t0 - t1 + t2) * 0.5);
      store<f32>(base + 3 * step, t2);
    }
  }
  // The input transform reads each channel from a zero-padded copy (rows 2·th + 2, columns
  // 2·tw4 + 2, tw4 = tw rounded up to 4), four tiles of a tile row at a time as f32x4 lanes.
  const tw4 = (tw + 3) & ~3, hp = 2 * th + 2, wp = 2 * tw4 + 2;
  const wpBytes = <usize>wp << 2;
  memory.fill(pad, 0, <usize>hp * wpBytes);
  const rows = minI(h, hp - ph), cols = minI(w, wp - pw);
  // Past M (each thread has its own): the edge lanes of loadTiles/storeTiles/writeTiles (d[0], 32
  // bytes, used only after the Aᵀ M vectors are read) and the 2×4 Aᵀ M vectors (d[1 … 8], 16 bytes each).
  const d = m + (<usize>16 * <usize>f * <usize>(group * tiles) << 2);
  for (let s = 0; s < n; s += group) {
    const cnt = minI(group, n - s), nt = cnt * tiles;
    const ct = <usize>c * <usize>nt, ft = <usize>f * <usize>nt;
    const ctBytes = ct << 2, ftBytes = ft << 2;
    for (let gi = 0; gi < cnt; gi++) {
      const xi = x + (<usize>(s + gi) * <usize>c * <usize>h * <usize>w << 2);
      for (let ch = 0; ch < c; ch++) {
        const plane = xi + (<usize>ch * <usize>h * <usize>w << 2);
        for (let r = 0; r < rows; r++) {
          memory.copy(pad + <usize>(r + ph) * wpBytes + (<usize>pw << 2), plane + (<usize>(r * w) << 2), <usize>cols << 2);
        }
        // V[ξ][ch, tile] = (Bᵀ d B)ξ, Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]].
        for (let ti = 0; ti < th; ti++) {
          for (let tj = 0; tj < tw; tj += 4) {
            const p0 = pad + <usize>(2 * ti) * wpBytes + (<usize>(2 * tj) << 2);
            // Row a of the 4×4 patches, column b: lanes = four tiles.
            let lo = v128.load(p0), hi = v128.load(p0, 16), lo2 = v128.load(p0, 8), hi2 = v128.load(p0, 24);
            const d00 = i32x4.shuffle(lo, hi, 0, 2, 4, 6), d01 = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
            const d02 = i32x4.shuffle(lo2, hi2, 0, 2, 4, 6), d03 = i32x4.shuffle(lo2, hi2, 1, 3, 5, 7);
            const p1 = p0 + wpBytes;
            lo = v128.load(p1); hi = v128.load(p1, 16); lo2 = v128.load(p1, 8); hi2 = v128.load(p1, 24);
            const d10 = i32x4.shuffle(lo, hi, 0, 2, 4, 6), d11 = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
            const d12 = i32x4.shuffle(lo2, hi2, 0, 2, 4, 6), d13 = i32x4.shuffle(lo2, hi2, 1, 3, 5, 7);
            const p2 = p1 + wpBytes;
            lo = v128.load(p2); hi = v128.load(p2, 16); lo2 = v128.load(p2, 8); hi2 = v128.load(p2, 24);
            const d20 = i32x4.shuffle(lo, hi, 0, 2, 4, 6), d21 = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
            const d22 = i32x4.shuffle(lo2, hi2, 0, 2, 4, 6), d23 = i32x4.shuffle(lo2, hi2, 1, 3, 5, 7);
            const p3 = p2 + wpBytes;
            lo = v128.load(p3); hi = v128.load(p3, 16); lo2 = v128.load(p3, 8); hi2 = v128.load(p3, 24);
            const d30 = i32x4.shuffle(lo, hi, 0, 2, 4, 6), d31 = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
            const d32 = i32x4.shuffle(lo2, hi2, 0, 2, 4, 6), d33 = i32x4.shuffle(lo2, hi2, 1, 3, 5, 7);
            // t = Bᵀ d (over rows), then t B (over columns) for each row of t.
            const at = v + ((<usize>ch * <usize>nt + <usize>(gi * tiles + ti * tw + tj)) << 2);
            const full = tj + 4 <= tw;
            winogradInputRow(f32x4.sub(d00, d20), f32x4.sub(d01, d21), f32x4.sub(d02, d22), f32x4.sub(d03, d23), at, ctBytes, full, tw - tj, d);
            winogradInputRow(f32x4.add(d10, d20), f32x4.add(d11, d21), f32x4.add(d12, d22), f32x4.add(d13, d23), at + 4 * ctBytes, ctBytes, full, tw - tj, d);
            winogradInputRow(f32x4.sub(d20, d10), f32x4.sub(d21, d11), f32x4.sub(d22, d12), f32x4.sub(d23, d13), at + 8 * ctBytes, ctBytes, full, tw - tj, d);
            winogradInputRow(f32x4.sub(d10, d30), f32x4.sub(d11, d31), f32x4.sub(d12, d32), f32x4.sub(d13, d33), at + 12 * ctBytes, ctBytes, full, tw - tj, d);
          }
        }
      }
    }
    for (let e = 0; e < 16; e++) {
      gemm(false, false, f, nt, c, u + (<usize>e * <usize>fc << 2), c, v + (<usize>e * ct << 2), nt, m + (<usize>e * ft << 2), nt, false, scratch);
    }
    // Y_tile = Aᵀ M A, Aᵀ = [[1,1,1,0],[0,1,−1,−1]], four tiles at a time; tiles past an odd edge are cut off.
    for (let gi = 0; gi < cnt; gi++) {
      const yi = y + (<usize>(s + gi) * <usize>f * <usize>(ho * wo) << 2);
      for (let fi = 0; fi < f; fi++) {
        const out = yi + (<usize>fi * <usize>(ho * wo) << 2);
        for (let ti = 0; ti < th; ti++) {
          for (let tj = 0; tj < tw; tj += 4) {
            const full = tj + 4 <= tw;
            const at = m + ((<usize>fi * <usize>nt + <usize>(gi * tiles + ti * tw + tj)) << 2);
            // Aᵀ M column by column: rows 0 and 1 of column b to d[b] and d[4 + b] (as f32x4).
            for (let b = 0; b < 4; b++) {
              const a = at + <usize>b * ftBytes;
              const m0 = loadTiles(a, full, tw - tj, d), m1 = loadTiles(a + 4 * ftBytes, full, tw - tj, d);
              const m2 = loadTiles(a + 8 * ftBytes, full, tw - tj, d), m3 = loadTiles(a + 12 * ftBytes, full, tw - tj, d);
              v128.store(d + (<usize>(1 + b) << 4), f32x4.add(f32x4.add(m0, m1), m2));
              v128.store(d + (<usize>(5 + b) << 4), f32x4.sub(f32x4.sub(m1, m2), m3));
            }
            const s00 = v128.load(d, 16), s01 = v128.load(d, 32), s02 = v128.load(d, 48), s03 = v128.load(d, 64);
            const s10 = v128.load(d, 80), s11 = v128.load(d, 96), s12 = v128.load(d, 112), s13 = v128.load(d, 128);
            const y00 = f32x4.add(f32x4.add(s00, s01), s02), y01 = f32x4.sub(f32x4.sub(s01, s02), s03);
            const y10 = f32x4.add(f32x4.add(s10, s11), s12), y11 = f32x4.sub(f32x4.sub(s11, s12), s13);
            writeTiles(out, wo, ho, 2 * ti, 2 * tj, y00, y01, d);
            writeTiles(out, wo, ho, 2 * ti + 1, 2 * tj, y10, y11, d);
          }
        }
      }
      biasRowsActivate_f32(yi, f, ho * wo, bias, hasBias, act, alpha);
    }
  }
}

/** Row a of Bᵀ d B for four tiles: (t0 − t2, t1 + t2, t2 − t1, t1 − t3) to V[4a … 4a+3]; the first `live` lanes when not full. */
// @ts-ignore: decorator
@inline function winogradInputRow(t0: v128, t1: v128, t2: v128, t3: v128, at: usize, step: usize, full: bool, live: i32, tmp: usize): void {
  storeTiles(at, f32x4.sub(t0, t2), full, live, tmp);
  storeTiles(at + step, f32x4.add(t1, t2), full, live, tmp);
  storeTiles(at + 2 * step, f32x4.sub(t2, t1), full, live, tmp);
  storeTiles(at + 3 * step, f32x4.sub(t1, t3), full, live, tmp);
}

// @ts-ignore: decorator
@inline function storeTiles(at: usize, x: v128, full: bool, live: i32, tmp: usize): void {
  if (full) {
    v128.store(at, x);
  } else {
    v128.store(tmp, x);
    for (let l = 0; l < live; l++) store<f32>(at + (<usize>l << 2), load<f32>(tmp + (<usize>l << 2)));
  }
}

// @ts-ignore: decorator
@inline function loadTiles(at: usize, full: bool, live: i32, tmp: usize): v128 {
  if (full) return v128.load(at);
  v128.store(tmp, f32x4.splat(0));
  for (let l = 0; l < live; l++) store<f32>(tmp + (<usize>l << 2), load<f32>(at + (<usize>l << 2)));
  return v128.load(tmp);
}

/** Output row r, columns c0 … c0+7: lanes of e (even columns) and o (odd columns) interleaved, cut at ho and wo. */
function writeTiles(out: usize, wo: i32, ho: i32, r: i32, c0: i32, e: v128, o: v128, tmp: usize): void {
  if (r >= ho) return;
  const row = out + (<usize>(r * wo + c0) << 2);
  const lo = i32x4.shuffle(e, o, 0, 4, 1, 5), hi = i32x4.shuffle(e, o, 2, 6, 3, 7);
  if (c0 + 8 <= wo) {
    v128.store(row, lo);
    v128.store(row, hi, 16);
    return;
  }
  v128.store(tmp, lo);
  v128.store(tmp, hi, 16);
  const live = wo - c0;
  for (let l = 0; l < live; l++) store<f32>(row + (<usize>l << 2), load<f32>(tmp + (<usize>l << 2)));
}
