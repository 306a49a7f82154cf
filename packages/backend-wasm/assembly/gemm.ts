// Single-precision GEMM for matMul and the im2col convolutions:
//   C[M×N] (row stride ldc) = op(A)·op(B)        (accumulate = false)
//   C[M×N] (row stride ldc) = C + op(A)·op(B)    (accumulate = true)
// op(A) is A (M×K, row stride lda) or, with transA, Aᵀ where A is stored K×M (row stride lda);
// op(B) is B (K×N, row stride ldb) or, with transB, Bᵀ where B is stored N×K (row stride ldb).
// Pointers are byte offsets into linear memory; strides are in elements.
//
// Structure (Goto/BLIS): the K dimension is cut into blocks of KC, N into blocks of NC and M into
// blocks of MC. Each block of op(B) is packed into panels of NR columns (for each k, NR consecutive
// floats) and each block of op(A) into panels of MR rows (for each k, MR consecutive floats), so the
// micro-kernel reads both operands sequentially whatever the transposes were (an untransposed B
// with few rows of C is read where it lies instead, see DIRECT_B_MAX_M). Panels are padded with
// zeros to full MR/NR, so edge tiles run the same micro-kernel and only the write-back differs.
// Measured variants (bench/gemm.mjs): larger register tiles, k-unrolling and other KC/MC all lost.
//
// Summation order (deterministic, and the same for every C element whatever tile, block or thread
// computes it): K is split at the fixed multiples of KC, never depending on M, N or a thread split.
// For block p the micro-kernel forms
//     s_p = ((0 + a[k0]·b[k0]) + a[k0+1]·b[k0+1]) + …      (k ascending, separate multiply and add
//                                                          roundings, no fused multiply-add)
// and the result is  C = ((C₀ + s_0) + s_1) + …  where C₀ is C's old value when accumulating, and
// C = (s_0 + s_1) + … otherwise. Zero padding adds nothing to a real element's sum. So splitting the
// rows or columns of C across threads (each thread calling gemm on its own sub-block with its own
// scratch) gives bit-identical results to one call.

// Micro-tile: MR rows × NR columns of C held in v128 accumulators (NR/4 vectors per row). The
// packing routines below are written for exactly this shape.
const MR: i32 = 2;
const NR: i32 = 16;
// Cache blocking: a KC×NR panel of B (16 KiB) stays in L1 while the MC×KC block of A (128 KiB) streams
// from L2; the KC×NC block of B fits in L2/L3.
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 1024;
// Below this many rows of C, the micro-kernel reads an untransposed B where it lies (row stride
// ldb) instead of packing it: a packed panel is reused by only M/MR tiles, too few to repay the
// copy (the paper's conv, M = 8 filters: +20–27%; 512³ with B unpacked: −8%) — as long as the
// kc×N block read in place stays in L2 (256 KiB). A larger one is read as kc interleaved
// streams, which the prefetcher does not follow; packing reads it row by row instead
// (8×18432, K = 25: +43%).
const DIRECT_B_MAX_M: i32 = 64;
const DIRECT_B_MAX_FLOATS: i32 = 65536;

// @ts-ignore: decorator
@inline function minI(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// @ts-ignore: decorator
@inline function roundUp(x: i32, m: i32): i32 {
  return ((x + m - 1) / m) * m;
}

// @ts-ignore: decorator
@inline function align64(x: i32): i32 {
  return (x + 63) & ~63;
}

/** Bytes of scratch gemm needs for these sizes (packed A block, packed B block, one edge tile). */
export function gemmScratchBytes(M: i32, N: i32, K: i32): i32 {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  const kc = minI(K, KC);
  const mc = minI(roundUp(M, MR), MC);
  const nc = minI(roundUp(N, NR), NC);
  return align64(mc * kc * 4) + align64(kc * nc * 4) + MR * NR * 4;
}

export function gemm(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  c: usize,
  ldc: i32,
  accumulate: bool,
  scratch: usize,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    // An empty sum: C keeps its value when accumulating, otherwise it is zero.
    if (!accumulate) {
      for (let i = 0; i < M; i++) memory.fill(c + <usize>(i * ldc) * 4, 0, <usize>N * 4);
    }
    return;
  }
  const kcMax = minI(K, KC);
  const mcMax = minI(roundUp(M, MR), MC);
  const ncMax = minI(roundUp(N, NR), NC);
  const packedA = scratch;
  const packedB = packedA + <usize>align64(mcMax * kcMax * 4);
  const tile = packedB + <usize>align64(kcMax * ncMax * 4);
  const ldcBytes = <usize>ldc * 4;
  const ldbBytes = <usize>ldb * 4;
  const directB = !transB && M <= DIRECT_B_MAX_M && <i64>kcMax * N <= DIRECT_B_MAX_FLOATS;

  for (let jc = 0; jc < N; jc += NC) {
    const nc = minI(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = minI(KC, K - pc);
      const add = accumulate || pc > 0;
      if (!directB) packB(transB, b, ldb, pc, kc, jc, nc, packedB);
      else if (nc % NR != 0) packB(transB, b, ldb, pc, kc, jc + nc - nc % NR, nc % NR, packedB);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = minI(MC, M - ic);
        packA(transA, a, lda, ic, mc, pc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = minI(NR, nc - jr);
          const direct = directB && nr == NR;
          const panelB = direct ? b + <usize>pc * ldbBytes + <usize>(jc + jr) * 4 : directB ? packedB : packedB + <usize>(jr * kc) * 4;
          const bStride = direct ? ldbBytes : <usize>NR * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = minI(MR, mc - ir);
            const panelA = packedA + <usize>(ir * kc) * 4;
            const cTile = c + (<usize>(ic + ir) * ldcBytes) + <usize>(jc + jr) * 4;
            if (mr == MR && nr == NR) {
              microKernel(kc, panelA, panelB, bStride, cTile, ldcBytes, add);
            } else {
              microKernel(kc, panelA, panelB, bStride, tile, <usize>NR * 4, false);
              writeEdge(tile, cTile, ldcBytes, mr, nr, add);
            }
          }
        }
      }
    }
  }
}

