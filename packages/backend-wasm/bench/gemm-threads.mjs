// Thread speedup of the GEMM pool prototype (src/threads/pool.ts): one gemm call on the main
// thread against the same product split across `--threads` threads on one shared memory, wall
// time, interleaved round by round. Checks the results are bit-identical first.
//   node bench/gemm-threads.mjs [--threads 2] [--rounds 7] [--ms 150]
// The pool is TypeScript: bundled here with the esbuild that tsup (a root devDependency) brings.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { compileGemm, fillRandom, instantiateGemm, timePerCall } from './compile-gemm.mjs';

const { values: opts } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '150' },
  },
});
const threads = Number(opts.threads);

const fromRoot = createRequire(new URL('../../../package.json', import.meta.url));
const esbuild = await import(createRequire(fromRoot.resolve('tsup')).resolve('esbuild'));
const bundled = await esbuild.build({
  entryPoints: [new URL('../src/threads/pool.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  platform: 'node',
  conditions: ['backprop-source'],
  write: false,
});
const dir = mkdtempSync(join(tmpdir(), 'gemm-threads-'));
const file = join(dir, 'pool.mjs');
writeFileSync(file, bundled.outputFiles[0].text);
const { WasmThreadPool, controlBlockBytes } = await import(pathToFileURL(file).href);
rmSync(dir, { recursive: true });

const g = await instantiateGemm(await compileGemm(undefined, 'threads'), 1024, { shared: true });
const kernels = { gemm: g.gemm, gemmScratchBytes: g.gemmScratchBytes };
const pool = new WasmThreadPool({ threads, module: g.module, memory: g.memory, kernels, control: g.alloc(controlBlockBytes(threads) / 4) });
const status = await pool.ready;
if (status.workers !== threads - 1) throw new Error(`workers did not start: ${status.failures.join('; ')}`);

// Wall time: the point is the work leaving the main thread.
const time = (fn) => timePerCall(fn, Number(opts.ms));

const shapes = [
  ['matMul 256³', 256, 256, 256, false, false],
  ['matMul 512³', 512, 512, 512, false, false],
  ['conv fwd, batch 32 in one call: 8×18432, K=25', 8, 18432, 25, false, false],
  ['conv fwd per image: 8×576, K=25', 8, 576, 25, false, false],
  ['dense fwd x·Wᵀ 32×128, K=1152', 32, 128, 1152, false, true],
  ['dense dW: xᵀ·dy 1152×128, K=32', 1152, 128, 32, true, false],
];
const rows = [];
for (const [label, M, N, K, transA, transB] of shapes) {
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const a = g.alloc(aRows * aCols);
  const b = g.alloc(bRows * bCols);
  const c = g.alloc(M * N);
  const scratch = g.alloc(Math.max(pool.scratchBytes(M, N, K), g.gemmScratchBytes(M, N, K)) / 4);
  fillRandom(g.f32(a, aRows * aCols), 1);
  fillRandom(g.f32(b, bRows * bCols), 2);
  const call = { transA, transB, M, N, K, a, lda: aCols, b, ldb: bCols, c, ldc: N, accumulate: false };
  const single = () => g.gemm(transA, transB, M, N, K, a, aCols, b, bCols, c, N, false, scratch);
  const pooled = () => pool.gemm(call, scratch);
  single();
  const one = g.f32(c, M * N).slice();
  pooled();
  const many = g.f32(c, M * N);
  for (let i = 0; i < M * N; i++) if (!Object.is(one[i], many[i])) throw new Error(`${label}: ${threads} threads differ from one at ${i}`);
  const singleMs = [];
  const pooledMs = [];
  for (let r = 0; r < Number(opts.rounds); r++) {
    singleMs.push(time(single));
    pooledMs.push(time(pooled));
  }
  const best = (xs) => Math.min(...xs);
  const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const gflops = (ms) => ((2 * M * N * K) / ms / 1e6).toFixed(1);
  const row = {
    shape: label,
    '1 thread GFLOP/s': gflops(best(singleMs)),
    [`${threads} threads GFLOP/s`]: gflops(best(pooledMs)),
    'speedup (best)': (best(singleMs) / best(pooledMs)).toFixed(2),
    'speedup (median of rounds)': median(singleMs.map((ms, i) => ms / pooledMs[i])).toFixed(2),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
pool.terminate();
console.table(rows);
