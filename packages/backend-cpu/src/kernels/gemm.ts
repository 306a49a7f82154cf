/**
 * Cache- and register-blocked GEMM on packed Float64 panels (BLIS-style).
 *
 * Packed A: ⌈m/MR⌉ micro-panels, each k×MR (MR consecutive rows per k step).
 * Packed B: ⌈n/NR⌉ micro-panels, each k×NR (NR consecutive columns per k step).
 * Panels are zero-padded, so the micro-kernel always computes a full MR×NR tile and
 * the Float64 result matrix C has padded dimensions (rows ⌈m/MR⌉·MR, ldc ≥ ⌈n/NR⌉·NR).
 * Accumulating in Float64 also makes float32 results more accurate.
 *
 * Strided packers take any source layout (element (i, k) at off + i·rs + k·cs), which
 * is how transposes and conv layouts are handled without copies.
 */
import type { TypedArray } from '@backprop/tensor';
import type { Scratch } from '../scratch.js';

export const MR = 4;
export const NR = 4;
/** K block: packed A block MC×KC (256 KiB) sits in L2, a B micro-panel KC×NR in L1. */
export const KC = 256;
export const MC = 128;
export const NC = 2048;

export const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;

/** Packs an m×k block of A (element (i,kk) at src[off + i·rs + kk·cs]) into dst at dOff. */
export function packA(
  src: TypedArray, off: number, rs: number, cs: number, m: number, k: number, dst: Float64Array, dOff: number,
): void {
  const panels = Math.ceil(m / MR);
  for (let p = 0; p < panels; p++) {
    const i0 = p * MR;
    const rows = Math.min(MR, m - i0);
    let d = dOff + p * k * MR;
    if (rows === MR && cs === 1) {
      let s0 = off + i0 * rs;
      const s1 = rs, s2 = 2 * rs, s3 = 3 * rs;
      for (let kk = 0; kk < k; kk++, s0++, d += MR) {
        dst[d] = src[s0];
        dst[d + 1] = src[s0 + s1];
        dst[d + 2] = src[s0 + s2];
        dst[d + 3] = src[s0 + s3];
      }
    } else if (rows === MR && rs === 1) {
      let s = off + i0;
      for (let kk = 0; kk < k; kk++, s += cs, d += MR) {
        dst[d] = src[s];
        dst[d + 1] = src[s + 1];
        dst[d + 2] = src[s + 2];
        dst[d + 3] = src[s + 3];
      }
    } else {
      for (let kk = 0; kk < k; kk++, d += MR) {
        const s = off + kk * cs + i0 * rs;
        let ii = 0;
        for (; ii < rows; ii++) dst[d + ii] = src[s + ii * rs];
        for (; ii < MR; ii++) dst[d + ii] = 0;
      }
    }
  }
}

/** Packs a k×n block of B (element (kk,j) at src[off + kk·rs + j·cs]) into dst at dOff. */
export function packB(
  src: TypedArray, off: number, rs: number, cs: number, k: number, n: number, dst: Float64Array, dOff: number,
): void {
  const panels = Math.ceil(n / NR);
  for (let p = 0; p < panels; p++) {
    const j0 = p * NR;
    const cols = Math.min(NR, n - j0);
    let d = dOff + p * k * NR;
    if (cols === NR && cs === 1) {
      let s = off + j0;
      for (let kk = 0; kk < k; kk++, s += rs, d += NR) {
        dst[d] = src[s];
        dst[d + 1] = src[s + 1];
        dst[d + 2] = src[s + 2];
        dst[d + 3] = src[s + 3];
      }
    } else {
      for (let kk = 0; kk < k; kk++, d += NR) {
        const s = off + kk * rs + j0 * cs;
        let jj = 0;
        for (; jj < cols; jj++) dst[d + jj] = src[s + jj * cs];
        for (; jj < NR; jj++) dst[d + jj] = 0;
      }
    }
  }
}

/**
 * C[cOff + i·ldc + j] += Σ_kk A(i,kk)·B(kk,j) over `mPanels`×`nPanels` tiles of packed
 * panels with inner length k. ldc must be ≥ nPanels·NR and C must have mPanels·MR rows.
 */
