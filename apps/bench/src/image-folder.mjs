/**
 * Image folder vs in-memory IDX: the same network trained one epoch on MNIST read from the
 * IDX files (in memory) and from the same images written as a folder of PNGs (decoded batch
 * by batch with `ImageDataset.batches`). Reports samples/s, the peak resident memory and the
 * accuracy on the 10,000 test images (from the IDX file, or from the test set written as a
 * second folder, streamed) of each, each mode in its own process so one's memory does not
 * count in the other's.
 *
 *   node src/image-folder.mjs [--count 60000] [--epochs 1] [--dir <folder>] [--colour] [--backend cpu|wasm]
 *
 * The folders are written once (`writeMnistImageFolder`, the first `--count` training images
 * and the test images in `<dir>-test`; with --colour, the seeded colour variant) and reused
 * when they exist. Not a timed test:
 * numbers go to stdout as JSON (and a line each).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const count = Number(flag('count', '60000'));
const epochs = Number(flag('epochs', '1'));
const colour = args.includes('--colour');
const backend = flag('backend', 'cpu');
const dir = flag('dir', join(tmpdir(), `backprop-mnist-${colour ? 'colour' : 'grey'}-png-${count}`));
const testDir = `${dir}-test`;
const worker = flag('worker', undefined);

async function registryFor(name) {
  const { Registry } = await import('@backprop/tensor');
  const { layersPlugin } = await import('@backprop/layers');
  const { lossesPlugin } = await import('@backprop/losses');
  const { optimizersPlugin } = await import('@backprop/optimizers');
  const backendPlugin = name === 'wasm' ? (await import('@backprop/backend-wasm')).wasmBackend : (await import('@backprop/backend-cpu')).cpuBackend;
  return new Registry().use(backendPlugin, layersPlugin, lossesPlugin, optimizersPlugin);
}

async function runWorker(mode) {
  const { lenet } = await import('@backprop/layers');
  const registry = await registryFor(backend);
  let peakSampled = 0;
  const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, process.memoryUsage().rss)), 20);
  const channels = colour ? 3 : 1;
  const model = lenet({ registry, seed: 1, inputShape: [channels, 28, 28] }).model;
  const options = { loss: 'categoricalCrossentropy', optimizer: { name: 'adam', config: { learningRate: 0.001 } }, epochs };
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let history;
  let testAccuracy;
  if (mode === 'idx') {
    const { loadMnist } = await import('@backprop/datasets');
    const { train, test } = await loadMnist({ trainLimit: count });
    history = await model.fit({ values: train.images, shape: [train.count, 1, 28, 28] }, { values: train.labels, shape: [train.count] }, { ...options, batchSize: 32, seed: 1 });
    testAccuracy = (await model.evaluateAsync({ values: test.images, shape: [test.count, 1, 28, 28] }, { values: test.labels, shape: [test.count] }, { loss: options.loss, batchSize: 256 })).accuracy;
  } else {
    const { imageFolder } = await import('@backprop/datasets/node');
    const data = await imageFolder(dir);
    const batches = mode === 'folder-memory' ? undefined : data.train.batches({ batchSize: 32, shuffle: true, seed: 1 });
    if (batches) history = await model.fit(batches, options);
    else {
      const { x, y } = await data.train.load();
      history = await model.fit(x, y, { ...options, batchSize: 32, seed: 1 });
    }
    const test = await imageFolder(testDir);
    testAccuracy = (await model.evaluateAsync(test.train.batches({ batchSize: 256 }), { loss: options.loss })).accuracy;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  clearInterval(sampler);
  const last = history.epochs.at(-1);
  process.stdout.write(
    `${JSON.stringify({
      mode,
      backend,
      count,
      epochs,
      colour,
      samplesPerSecond: Math.round(last.samplesPerSecond),
      trainAccuracy: last.accuracy,
      testAccuracy,
      loadAndTrainSeconds: Number(seconds.toFixed(1)),
      // CPU time (user + system) of loading and training: less sensitive than samples/s to other processes on a shared machine.
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      sampledPeakRssMiB: Math.round(peakSampled / 2 ** 20),
    })}\n`,
  );
  model.dispose();
}

if (worker) {
  await runWorker(worker);
} else {
  if (!existsSync(dir)) {
    const { writeMnistImageFolder } = await import('@backprop/datasets/node');
    const started = performance.now();
    await writeMnistImageFolder(dir, { limit: count, colour, seed: 1 });
    console.error(`wrote ${count} ${colour ? 'colour' : 'grey'} PNGs to ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  if (!existsSync(testDir)) {
    const { writeMnistImageFolder } = await import('@backprop/datasets/node');
    await writeMnistImageFolder(testDir, { set: 'test', colour, seed: 2 });
  }
  const results = [];
  for (const mode of colour ? ['folder-stream', 'folder-memory'] : ['idx', 'folder-stream', 'folder-memory']) {
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args, '--dir', dir, '--worker', mode], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (run.status !== 0) throw new Error(`${mode} failed (exit ${run.status})`);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1));
    console.error(
      `${mode.padEnd(14)} ${String(result.samplesPerSecond).padStart(6)} samples/s  CPU ${result.cpuSeconds} s (load + train)  peak RSS ${result.peakRssMiB} MiB  train accuracy ${(result.trainAccuracy * 100).toFixed(2)}%  test accuracy ${(result.testAccuracy * 100).toFixed(2)}%`,
    );
    results.push(result);
  }
  console.log(JSON.stringify(results, null, 2));
}
