// Model B's second convolution (batch 256, 32×13×13 → 64@3×3, 11×11 out: the Winograd path) and
// its first (1×28×28 → 32@3×3: im2col + GEMM) timed on the wasm backend. Compare builds (or
// WINOGRAD_GROUP_TILES in src/kernels/conv2d.ts) in paired runs: the figures swing with machine load.
import * as ops from '@backprop/tensor';
import { Registry } from '@backprop/tensor';
import { wasmBackend } from '@backprop/backend-wasm';

const registry = new Registry().use(wasmBackend);
registry.setBackend('wasm');
const values = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
for (const [name, xs, ks] of [['conv2', [256, 32, 13, 13], [64, 32, 3, 3]], ['conv1', [256, 1, 28, 28], [32, 1, 3, 3]]]) {
  const x = ops.tensor(values(xs.reduce((a, b) => a * b)), xs, { registry });
  const k = ops.tensor(values(ks.reduce((a, b) => a * b)), ks, { registry });
  for (let i = 0; i < 5; i++) ops.conv2d(x, k, { activation: 'relu' }).dispose();
  const times = [];
  for (let r = 0; r < 15; r++) {
    const t = performance.now();
    ops.conv2d(x, k, { activation: 'relu' }).dispose();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const flop = 2 * xs[0] * ks[0] * ks[1] * ks[2] * ks[3] * (xs[2] - 2) * (xs[3] - 2);
  console.log(`${name}: min ${times[0].toFixed(2)} ms, median ${times[7].toFixed(2)} ms, ${(flop / times[0] / 1e6).toFixed(1)} GFLOP/s (im2col-equivalent)`);
}