export function macroKernel(
  mPanels: number, nPanels: number, k: number,
  a: Float64Array, aOff: number, b: Float64Array, bOff: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  const aStride = k * MR;
  const bStride = k * NR;
  for (let jp = 0; jp < nPanels; jp++) {
    const bp = bOff + jp * bStride;
    const cj = cOff + jp * NR;
    for (let ip = 0; ip < mPanels; ip++) {
      micro4x4(k, a, aOff + ip * aStride, b, bp, c, cj + ip * MR * ldc, ldc);
    }
  }
}

/** 4×4 register tile; one induction variable (MR = NR = 4) keeps V8's bounds checks cheap. */
function micro4x4(k: number, a: Float64Array, ai: number, b: Float64Array, bi: number, c: Float64Array, ci: number, ldc: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const k4 = k * 4;
  for (let p = 0; p < k4; p += 4) {
    const a0 = a[ai + p], a1 = a[ai + p + 1], a2 = a[ai + p + 2], a3 = a[ai + p + 3];
    let bv = b[bi + p];
    c00 += a0 * bv; c10 += a1 * bv; c20 += a2 * bv; c30 += a3 * bv;
    bv = b[bi + p + 1];
    c01 += a0 * bv; c11 += a1 * bv; c21 += a2 * bv; c31 += a3 * bv;
    bv = b[bi + p + 2];
    c02 += a0 * bv; c12 += a1 * bv; c22 += a2 * bv; c32 += a3 * bv;
    bv = b[bi + p + 3];
    c03 += a0 * bv; c13 += a1 * bv; c23 += a2 * bv; c33 += a3 * bv;
  }
  let o = ci;
  c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03;
  o += ldc;
  c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13;
  o += ldc;
  c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23;
  o += ldc;
  c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
}

/** The zeroed padded Float64 result buffer of an m×n GEMM (rows ⌈m/MR⌉·MR, ldc ⌈n/NR⌉·NR). */
export function gemmOutput(s: Scratch, m: number, n: number): { c: Float64Array; ldc: number } {
  const ldc = roundUp(Math.max(n, 1), NR);
  const rows = roundUp(Math.max(m, 1), MR);
  const c = s.scratch('gemm.c', rows * ldc);
  c.fill(0, 0, rows * ldc);
  return { c, ldc };
}

/**
 * Adds op(A)·op(B) restricted to rows [i0, i1) × columns [j0, j1) into C, whose element
 * (0, 0) is at cOff (i0, j0 multiples of MR / NR). Every element's k-sum runs in the same order whatever the range, which is
 * what lets threads split a GEMM over row or column blocks without changing one bit.
 */
export function gemmBlock(
  s: Scratch, k: number,
  a: TypedArray, aOff: number, ars: number, acs: number,
  b: TypedArray, bOff: number, brs: number, bcs: number,
  c: Float64Array, ldc: number, i0: number, i1: number, j0: number, j1: number, cOff = 0,
): void {
  if (i1 <= i0 || j1 <= j0 || k === 0) return;
  const kcMax = Math.min(KC, k);
  const ncMax = Math.min(NC, roundUp(j1 - j0, NR));
  const mcMax = Math.min(MC, roundUp(i1 - i0, MR));
  const bp = s.scratch('gemm.b', kcMax * ncMax);
  const ap = s.scratch('gemm.a', kcMax * mcMax);
  for (let jc = j0; jc < j1; jc += NC) {
    const nb = Math.min(NC, j1 - jc);
    const nPanels = Math.ceil(nb / NR);
    for (let pc = 0; pc < k; pc += KC) {
      const kb = Math.min(KC, k - pc);
      packB(b, bOff + pc * brs + jc * bcs, brs, bcs, kb, nb, bp, 0);
      for (let ic = i0; ic < i1; ic += MC) {
        const mb = Math.min(MC, i1 - ic);
        packA(a, aOff + ic * ars + pc * acs, ars, acs, mb, kb, ap, 0);
        macroKernel(Math.ceil(mb / MR), nPanels, kb, ap, 0, bp, 0, c, cOff + ic * ldc + jc, ldc);
      }
    }
  }
}
