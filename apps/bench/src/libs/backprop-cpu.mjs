// Backprop adapter: @backprop/layers Sequential on @backprop/backend-cpu (single thread).
import { createRequire } from 'node:module';
import { cpuBackend } from '@backprop/backend-cpu';
import { Conv2D, Dense, Flatten, layersPlugin, lenet, MaxPool2D, Sequential } from '@backprop/layers';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { pooledConvGradient } from '../data.mjs';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, matMul, randomNormal, Registry } from '@backprop/tensor';

export const name = 'backprop-cpu';
export const label = 'Backprop (backend-cpu)';

let registry;
/**
 * `backend`: the backend plugin to use (libs/backprop-cpu-threads.mjs passes a threaded
 * backend-cpu, libs/backprop-wasm.mjs the wasm backend); `backendName` the name it registers,
 * `packageName` the package whose version is reported.
 */
export async function init(backend = cpuBackend, { backendName = 'cpu', packageName = '@backprop/backend-cpu', notes } = {}) {
  registry = new Registry().use(backend, layersPlugin, lossesPlugin, optimizersPlugin);
  const b = registry.setBackend(backendName);
  const threads = b.threads ?? 1;
  return { version: readVersion(packageName), threads, notes: notes ?? (threads > 1 ? `float32, ${threads} threads (worker_threads)` : 'float32, single thread') };
}

/** The backend's version actually measured, as the peers report theirs. */
function readVersion(packageName) {
  return createRequire(import.meta.url)(`${packageName}/package.json`).version;
}

function buildSequential(model, seed) {
  if (model === 'A') {
    // Model A (issue 7): the paper's network with a softmax head; not the `paperNetwork` preset (sigmoid + BCE).
    return new Sequential({
      name: 'modelA', inputShape: [1, 28, 28], seed, registry,
      layers: [
        new Conv2D({ filters: 8, kernelSize: 5, activation: 'relu' }),
        new MaxPool2D({ poolSize: 2 }),
        new Flatten(),
        new Dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
        new Dense({ units: 10, activation: 'softmax' }),
      ],
    });
  }
  // Model B is the `lenet` preset's topology (trained here with SGD lr 0.01 instead of Adam).
  return lenet({ seed, registry }).model;
}

/**
 * Returns { trainBatch(x, y, n), predictCorrect(x, labels, n) } where x is a Float32Array
 * of n·784 pixels (NCHW) and y a Float32Array of n·10 one-hot rows.
 */
export function build(model, seed = 1) {
  const net = buildSequential(model, seed);
  const loss = registry.losses.get('categoricalCrossentropy')();
  const optimizer = registry.optimizers.get('sgd')({ learningRate: 0.01 });
  return {
    trainBatch(x, y, n) {
      return registry.scope(() => {
        const xt = registry.makeTensor(x, [n, 1, 28, 28], 'float32');
        const yt = registry.makeTensor(y, [n, 10], 'float32');
        return net.trainOnBatch(xt, yt, loss, optimizer).loss;
      });
    },
    predictCorrect(x, labels, n) {
      return registry.scope(() => {
        const out = net.forward(registry.makeTensor(x, [n, 1, 28, 28], 'float32')).dataSync();
        return countArgmax(out, labels, n);
      });
    },
  };
}

export function countArgmax(out, labels, n) {
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < 10; j++) if (out[i * 10 + j] > out[i * 10 + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return correct;
}

/** The paper conv at batch 32 and matMul 256³: each returns a function that runs the op once. */
export function kernels() {
  const rnd = (shape, seed) => randomNormal(shape, 0, 1, { registry, dtype: 'float32', seed });
  const x = rnd([32, 1, 28, 28], 1), k = rnd([8, 1, 5, 5], 2), dy = rnd([32, 8, 24, 24], 3);
  const a = rnd([256, 256], 4), b = rnd([256, 256], 5);
  const g = { strides: 1, pad: 0 };
  const pooledDy = registry.makeTensor(pooledConvGradient(), [32, 8, 24, 24], 'float32');
  return {
    convForward: () => conv2d(x, k, g).dispose(),
    convFilterGrad: () => conv2dBackwardFilter(x, dy, k.shape, g).dispose(),
    convFilterGradPooled: () => conv2dBackwardFilter(x, pooledDy, k.shape, g).dispose(),
    convInputGrad: () => conv2dBackwardInput(dy, k, x.shape, g).dispose(),
    matMul: () => matMul(a, b).dispose(),
  };
}
