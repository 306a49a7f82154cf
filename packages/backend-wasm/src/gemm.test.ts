// assembly/gemm.ts, compiled on its own, against a float64 triple loop: every transpose combination,
// odd sizes on both sides of the micro-tile (MR × NR = 2×16) and cache-block (KC 256, MC 128, NC 1024) edges,
// accumulate on and off, row strides wider than the rows; plus the property the threaded backend
// relies on: computing C in column or row pieces gives bit-identical results to one call.
import { beforeAll, describe, expect, it } from 'vitest';
import { compileGemm, fillRandom, instantiateGemm, type GemmInstance } from '../bench/compile-gemm.mjs';

let g: GemmInstance;
beforeAll(async () => {
  g = await instantiateGemm(await compileGemm(), 64);
});

interface Case {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  accumulate: boolean;
  /** Extra elements at the end of each stored row of A, B and C. */
  pad?: number;
}

/** Lays out A, B, C and scratch in fresh memory, runs gemm, and returns what it needs to check. */
function run({ transA, transB, M, N, K, accumulate, pad = 0 }: Case, seed = 1) {
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = N + pad;
  g.reset();
  const a = g.alloc(aRows * lda);
  const b = g.alloc(bRows * ldb);
  const c = g.alloc(M * ldc + 16);
  const scratchBytes = g.gemmScratchBytes(M, N, K);
  const scratch = g.alloc(scratchBytes / 4 + 16);
  fillRandom(g.f32(a, aRows * lda), seed);
  fillRandom(g.f32(b, bRows * ldb), seed + 1);
  fillRandom(g.f32(c, M * ldc + 16), seed + 2);
  // Sentinels right after the scratch block: gemm must stay inside gemmScratchBytes.
  g.f32(scratch + scratchBytes, 16).fill(12345);
  const before = g.f32(c, M * ldc + 16).slice();
  g.gemm(transA, transB, M, N, K, a, lda, b, ldb, c, ldc, accumulate, scratch);
  const A = g.f32(a, aRows * lda).slice();
  const B = g.f32(b, bRows * ldb).slice();
  const opA = (i: number, k: number) => (transA ? A[k * lda + i] : A[i * lda + k]);
  const opB = (k: number, j: number) => (transB ? B[j * ldb + k] : B[k * ldb + j]);
  return { A, B, opA, opB, before, after: g.f32(c, M * ldc + 16).slice(), ldc, scratchTail: g.f32(scratch + scratchBytes, 16) };
}

/** gemm's result against Σ in float64, within K+2 roundings of Σ|a·b| (+ |C₀| when accumulating). */
function expectMatchesReference(kase: Case, seed = 1): void {
  const { M, N, K, accumulate } = kase;
  const { opA, opB, before, after, ldc, scratchTail } = run(kase, seed);
  const eps = 2 ** -24;
  let checked = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const c0 = accumulate ? before[i * ldc + j] : 0;
      let sum = c0;
      let magnitude = Math.abs(c0);
      for (let k = 0; k < K; k++) {
        const p = opA(i, k) * opB(k, j);
        sum += p;
        magnitude += Math.abs(p);
      }
      const got = after[i * ldc + j];
      const error = Math.abs(got - sum);
      if (!(error <= (K + 2) * eps * magnitude)) {
        throw new Error(`C[${i}][${j}] = ${got}, expected ${sum} (error ${error}, bound ${(K + 2) * eps * magnitude}) for ${JSON.stringify(kase)}`);
      }
      checked++;
    }
    // The padding at the end of C's rows is not C's: untouched.
    for (let j = N; j < ldc; j++) expect(after[i * ldc + j]).toBe(before[i * ldc + j]);
  }
  // Nor is anything after C's last row.
  for (let j = M * ldc; j < M * ldc + 16; j++) expect(after[j]).toBe(before[j]);
  expect(Array.from(scratchTail)).toEqual(new Array(16).fill(12345));
  expect(checked).toBe(M * N);
}

const flags = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

