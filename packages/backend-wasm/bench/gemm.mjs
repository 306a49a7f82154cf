// GEMM micro-benchmark: assembly/gemm.ts (compiled alone, the package's flags) against
// @tensorflow/tfjs-backend-wasm's matMul (XNNPACK, SIMD, one thread) on the same shapes, in the same
// process, interleaved round by round so that machine noise hits both sides alike.
//   node bench/gemm.mjs [--rounds 7] [--ms 150] [--source path/to/gemm-variant.ts]
// tfjs comes from apps/bench, which already depends on it (resolved from there; nothing to install).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { compileGemm, gemmSource, instantiateGemm } from './compile-gemm.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '150' },
    source: { type: 'string', default: gemmSource },
    'no-tfjs': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const rounds = Number(opts.rounds);
const budgetMs = Number(opts.ms);

// [label, M, N, K, transA, transB]
const shapes = [
  ['matMul 256³', 256, 256, 256, false, false],
  ['matMul 128³', 128, 128, 128, false, false],
  ['matMul 512³', 512, 512, 512, false, false],
  ['conv im2col fwd, pixels×filters: 18432×8, K=25 (paper conv, batch 32)', 18432, 8, 25, false, false],
  ['conv im2col fwd, filters×pixels: 8×18432, K=25', 8, 18432, 25, false, false],
  ['conv filter grad: 8×25, K=18432 (dyᵀ·cols)', 8, 25, 18432, true, false],
  ['dense fwd 1152→128, batch 32: 32×128, K=1152 (x·Wᵀ)', 32, 128, 1152, false, true],
  ['dense fwd 1152→128, batch 32: 32×128, K=1152 (x·W)', 32, 128, 1152, false, false],
  ['dense dW: 1152×128, K=32 (xᵀ·dy)', 1152, 128, 32, true, false],
  ['dense dx: 32×1152, K=128 (dy·W)', 32, 1152, 128, false, true],
].filter(([label]) => !opts.only || label.includes(opts.only));

const ours = await instantiateGemm(await compileGemm(opts.source), 512);

let tf = null;
if (!opts['no-tfjs']) {
  const fromBench = createRequire(new URL('../../../apps/bench/package.json', import.meta.url));
  tf = await import(fromBench.resolve('@tensorflow/tfjs-core'));
  await import(fromBench.resolve('@tensorflow/tfjs-backend-wasm'));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await tf.ready();
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('tfjs-backend-wasm: no SIMD in this runtime');
}

/** Milliseconds per call: calls `fn` in batches until budgetMs has passed, returns the mean per call. */
function time(fn) {
  fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  let batch = 1;
  while (now - start < budgetMs) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    batch *= 2;
    now = performance.now();
  }
  return (now - start) / calls;
}

const rows = [];
for (const [label, M, N, K, transA, transB] of shapes) {
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const a = ours.alloc(aRows * aCols);
  const b = ours.alloc(bRows * bCols);
  const c = ours.alloc(M * N);
  const scratch = ours.alloc(ours.gemmScratchBytes(M, N, K) / 4);
  const aData = Float32Array.from({ length: aRows * aCols }, () => Math.random() - 0.5);
  const bData = Float32Array.from({ length: bRows * bCols }, () => Math.random() - 0.5);
  ours.f32(a, aData.length).set(aData);
  ours.f32(b, bData.length).set(bData);
  const runOurs = () => ours.gemm(transA, transB, M, N, K, a, aCols, b, bCols, c, N, false, scratch);

  let runTfjs = null;
  let tensors = [];
  if (tf) {
    const at = tf.tensor2d(aData, [aRows, aCols]);
    const bt = tf.tensor2d(bData, [bRows, bCols]);
    tensors = [at, bt];
    runTfjs = () => tf.matMul(at, bt, transA, transB).dispose();
    // Same answer (to f32 rounding) before timing anything.
    runOurs();
    const expected = tf.matMul(at, bt, transA, transB).dataSync();
    const got = ours.f32(c, M * N);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - got[i]));
    if (worst > 1e-3) throw new Error(`${label}: differs from tfjs by ${worst}`);
  }

  const oursMs = [];
  const tfjsMs = [];
  for (let r = 0; r < rounds; r++) {
    oursMs.push(time(runOurs));
    if (runTfjs) tfjsMs.push(time(runTfjs));
  }
  for (const t of tensors) t.dispose();
  const flop = 2 * M * N * K;
  const best = (xs) => Math.min(...xs);
  const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const gflops = (ms) => flop / ms / 1e6;
  const row = { shape: label, 'ours GFLOP/s': gflops(best(oursMs)).toFixed(1) };
  if (runTfjs) {
    row['tfjs-wasm GFLOP/s'] = gflops(best(tfjsMs)).toFixed(1);
    row['ratio (best)'] = (best(tfjsMs) / best(oursMs)).toFixed(2);
    row['ratio (median of rounds)'] = median(oursMs.map((ms, i) => tfjsMs[i] / ms)).toFixed(2);
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.table(rows);
