// Kernel and training benchmark per gpu.js mode. Run with `pnpm bench` (builds first).
//   node bench/kernels.mjs [mode ...]     default: cpu webasm headlessgl webgpu
// Each mode runs in its own child process (headless-gl and Dawn cannot share one);
// headlessgl runs under `xvfb-run -a` when $DISPLAY is unset. Times include reading the
// result back (await data()), the only way to time GPU work honestly.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  // No process.exit(): removeBackend destroys the WebGPU device (webgpu), so the child exits by itself.
  await runMode(process.argv[3]);
} else {
  const modes = process.argv.slice(2).length ? process.argv.slice(2) : ['cpu', 'webasm', 'headlessgl', 'webgpu'];
  for (const mode of modes) {
    const useXvfb = mode === 'headlessgl' && !process.env.DISPLAY;
    const cmd = useXvfb ? 'xvfb-run' : process.execPath;
    const args = useXvfb ? ['-a', process.execPath, self, '--child', mode] : [self, '--child', mode];
    const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' } });
    if (r.status !== 0) console.log(`mode ${mode}: failed (exit ${r.status ?? r.error})`);
  }
}

async function runMode(mode) {
  const { Registry, conv2d, conv2dBackwardFilter, conv2dBackwardInput, matMul, randomNormal } = await import('@backprop/tensor');
  const lib = await import('../dist/index.js');
  if (mode === 'webgpu') await lib.installNodeWebGPU();
  const registry = new Registry().use(lib.gpujsBackend({ mode }));
  registry.setBackend('gpujs');
  const rnd = (shape, seed) => randomNormal(shape, 0, 1, { registry, dtype: 'float32', seed });

  const cases = [];
  const x = rnd([32, 1, 28, 28], 1), k = rnd([8, 1, 5, 5], 2);
  const dy = rnd([32, 8, 24, 24], 3);
  const geo = { strides: 1, pad: 0 };
  const convShape = 'x[32,1,28,28] k[8,1,5,5]';
  cases.push({ op: 'conv2d (paper)', shape: convShape, fn: () => conv2d(x, k, geo) });
  cases.push({ op: 'conv2dBackwardFilter (paper)', shape: convShape, fn: () => conv2dBackwardFilter(x, dy, k.shape, geo) });
  cases.push({ op: 'conv2dBackwardInput (paper)', shape: convShape, fn: () => conv2dBackwardInput(dy, k, x.shape, geo) });
  const a = rnd([256, 256], 4), b = rnd([256, 256], 5);
  cases.push({ op: 'matMul', shape: '256×256×256', fn: () => matMul(a, b) });

  const rows = [];
  for (const c of cases) {
    for (let i = 0; i < 2; i++) {
      const t = c.fn();
      await t.data();
      t.dispose();
    }
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < 1500 || n < 3) {
      const t = c.fn();
      await t.data();
      t.dispose();
      n++;
    }
    rows.push({ mode, op: c.op, shape: c.shape, 'ms (incl. readback)': +((performance.now() - start) / n).toFixed(2), runs: n });
  }
  console.log(`backend-gpujs mode ${mode}, node ${process.version}`);
  console.table(rows);

  {
    // Sequential.fit reads with await data(), so it trains in every mode, webgpu included.
    const { layersPlugin, paperNetwork } = await import('@backprop/layers');
    const { lossesPlugin } = await import('@backprop/losses');
    const { optimizersPlugin } = await import('@backprop/optimizers');
    const { loadMnist } = await import('@backprop/datasets');
    registry.use(layersPlugin, lossesPlugin, optimizersPlugin);
    const { train } = await loadMnist({ trainLimit: 640, testLimit: 1 });
    const { model, loss, optimizer } = paperNetwork({ registry, seed: 1 });
    const xs = { values: train.images, shape: [640, 1, 28, 28] };
    const ys = { values: train.labels, shape: [640] };
    await model.fit({ values: train.images.subarray(0, 64 * 784), shape: [64, 1, 28, 28] }, { values: train.labels.subarray(0, 64), shape: [64] }, { loss, optimizer, epochs: 1, batchSize: 32 });
    const t0 = performance.now();
    await model.fit(xs, ys, { loss, optimizer, epochs: 1, batchSize: 32, seed: 1 });
    const s = (performance.now() - t0) / 1000;
    console.log(`training (paper network, MNIST, batch 32): ${(640 / s).toFixed(0)} samples/s in mode ${mode}`);
    model.dispose();
  }
  registry.removeBackend('gpujs');
}
