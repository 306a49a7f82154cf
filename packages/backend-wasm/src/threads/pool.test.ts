// The GEMM thread pool on real workers (worker_threads) over one shared memory: results
// bit-identical to a single gemm call for 2 and 3 threads, the work really split, and every way
// a worker can fail to start reported while gemm goes on correct on the main thread.
import { afterEach, describe, expect, it } from 'vitest';
import { compileGemm, fillRandom, instantiateGemm, type GemmInstance } from '../../bench/compile-gemm.mjs';
import type { WasmExports } from '../exports.js';
import { controlBlockBytes, WasmThreadPool, type GemmCall } from './pool';

// The threaded build: a shared memory import (which needs a maximum).
const sharedModule = compileGemm(undefined, 'threads');
const unsharedModule = compileGemm();
const pools: WasmThreadPool[] = [];
afterEach(() => {
  for (const pool of pools.splice(0)) pool.terminate();
});

/** The main thread's kernels, with a log of the blocks it computed itself. */
function logged(g: GemmInstance): { kernels: WasmExports; calls: { M: number; N: number }[] } {
  const calls: { M: number; N: number }[] = [];
  const kernels: Pick<WasmExports, 'gemm' | 'gemmScratchBytes'> = {
    gemm: (tA, tB, M, N, ...rest) => {
      calls.push({ M, N });
      g.gemm(!!tA, !!tB, M, N, rest[0], rest[1], rest[2], rest[3], rest[4], rest[5], rest[6], !!rest[7], rest[8]);
    },
    gemmScratchBytes: (M, N, K) => g.gemmScratchBytes(M, N, K),
  };
  // The gemm-only module has no other exports, and these tests run only gemm on the pool.
  return { calls, kernels: kernels as WasmExports };
}

/** Lays out a product in g's memory; returns the call and a function giving C's current values. */
function layOut(g: GemmInstance, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean, seed: number) {
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const a = g.alloc(aRows * aCols);
  const b = g.alloc(bRows * bCols);
  const c = g.alloc(M * N);
  fillRandom(g.f32(a, aRows * aCols), seed);
  fillRandom(g.f32(b, bRows * bCols), seed + 1);
  fillRandom(g.f32(c, M * N), seed + 2);
  const call: GemmCall = { transA, transB, M, N, K, a, lda: aCols, b, ldb: bCols, c, ldc: N, accumulate };
  return { call, initialC: g.f32(c, M * N).slice(), result: () => g.f32(c, M * N).slice() };
}

