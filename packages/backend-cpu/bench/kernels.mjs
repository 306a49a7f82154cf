// Kernel benchmark (single thread). Run with `pnpm bench` (builds first).
import { Bench } from 'tinybench';
import { Registry, conv2d, conv2dBackwardFilter, conv2dBackwardInput, matMul, randomNormal } from '@backprop/tensor';
import { cpuBackend } from '../dist/index.js';

const registry = new Registry().use(cpuBackend);
const dtype = 'float32';
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

const bench = new Bench({ time: 400, warmupTime: 200 });
for (const c of cases) bench.add(`${c.op} ${c.shape}`, c.fn);
await bench.run();
const rows = cases.map((c, i) => {
  const task = bench.tasks[i];
  const mean = task.result.latency?.mean ?? task.result.mean;
  return { op: c.op, shape: c.shape, 'mean ms': +mean.toFixed(3), 'GFLOP/s': +(c.flops / (mean * 1e6)).toFixed(2) };
});
console.log(`backend-cpu ${dtype}, node ${process.version}`);
console.table(rows);