/** Packs op(A)[ic:ic+mc, pc:pc+kc] into MR-row panels: panel p, step k holds rows p·MR, p·MR+1. */
function packA(transA: bool, a: usize, lda: i32, ic: i32, mc: i32, pc: i32, kc: i32, dst: usize): void {
  const ldaBytes = <usize>lda * 4;
  for (let ir = 0; ir < mc; ir += MR) {
    const panel = dst + <usize>(ir * kc) * 4;
    if (mc - ir < MR) {
      // The last, single row: the other row of the panel is zero.
      for (let k = 0; k < kc; k++) {
        const src = transA ? a + <usize>(pc + k) * ldaBytes + <usize>(ic + ir) * 4 : a + <usize>(ic + ir) * ldaBytes + <usize>(pc + k) * 4;
        store<f32>(panel + <usize>k * 8, load<f32>(src));
        store<f32>(panel + <usize>k * 8 + 4, 0);
      }
    } else if (transA) {
      // A is stored K×M: the two rows of op(A) at one k are adjacent in memory.
      let src = a + <usize>pc * ldaBytes + <usize>(ic + ir) * 4;
      for (let k = 0; k < kc; k++) {
        store<u64>(panel + <usize>k * 8, load<u64>(src));
        src += ldaBytes;
      }
    } else {
      // A is stored M×K: interleave two rows, four k at a time.
      const row0 = a + <usize>(ic + ir) * ldaBytes + <usize>pc * 4;
      const row1 = row0 + ldaBytes;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const r0 = v128.load(row0 + <usize>k * 4);
        const r1 = v128.load(row1 + <usize>k * 4);
        v128.store(panel + <usize>k * 8, i32x4.shuffle(r0, r1, 0, 4, 1, 5));
        v128.store(panel + <usize>k * 8, i32x4.shuffle(r0, r1, 2, 6, 3, 7), 16);
      }
      for (; k < kc; k++) {
        store<f32>(panel + <usize>k * 8, load<f32>(row0 + <usize>k * 4));
        store<f32>(panel + <usize>k * 8 + 4, load<f32>(row1 + <usize>k * 4));
      }
    }
  }
}

/** Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-column panels: panel q, step k holds columns q·NR…q·NR+NR-1. */
function packB(transB: bool, b: usize, ldb: i32, pc: i32, kc: i32, jc: i32, nc: i32, dst: usize): void {
  const ldbBytes = <usize>ldb * 4;
  const fullPanels = nc / NR;
  if (!transB) {
    // B is stored K×N: each k's sixteen columns of a panel are consecutive. Row by row, so that
    // B is read as sequential streams (see DIRECT_B_MAX_FLOATS).
    for (let k = 0; k < kc; k++) {
      const src = b + <usize>(pc + k) * ldbBytes + <usize>jc * 4;
      const d = dst + <usize>(k * NR) * 4;
      for (let q = 0; q < fullPanels; q++) {
        const from = src + <usize>(q * NR) * 4;
        const to = d + <usize>(q * NR * kc) * 4;
        v128.store(to, v128.load(from));
        v128.store(to, v128.load(from, 16), 16);
        v128.store(to, v128.load(from, 32), 32);
        v128.store(to, v128.load(from, 48), 48);
      }
    }
    if (nc % NR == 0) return;
  }
  for (let jr = transB ? 0 : fullPanels * NR; jr < nc; jr += NR) {
    const nr = minI(NR, nc - jr);
    const panel = dst + <usize>(jr * kc) * 4;
    if (transB) {
      // B is stored N×K: each column of op(B) is consecutive. Transpose 4×4 blocks (four
      // columns × four k) with shuffles, so that each k's four columns are written as one vector;
      // the columns of a partial last group one by one; columns past nr are zero.
      const src = b + <usize>(jc + jr) * ldbBytes + <usize>pc * 4;
      const kc4 = kc & ~3;
      let g = 0;
      for (; g + 4 <= nr; g += 4) {
        const s0 = src + <usize>g * ldbBytes;
        const dg = panel + <usize>g * 4;
        for (let k = 0; k < kc4; k += 4) {
          const x0 = v128.load(s0 + <usize>k * 4);
          const x1 = v128.load(s0 + ldbBytes + <usize>k * 4);
          const x2 = v128.load(s0 + 2 * ldbBytes + <usize>k * 4);
          const x3 = v128.load(s0 + 3 * ldbBytes + <usize>k * 4);
          const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
          const t1 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
          const t2 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
          const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
          const d = dg + <usize>(k * NR) * 4;
          v128.store(d, i64x2.shuffle(t0, t2, 0, 2));
          v128.store(d, i64x2.shuffle(t0, t2, 1, 3), NR * 4);
          v128.store(d, i64x2.shuffle(t1, t3, 0, 2), NR * 8);
          v128.store(d, i64x2.shuffle(t1, t3, 1, 3), NR * 12);
        }
      }
      for (let col = kc4 < kc ? 0 : g; col < NR; col++) {
        // Columns of the partial group (and, for every column, the k past the last multiple of 4).
        const s = src + <usize>col * ldbBytes;
        const d = panel + <usize>col * 4;
        for (let k = col < g ? kc4 : 0; k < kc; k++) {
          store<f32>(d + <usize>(k * NR) * 4, col < nr ? load<f32>(s + <usize>k * 4) : 0);
        }
      }
    } else {
      // The last, partial panel of a K×N B: columns past nr are zero.
      let src = b + <usize>pc * ldbBytes + <usize>(jc + jr) * 4;
      let d = panel;
      for (let k = 0; k < kc; k++) {
        let col = 0;
        for (; col < nr; col++) store<f32>(d + <usize>col * 4, load<f32>(src + <usize>col * 4));
        for (; col < NR; col++) store<f32>(d + <usize>col * 4, 0);
        src += ldbBytes;
        d += <usize>NR * 4;
      }
    }
  }
}

/**
 * The MR×NR (2×16) micro-kernel: acc = Σ_k panelA[k]ᵀ·panelB[k] over kc steps, then C = acc or
 * C = C + acc. Each A element is broadcast to all lanes (load32_splat) and multiplied by the four
 * vectors of B at that k. Eight accumulators: V8 keeps 2×16 in registers, while the 12- and
 * 16-accumulator tiles (6×8, 4×16, 8×8) spill and ran at half the speed (bench/gemm.mjs).
 * B's rows are bStride bytes apart: NR·4 in a packed panel, ldb·4 when B is read where it lies.
 * Inlined: the call cost shows on short k loops (conv input gradient, K = 8: +31%).
 */
// @ts-ignore: decorator
@inline function microKernel(kc: i32, pa: usize, pb: usize, bStride: usize, c: usize, ldcBytes: usize, add: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c02 = c00;
  let c03 = c00;
  let c10 = c00;
  let c11 = c00;
  let c12 = c00;
  let c13 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const b3 = v128.load(pb, 48);
    const a0 = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c02 = f32x4.add(c02, f32x4.mul(a0, b2));
    c03 = f32x4.add(c03, f32x4.mul(a0, b3));
    const a1 = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c12 = f32x4.add(c12, f32x4.mul(a1, b2));
    c13 = f32x4.add(c13, f32x4.mul(a1, b3));
    pa += 8;
    pb += bStride;
  }
  const c1 = c + ldcBytes;
  if (add) {
    c00 = f32x4.add(v128.load(c), c00);
    c01 = f32x4.add(v128.load(c, 16), c01);
    c02 = f32x4.add(v128.load(c, 32), c02);
    c03 = f32x4.add(v128.load(c, 48), c03);
    c10 = f32x4.add(v128.load(c1), c10);
    c11 = f32x4.add(v128.load(c1, 16), c11);
    c12 = f32x4.add(v128.load(c1, 32), c12);
    c13 = f32x4.add(v128.load(c1, 48), c13);
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c, c02, 32);
  v128.store(c, c03, 48);
  v128.store(c1, c10);
  v128.store(c1, c11, 16);
  v128.store(c1, c12, 32);
  v128.store(c1, c13, 48);
}

/** Writes the mr×nr corner of an edge tile (computed into `tile`, row stride NR) to C. */
function writeEdge(tile: usize, c: usize, ldcBytes: usize, mr: i32, nr: i32, add: bool): void {
  for (let i = 0; i < mr; i++) {
    const t = tile + <usize>(i * NR) * 4;
    const row = c + <usize>i * ldcBytes;
    let j = 0;
    for (; j + 4 <= nr; j += 4) {
      const p = row + <usize>j * 4;
      const v = v128.load(t + <usize>j * 4);
      v128.store(p, add ? f32x4.add(v128.load(p), v) : v);
    }
    for (; j < nr; j++) {
      const p = row + <usize>j * 4;
      const v = load<f32>(t + <usize>j * 4);
      store<f32>(p, add ? load<f32>(p) + v : v);
    }
  }
}