async function sharedGemm(): Promise<GemmInstance> {
  const g = await instantiateGemm(await sharedModule, 256, { shared: true });
  expect(g.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
  return g;
}

describe('WasmThreadPool', () => {
  for (const threads of [2, 3]) {
    it(`${threads} threads give the single call's result bit for bit, with the work split`, async () => {
      const g = await sharedGemm();
      const control = g.alloc(controlBlockBytes(threads) / 4);
      const { kernels, calls } = logged(g);
      const pool = new WasmThreadPool({ threads, module: g.module, memory: g.memory, kernels, control, minParallelFlop: 0 });
      pools.push(pool);
      await expect(pool.ready).resolves.toEqual({ workers: threads - 1, failures: [] });
      const shapes: [number, number, number, boolean, boolean, boolean][] = [
        [64, 200, 300, false, false, false], // columns, K across two KC blocks
        [37, 45, 700, true, true, true], // columns, odd, accumulating
        [131, 20, 33, false, true, false], // too few columns: rows
        [8, 576, 25, false, false, false], // the paper conv's per-image GEMM
      ];
      let seed = 1;
      for (const [M, N, K, transA, transB, accumulate] of shapes) {
        const { call, initialC, result } = layOut(g, M, N, K, transA, transB, accumulate, seed++);
        const scratch = g.alloc(pool.scratchBytes(M, N, K) / 4);
        calls.length = 0;
        pool.gemm(call, scratch);
        const pooled = result();
        // The main thread computed only its own block: the rest came from the workers.
        expect(calls).toHaveLength(1);
        expect(calls[0].M * calls[0].N).toBeLessThan(M * N);
        g.f32(call.c, M * N).set(initialC);
        g.gemm(transA, transB, M, N, K, call.a, call.lda, call.b, call.ldb, call.c, call.ldc, accumulate, scratch);
        const single = result();
        let differing = 0;
        for (let i = 0; i < M * N; i++) if (!Object.is(pooled[i], single[i])) differing++;
        expect(differing, `${M}×${N}, K=${K}`).toBe(0);
      }
    });
  }

  it('small products stay on the main thread', async () => {
    const g = await sharedGemm();
    const { kernels, calls } = logged(g);
    const pool = new WasmThreadPool({ threads: 2, module: g.module, memory: g.memory, kernels, control: g.alloc(controlBlockBytes(2) / 4) });
    pools.push(pool);
    await pool.ready;
    const { call } = layOut(g, 8, 64, 25, false, false, false, 5);
    pool.gemm(call, g.alloc(pool.scratchBytes(8, 64, 25) / 4));
    expect(calls).toEqual([{ M: 8, N: 64 }]);
  });

  it('a worker that cannot instantiate the module is reported, and gemm goes on correct on one thread', async () => {
    const g = await sharedGemm();
    const { kernels, calls } = logged(g);
    // The single-thread build imports an unshared memory: a worker's instantiate fails.
    const pool = new WasmThreadPool({ threads: 2, module: await unsharedModule, memory: g.memory, kernels, control: g.alloc(controlBlockBytes(2) / 4), minParallelFlop: 0 });
    pools.push(pool);
    const status = await pool.ready;
    expect(status.workers).toBe(0);
    expect(status.failures).toHaveLength(1);
    expect(status.failures[0]).toMatch(/^worker 1 did not start: (LinkError|WebAssembly\.Instance).*memory.*; its share of the work runs on the main thread$/);
    const { call, initialC, result } = layOut(g, 40, 100, 30, false, false, false, 7);
    const scratch = g.alloc(pool.scratchBytes(40, 100, 30) / 4);
    pool.gemm(call, scratch);
    expect(calls.length).toBe(2); // both blocks, on the main thread
    const pooled = result();
    g.f32(call.c, 40 * 100).set(initialC);
    g.gemm(false, false, 40, 100, 30, call.a, 30, call.b, 100, call.c, 100, false, scratch);
    expect(Array.from(pooled)).toEqual(Array.from(result()));
  });

  it('an unshared memory is reported at creation and gemm runs on the main thread', async () => {
    const g = await instantiateGemm(await unsharedModule, 64);
    const { kernels, calls } = logged(g);
    const pool = new WasmThreadPool({ threads: 4, module: g.module, memory: g.memory, kernels, control: g.alloc(controlBlockBytes(4) / 4), minParallelFlop: 0 });
    pools.push(pool);
    expect(pool.failures).toEqual([expect.stringContaining('the memory is not shared')]);
    await expect(pool.ready).resolves.toEqual({ workers: 0, failures: pool.failures });
    const { call } = layOut(g, 16, 128, 16, false, false, false, 9);
    pool.gemm(call, g.alloc(pool.scratchBytes(16, 128, 16) / 4));
    expect(calls.reduce((n, { M, N }) => n + M * N, 0)).toBe(16 * 128);
  });

  it('a worker trapping on its block is a BackpropError naming the worker, not a hang', async () => {
    const g = await sharedGemm();
    const { kernels } = logged(g);
    const pool = new WasmThreadPool({ threads: 2, module: g.module, memory: g.memory, kernels, control: g.alloc(controlBlockBytes(2) / 4), minParallelFlop: 0 });
    pools.push(pool);
    await expect(pool.ready).resolves.toMatchObject({ workers: 1 });
    // Bᵀ stored N×K with a row stride that puts B's second half of rows (the worker's columns
    // of C) past the end of the memory, while the main thread's half stays inside it.
    const [M, N, K] = [4, 64, 8];
    const a = g.alloc(M * K);
    const c = g.alloc(M * N);
    const scratch = g.alloc(pool.scratchBytes(M, N, K) / 4);
    const b = g.alloc(K);
    const end = g.memory.buffer.byteLength;
    const ldb = Math.floor((end - b) / 4 / 32) + 1; // rows 0…31 inside, 32… outside
    expect(b + 4 * (31 * ldb + K)).toBeLessThanOrEqual(end);
    expect(b + 4 * 32 * ldb).toBeGreaterThan(end);
    const call: GemmCall = { transA: false, transB: true, M, N, K, a, lda: K, b, ldb, c, ldc: N, accumulate: false };
    expect(() => pool.gemm(call, scratch)).toThrow(/^gemm: worker 1 trapped computing its block of C \(4×64, K=8\)/);
  });

  it('refuses a thread count or control offset it cannot use', async () => {
    const g = await sharedGemm();
    const base = { module: g.module, memory: g.memory, kernels: logged(g).kernels };
    expect(() => new WasmThreadPool({ ...base, threads: 0, control: 0 })).toThrow(/^WasmThreadPool: threads must be an integer ≥ 1, got 0$/);
    expect(() => new WasmThreadPool({ ...base, threads: 2, control: 100 })).toThrow(/^WasmThreadPool: control must be a 64-byte aligned byte offset, got 100$/);
  });
});
