// Kernel benchmark, threads = 1 vs threads = 2 (worker_threads). Run with `pnpm bench`
// (builds first). `--threads N` compares 1 with N; `--only N` times N threads alone.
// Caveat: in one process both variants share the JIT's code (typed arrays on ArrayBuffers
// and on SharedArrayBuffers); in one run the single-thread column here was slower than with
// `--only 1` alone (matMul 12.1 vs 7.7 ms; cause not pinned down: JIT or machine noise), so
// for figures to quote run `--only 1` and `--only 2` on an otherwise idle machine.
import { Bench } from 'tinybench';
import { Registry, conv2d, conv2dBackwardFilter, conv2dBackwardInput, matMul, randomNormal } from '@backprop/tensor';
import { cpuBackendWithThreads } from '../dist/index.js';

const ti = process.argv.indexOf('--threads');
const threads = ti >= 0 ? Number(process.argv[ti + 1]) : 2;
const dtype = 'float32';

function makeCases(registry) {
  const rnd = (shape, seed) => randomNormal(shape, 0, 1, { registry, dtype, seed });
  const cases = [];
  function convCases(label, [n, c, h, w], [f, , kh, kw], strides, pad) {
    const x = rnd([n, c, h, w], 1), k = rnd([f, c, kh, kw], 2);
    const y = conv2d(x, k, { strides, pad });
    const dy = rnd(y.shape, 3);
    const flops = 2 * y.size * c * kh * kw;
    const xs = `x[${n},${c},${h},${w}] k[${f},${c},${kh},${kw}] s${strides} p${pad}`;
    cases.push({ op: `conv2d ${label}`, shape: xs, flops, fn: () => conv2d(x, k, { strides, pad }).dispose() });
    cases.push({ op: `conv2dBackwardFilter ${label}`, shape: xs, flops, fn: () => conv2dBackwardFilter(x, dy, k.shape, { strides, pad }).dispose() });
    cases.push({ op: `conv2dBackwardInput ${label}`, shape: xs, flops, fn: () => conv2dBackwardInput(dy, k, x.shape, { strides, pad }).dispose() });
  }
  convCases('(paper)', [32, 1, 28, 28], [8, 1, 5, 5], 1, 0);
  convCases('(model B 1)', [32, 8, 12, 12], [32, 8, 3, 3], 1, 1);
  convCases('(model B 2)', [32, 32, 6, 6], [64, 32, 3, 3], 1, 1);
  {
    const a = rnd([256, 256], 4), b = rnd([256, 256], 5);
    for (const [ta, tb] of [[false, false], [true, false], [false, true]]) {
      cases.push({
        op: `matMul${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`, shape: '256×256×256', flops: 2 * 256 ** 3,
        fn: () => matMul(a, b, { transposeA: ta, transposeB: tb }).dispose(),
      });
    }
  }
  {
    // Model A's dense layer at batch 32: forward, dW = xᵀ·dy, dX = dy·Wᵀ.
    const x = rnd([32, 1152], 6), w = rnd([1152, 128], 7), dy = rnd([32, 128], 8);
    const flops = 2 * 32 * 1152 * 128;
    cases.push({ op: 'matMul (model A dense)', shape: '32×1152 · 1152×128', flops, fn: () => matMul(x, w).dispose() });
    cases.push({ op: 'matMul Aᵀ (model A dW)', shape: '1152×32 · 32×128', flops, fn: () => matMul(x, dy, { transposeA: true }).dispose() });
    cases.push({ op: 'matMul Bᵀ (model A dX)', shape: '32×128 · 128×1152', flops, fn: () => matMul(dy, w, { transposeB: true }).dispose() });
  }
  return cases;
}

const oi = process.argv.indexOf('--only');
const variants = oi >= 0 ? [Number(process.argv[oi + 1])] : threads > 1 ? [1, threads] : [1];
const registries = variants.map((t) => {
  const r = new Registry().use(cpuBackendWithThreads(t));
  const b = r.setBackend('cpu');
  if (b.threads !== t) throw new Error(`asked for ${t} threads, got ${b.threads}`);
  return r;
});
const caseSets = registries.map(makeCases);
// Let the workers start before timing.
await new Promise((r) => setTimeout(r, 300));

const bench = new Bench({ time: 400, warmupTime: 200 });
// Interleaved (case × variant) so slow drifts of a shared machine hit both columns alike.
for (let i = 0; i < caseSets[0].length; i++) {
  for (let v = 0; v < variants.length; v++) bench.add(`${i}:${v}`, caseSets[v][i].fn);
}
await bench.run();
const meanMs = (i, v) => {
  const r = bench.tasks[i * variants.length + v].result;
  return r.latency?.mean ?? r.mean;
};
const rows = caseSets[0].map((c, i) => {
  const row = { op: c.op, shape: c.shape };
  for (let v = 0; v < variants.length; v++) {
    const ms = meanMs(i, v);
    row[`ms t${variants[v]}`] = +ms.toFixed(3);
    row[`GFLOP/s t${variants[v]}`] = +(c.flops / (ms * 1e6)).toFixed(2);
  }
  if (variants.length > 1) row['speed-up'] = +(meanMs(i, 0) / meanMs(i, 1)).toFixed(2);
  return row;
});
console.log(`backend-cpu ${dtype}, node ${process.version}, threads ${variants.join(' vs ')}`);
console.table(rows);
for (const r of registries) r.removeBackend('cpu');
