// GEMM micro-benchmark: assembly/gemm.ts (compiled alone, the package's flags) against
// @tensorflow/tfjs-backend-wasm's matMul (XNNPACK, SIMD, one thread) on the same shapes, in the same
// process, interleaved round by round so that machine noise hits both sides alike.
//   node bench/gemm.mjs [--rounds 7] [--ms 150] [--only <shape text>] [--no-tfjs]
//                       [--source variant-a.ts --source variant-b.ts]   (compare variants of gemm.ts)
// tfjs comes from apps/bench, which already depends on it (resolved from there; nothing to install).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { compileGemm, cpuMs, fillRandom, gemmSource, instantiateGemm, timePerCall } from './compile-gemm.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '150' },
    source: { type: 'string', multiple: true, default: [gemmSource] },
    'no-tfjs': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const rounds = Number(opts.rounds);
const budgetMs = Number(opts.ms);

// [label, M, N, K, transA, transB]. The conv shapes are the paper's conv (28×28 → 8 filters 5×5 →
// 24×24) as assembly/conv.ts calls gemm: once per image, C = filters × output pixels (NCHW).
const shapes = [
  ['matMul 256³', 256, 256, 256, false, false],
  ['matMul 128³', 128, 128, 128, false, false],
  ['matMul 512³', 512, 512, 512, false, false],
  ['matMul 256³ Aᵀ·Bᵀ', 256, 256, 256, true, true],
  ['conv fwd per image: K·cols 8×576, K=25', 8, 576, 25, false, false],
  ['conv input grad per image: Kᵀ·dy 25×576, K=8', 25, 576, 8, true, false],
  ['conv filter grad per image: dy·colsᵀ 8×25, K=576', 8, 25, 576, false, true],
  ['conv fwd, batch 32 in one call: 8×18432, K=25', 8, 18432, 25, false, false],
  ['dense fwd 1152→128, batch 32: x·Wᵀ 32×128, K=1152', 32, 128, 1152, false, true],
  ['dense fwd 1152→128, batch 32: x·W 32×128, K=1152', 32, 128, 1152, false, false],
  ['dense dW: xᵀ·dy 1152×128, K=32', 1152, 128, 32, true, false],
  ['dense dx: dy·W 32×1152, K=128', 32, 1152, 128, false, true],
].filter(([label]) => !opts.only || label.includes(opts.only));

const variants = [];
for (const source of opts.source) {
  const name = opts.source.length === 1 ? 'ours' : source.split('/').pop().replace(/\.ts$/, '');
  variants.push({ name, gemm: await instantiateGemm(await compileGemm(source), 512) });
}

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

// CPU time rather than wall time because the machine may be shared: time spent descheduled is
// not the kernel's (cache and frequency effects of the neighbours still show).
const time = (fn) => timePerCall(fn, budgetMs, cpuMs);

const rows = [];
for (const [label, M, N, K, transA, transB] of shapes) {
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const aData = new Float32Array(aRows * aCols);
  const bData = new Float32Array(bRows * bCols);
  fillRandom(aData, 1);
  fillRandom(bData, 2);
  const runs = variants.map(({ name, gemm: ours }) => {
    ours.reset();
    const a = ours.alloc(aRows * aCols);
    const b = ours.alloc(bRows * bCols);
    const c = ours.alloc(M * N);
    const scratch = ours.alloc(ours.gemmScratchBytes(M, N, K) / 4);
    ours.f32(a, aData.length).set(aData);
    ours.f32(b, bData.length).set(bData);
    const run = () => ours.gemm(transA, transB, M, N, K, a, aCols, b, bCols, c, N, false, scratch);
    run();
    return { name, run, result: ours.f32(c, M * N).slice(), ms: [] };
  });

  let runTfjs = null;
  let tensors = [];
  if (tf) {
    const at = tf.tensor2d(aData, [aRows, aCols]);
    const bt = tf.tensor2d(bData, [bRows, bCols]);
    tensors = [at, bt];
    runTfjs = () => tf.matMul(at, bt, transA, transB).dispose();
    // Same answer (to f32 rounding) before timing anything.
    const expected = tf.matMul(at, bt, transA, transB).dataSync();
    for (const { name, result } of runs) {
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - result[i]));
      if (worst > 1e-3) throw new Error(`${label}: ${name} differs from tfjs by ${worst}`);
    }
  }

  const tfjsMs = [];
  for (let r = 0; r < rounds; r++) {
    for (const v of runs) v.ms.push(time(v.run));
    if (runTfjs) tfjsMs.push(time(runTfjs));
  }
  for (const t of tensors) t.dispose();
  const flop = 2 * M * N * K;
  const best = (xs) => Math.min(...xs);
  const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const gflops = (ms) => flop / ms / 1e6;
  const row = { shape: label };
  for (const { name, ms } of runs) row[`${name} GFLOP/s`] = gflops(best(ms)).toFixed(1);
  if (runTfjs) {
    row['tfjs-wasm GFLOP/s'] = gflops(best(tfjsMs)).toFixed(1);
    for (const { name, ms } of runs) {
      const prefix = runs.length === 1 ? '' : `${name} `;
      row[`${prefix}ratio (best)`] = (best(tfjsMs) / best(ms)).toFixed(2);
      row[`${prefix}ratio (median of rounds)`] = median(ms.map((m, i) => tfjsMs[i] / m)).toFixed(2);
    }
  } else if (runs.length > 1) {
    for (const { name, ms } of runs.slice(1)) row[`${name}/${runs[0].name} (median of rounds)`] = median(ms.map((m, i) => runs[0].ms[i] / m)).toFixed(2);
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.table(rows);
