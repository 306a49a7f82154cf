// TensorFlow.js 4.22 adapter (tfjs-core + tfjs-layers) on tfjs-backend-cpu or tfjs-backend-wasm (SIMD).
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { pooledConvGradient } from '../data.mjs';

const require = createRequire(import.meta.url);
let backendName = 'cpu';
export let name = 'tfjs-cpu';
export let label = 'TensorFlow.js (tfjs-backend-cpu)';
const notes = [];

export function configure(backend) {
  backendName = backend;
  name = `tfjs-${backend}`;
  label = backend === 'wasm' ? 'TensorFlow.js (tfjs-backend-wasm, SIMD)' : 'TensorFlow.js (tfjs-backend-cpu)';
}

export async function init() {
  if (backendName === 'wasm') {
    // One thread, like the other libraries (node has no threaded wasm build here anyway).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    registerConv2DBackpropFilterForWasm();
  }
  await tf.setBackend(backendName);
  await tf.ready();
  if (tf.getBackend() !== backendName) throw new Error(`tfjs backend '${backendName}' did not initialise`);
  if (backendName === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    if (!simd) throw new Error('tfjs-backend-wasm: no SIMD support in this runtime');
    notes.push('wasm SIMD binary, single thread');
    notes.push(await checkConv2DBackpropFilter());
  } else {
    notes.push('tfjs-backend-cpu (pure JS), single thread');
  }
  return { version: require('@tensorflow/tfjs-core/package.json').version, notes: notes.join('; ') };
}