describe('gemm against a float64 triple loop', () => {
  for (const [transA, transB] of flags) {
    const name = `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`;
    it(`${name}: odd sizes around the 2×16 tile, accumulate off and on, wide strides`, () => {
      const sizes = [1, 3, 4, 8, 17, 31, 33];
      let seed = 1;
      for (const M of sizes) {
        for (const N of sizes) {
          for (const K of [1, 5, 33]) {
            for (const accumulate of [false, true]) {
              expectMatchesReference({ transA, transB, M, N, K, accumulate, pad: (M + N + K) % 3 === 0 ? 0 : 5 }, seed++);
            }
          }
        }
      }
    });

    it(`${name}: across the cache blocks (K past 256 and 512, M past 128, N past 1024)`, () => {
      expectMatchesReference({ transA, transB, M: 65, N: 33, K: 600, accumulate: false, pad: 3 }, 7);
      expectMatchesReference({ transA, transB, M: 65, N: 33, K: 600, accumulate: true }, 8);
      expectMatchesReference({ transA, transB, M: 131, N: 17, K: 257, accumulate: true, pad: 1 }, 9);
      expectMatchesReference({ transA, transB, M: 5, N: 1030, K: 9, accumulate: false, pad: 2 }, 10);
      // Few rows but a B block past 256 KiB: packed rather than read in place.
      expectMatchesReference({ transA, transB, M: 3, N: 300, K: 257, accumulate: true, pad: 1 }, 11);
    });
  }

  it('an empty sum (K = 0) zeroes C, or leaves it as it was when accumulating', () => {
    for (const accumulate of [false, true]) {
      const { before, after } = run({ transA: false, transB: false, M: 3, N: 5, K: 0, accumulate, pad: 2 });
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 7; j++) {
          expect(after[i * 7 + j]).toBe(j < 5 && !accumulate ? 0 : before[i * 7 + j]);
        }
      }
    }
  });

  it('an infinity in A reaches only its own row of C (the zero padding of edge tiles multiplies nothing real)', () => {
    const M = 6;
    const N = 10;
    const K = 7;
    g.reset();
    const a = g.alloc(M * K);
    const b = g.alloc(K * N);
    const c = g.alloc(M * N);
    const scratch = g.alloc(g.gemmScratchBytes(M, N, K) / 4);
    fillRandom(g.f32(a, M * K), 3);
    fillRandom(g.f32(b, K * N), 4);
    g.f32(a, M * K)[5 * K + 2] = Infinity; // row 5, in the second (edge) tile of rows
    g.gemm(false, false, M, N, K, a, K, b, N, c, N, false, scratch);
    const C = g.f32(c, M * N);
    const B = g.f32(b, K * N);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        if (i === 5) expect(C[i * N + j]).toBe(B[2 * N + j] > 0 ? Infinity : -Infinity);
        else expect(Number.isFinite(C[i * N + j])).toBe(true);
      }
    }
  });
});

describe('gemm computes each element the same way wherever it is cut', () => {
  // The threaded backend hands each worker a block of C's rows or columns; this is that split,
  // cut off the micro-tile grid on purpose (13, 7), with K spanning three KC blocks.
  for (const [transA, transB] of flags) {
    it(`${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}: column and row pieces are bit-identical to one call`, () => {
      const M = 37;
      const N = 45;
      const K = 700;
      for (const accumulate of [false, true]) {
        const whole = run({ transA, transB, M, N, K, accumulate }, 21);
        const [aRows, aCols] = transA ? [K, M] : [M, K];
        const [bRows, bCols] = transB ? [N, K] : [K, N];
        const a = g.alloc(aRows * aCols);
        const b = g.alloc(bRows * bCols);
        const c = g.alloc(M * N);
        g.f32(a, aRows * aCols).set(whole.A);
        g.f32(b, bRows * bCols).set(whole.B);
        const scratch = g.alloc(g.gemmScratchBytes(M, N, K) / 4);
        for (const [cut, along] of [
          [13, 'columns'],
          [7, 'rows'],
        ] as const) {
          g.f32(c, M * N).set(whole.before.subarray(0, M * N));
          const pieces = along === 'columns' ? [0, cut, 2 * cut + 1, N] : [0, cut, 3 * cut, M];
          for (let p = 0; p + 1 < pieces.length; p++) {
            const [from, to] = [pieces[p], pieces[p + 1]];
            if (along === 'columns') {
              const bAt = b + 4 * (transB ? from * bCols : from);
              g.gemm(transA, transB, M, to - from, K, a, aCols, bAt, bCols, c + 4 * from, N, accumulate, scratch);
            } else {
              const aAt = a + 4 * (transA ? from : from * aCols);
              g.gemm(transA, transB, to - from, N, K, aAt, aCols, b, bCols, c + 4 * from * N, N, accumulate, scratch);
            }
          }
          const pieced = g.f32(c, M * N);
          let differing = 0;
          for (let i = 0; i < M * N; i++) if (!Object.is(pieced[i], whole.after[i])) differing++;
          expect(differing, `${along} cut at ${cut}, accumulate ${accumulate}`).toBe(0);
        }
      }
    });
  }
});