/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel (tfjs issue #8474), so no
 * Conv2D model can train on it. This registers one built from wasm's own Transpose and
 * Conv2D kernels: with batch and channels swapped, the filter gradient is a correlation
 * of x with dy,
 *   dW[u, v, c, f] = Σ_{n,i,j} x[n, i·s+u−p, j·s+v−p, c] · dy[n, i, j, f],
 * i.e. Conv2D(x' = xᵀ[c, h, w, n], w' = dyᵀ[i, j, n, f], dilation = stride, same padding)
 * = out[c, u, v, f], transposed to [u, v, c, f]. NHWC only (what tfjs-layers uses).
 */
function registerConv2DBackpropFilterForWasm() {
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs;
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
      if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter (bench, wasm): dataFormat ${dataFormat} not supported`);
      const transpose = tf.getKernel('Transpose', 'wasm').kernelFunc;
      const conv = tf.getKernel('Conv2D', 'wasm').kernelFunc;
      const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
      const { top, bottom, left, right } = info.padInfo;
      const [kh, kw] = [filterShape[0], filterShape[1]];
      let xt = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } });
      const dyt = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
      // Output spatial size must be exactly kh × kw: crop any extra bottom/right padding.
      const [sh, sw] = [info.strideHeight, info.strideWidth];
      const bottomUsed = kh - 1 - (x.shape[1] + top - 1 - (info.outHeight - 1) * sh);
      const rightUsed = kw - 1 - (x.shape[2] + left - 1 - (info.outWidth - 1) * sw);
      if (bottomUsed < 0 || rightUsed < 0) {
        // Strided windows that never reach the last rows/columns: drop them (wasm Slice).
        const slice = tf.getKernel('Slice', 'wasm').kernelFunc;
        const [c, h, w, n] = xt.shape;
        const cropped = slice({ inputs: { x: xt }, backend, attrs: { begin: [0, 0, 0, 0], size: [c, h + Math.min(0, bottomUsed), w + Math.min(0, rightUsed), n] } });
        backend.disposeData(xt.dataId);
        xt = cropped;
      }
      const explicit = [[0, 0], [top, Math.max(0, Math.min(bottom, bottomUsed))], [left, Math.max(0, Math.min(right, rightUsed))], [0, 0]];
      const out = conv({
        inputs: { x: xt, filter: dyt }, backend,
        attrs: { strides: 1, pad: explicit, dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined },
      });
      const dw = transpose({ inputs: { x: out }, backend, attrs: { perm: [1, 2, 0, 3] } });
      for (const t of [xt, dyt, out]) backend.disposeData(t.dataId);
      return dw;
    },
  });
}

/** Compares the registered wasm kernel with tfjs-backend-cpu's on random data. */
async function checkConv2DBackpropFilter() {
  const cases = [
    { x: [4, 28, 28, 1], f: [5, 5, 1, 8], strides: 1, pad: 'valid' },
    { x: [3, 13, 13, 4], f: [3, 3, 4, 6], strides: 1, pad: 'same' },
    { x: [2, 11, 12, 3], f: [3, 3, 3, 5], strides: 2, pad: 'valid' },
    { x: [2, 9, 10, 2], f: [3, 2, 2, 3], strides: 2, pad: 'same' },
  ];
  let worst = 0;
  for (const c of cases) {
    const results = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const x = tf.randomNormal(c.x, 0, 1, 'float32', 7);
      const dyShape = tf.conv2d(x, tf.zeros(c.f), c.strides, c.pad).shape;
      const dy = tf.randomNormal(dyShape, 0, 1, 'float32', 8);
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.f });
      results.push(await dw.data());
      tf.dispose([x, dy, dw]);
    }
    let scale = 0;
    for (const v of results[0]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < results[0].length; i++) worst = Math.max(worst, Math.abs(results[0][i] - results[1][i]) / Math.max(1, scale));
    if (results[0].length !== results[1].length) throw new Error('Conv2DBackpropFilter check: shape mismatch');
  }
  await tf.setBackend(backendName);
  if (!(worst < 1e-4)) throw new Error(`Conv2DBackpropFilter (wasm, bench-registered) disagrees with tfjs-cpu: max rel. error ${worst}`);
  return `Conv2DBackpropFilter registered for wasm by this benchmark (wasm Transpose + Conv2D), matches tfjs-cpu on ${cases.length} cases (max rel. err ${worst.toExponential(1)})`;
}

function buildModel(model, seed) {
  const init = (s) => ({ kernelInitializer: tfl.initializers.heNormal({ seed: s }) });
  const m = tfl.sequential();
  if (model === 'A') {
    m.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, activation: 'relu', ...init(seed) }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tfl.layers.flatten());
  } else {
    m.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', ...init(seed) }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', ...init(seed + 1) }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tfl.layers.flatten());
  }
  m.add(tfl.layers.dense({ units: 128, activation: 'relu', ...init(seed + 2) }));
  m.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 3 }) }));
  m.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
  return m;
}

export function build(model, seed = 1) {
  const net = buildModel(model, seed);
  return {
    // tfjs-layers' own per-batch API (reads the loss back, like Backprop's trainOnBatch).
    async trainBatch(x, y, n) {
      const xt = tf.tensor4d(x, [n, 28, 28, 1]);
      const yt = tf.tensor2d(y, [n, 10]);
      const loss = await net.trainOnBatch(xt, yt);
      tf.dispose([xt, yt]);
      return loss;
    },
    predictCorrect(x, labels, n) {
      const out = tf.tidy(() => tf.argMax(net.predict(tf.tensor4d(x, [n, 28, 28, 1]), { batchSize: n }), 1));
      const pred = out.dataSync();
      out.dispose();
      let correct = 0;
      for (let i = 0; i < n; i++) if (pred[i] === labels[i]) correct++;
      return correct;
    },
  };
}

export function kernels() {
  const x = tf.randomNormal([32, 28, 28, 1], 0, 1, 'float32', 1);
  const k = tf.randomNormal([5, 5, 1, 8], 0, 1, 'float32', 2);
  const dy = tf.randomNormal([32, 24, 24, 8], 0, 1, 'float32', 3);
  const a = tf.randomNormal([256, 256], 0, 1, 'float32', 4);
  const b = tf.randomNormal([256, 256], 0, 1, 'float32', 5);
  const attrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined };
  // Each op is synchronous on these backends; dataSync-free so only the kernel is timed.
  const run = (kernel, inputs, a2) => () => tf.engine().runKernel(kernel, inputs, a2).dispose();
  const pooledDy = tf.transpose(tf.tensor4d(pooledConvGradient(), [32, 8, 24, 24]), [0, 2, 3, 1]);
  return {
    convForward: run('Conv2D', { x, filter: k }, { ...attrs, dilations: 1 }),
    convFilterGrad: run('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [5, 5, 1, 8] }),
    convFilterGradPooled: run('Conv2DBackpropFilter', { x, dy: pooledDy }, { ...attrs, filterShape: [5, 5, 1, 8] }),
    convInputGrad: run('Conv2DBackpropInput', { dy, filter: k }, { ...attrs, inputShape: [32, 28, 28, 1] }),
    matMul: run('BatchMatMul', { a: tf.reshape(a, [1, 256, 256]), b: tf.reshape(b, [1, 256, 256]) }, { transposeA: false, transposeB: false }),
  };
}
