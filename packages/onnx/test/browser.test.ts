// An exported model in a real browser: Debian's Chromium (driven by playwright-core) runs
// the bytes toOnnx wrote with onnxruntime-web's WebAssembly execution provider, and its
// outputs must match Backprop's predict on real MNIST test images. onnxruntime-web's
// script and .wasm files are served from the npm package on 127.0.0.1 (no network); the
// page is not cross-origin isolated, so ONNX Runtime runs single-threaded (numThreads 1).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { loadMnist } from '@backprop/datasets';
import { paperNetwork, type Sequential } from '@backprop/layers';
import type { ComponentJSON } from '@backprop/tensor';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordPageErrors, scriptPage, serveAndLaunch } from '../../../scripts/chromium.js';
import { toOnnx } from '../src/index.js';
import { everyLayerModel, normalizedModel, registry } from './models.js';

const TRAIN = 500;
const TEST = 500;
const TOLERANCE = 1e-5;

/** The dist folder of onnxruntime-web: its wasm-only script and the .wasm/.mjs files it loads. */
const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));
const ORT_SCRIPT = basename(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));

interface PageResult {
  dims: number[];
  data: number[];
  inputNames: string[];
  outputNames: string[];
  backend: string;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

let base = '';
let context: BrowserContext;
/** The model bytes the page fetches from /model.onnx, set per test. */
let served: { model: Uint8Array; images: Uint8Array } = { model: new Uint8Array(), images: new Uint8Array() };
let mnist: Awaited<ReturnType<typeof loadMnist>>;

beforeAll(async () => {
  expect(existsSync(join(ORT_DIST, ORT_SCRIPT))).toBe(true);
  mnist = await loadMnist({ trainLimit: TRAIN, testLimit: TEST });
  const html = scriptPage('onnxruntime-web', `/ort/${ORT_SCRIPT}`);
  const page = await serveAndLaunch(chromium, (path) => {
    if (path === '/' || path === '/index.html') return html;
    if (path === '/model.onnx') return { type: 'application/octet-stream', body: served.model };
    if (path === '/images.bin') return { type: 'application/octet-stream', body: served.images };
    if (/^\/ort\/[\w.-]+$/.test(path) && existsSync(join(ORT_DIST, path.slice(5)))) {
      const file = path.slice(5);
      return { type: file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8', body: readFileSync(join(ORT_DIST, file)) };
    }
    return undefined;
  });
  cleanup.push(page.close);
  ({ base, context } = page);
}, 120_000);

/** Loads the page, runs /model.onnx on /images.bin ([count, 1, 28, 28] float32) with the wasm execution provider. */
async function runInChromium(count: number): Promise<PageResult> {
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  try {
    await page.goto(`${base}/`);
    const result = await page.evaluate(async (n: number): Promise<PageResult> => {
      const ort = (globalThis as unknown as { ort: typeof import('onnxruntime-web') }).ort;
      ort.env.wasm.wasmPaths = '/ort/';
      // Threads need SharedArrayBuffer, which needs cross-origin isolation; this page is a plain one.
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      const model = new Uint8Array(await (await fetch('/model.onnx')).arrayBuffer());
      const images = new Float32Array(await (await fetch('/images.bin')).arrayBuffer());
      const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
      const output = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', images, [n, 1, 28, 28]) }))[session.outputNames[0]];
      const out = { dims: [...output.dims], data: Array.from(output.data as Float32Array), inputNames: [...session.inputNames], outputNames: [...session.outputNames], backend: 'wasm' };
      await session.release();
      return out;
    }, count);
    expect(errors).toEqual([]);
    return result;
  } finally {
    await page.close();
  }
}

function argmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let j = 1; j < length; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}

/** Trains briefly on real MNIST, exports, runs the bytes in Chromium and compares with predict on every test image. */
async function check(name: string, setup: { model: Sequential; loss: ComponentJSON; optimizer: ComponentJSON }, epochs: number): Promise<number> {
  const { model, loss, optimizer } = setup;
  const { train, test } = mnist;
  try {
    await model.fit({ values: train.images, shape: [train.count, 1, 28, 28] }, { values: train.labels, shape: [train.count] }, { loss, optimizer, epochs, batchSize: 32, seed: 1 });
    const y = model.predict({ values: test.images, shape: [test.count, 1, 28, 28] });
    const expected = new Float32Array(y.dataSync() as Float32Array);
    y.dispose();
    served = { model: toOnnx(model), images: new Uint8Array(test.images.buffer, test.images.byteOffset, test.images.byteLength) };
    const result = await runInChromium(test.count);
    const classes = model.outputShape[0];
    expect(result.inputNames).toEqual(['input']);
    expect(result.outputNames).toEqual(['output']);
    expect(result.dims).toEqual([test.count, classes]);
    let maxAbs = 0;
    let maxScaled = 0;
    let disagreements = 0;
    for (let i = 0; i < expected.length; i++) {
      const diff = Math.abs(result.data[i] - expected[i]);
      maxAbs = Math.max(maxAbs, diff);
      maxScaled = Math.max(maxScaled, diff / Math.max(1, Math.abs(expected[i])));
    }
    for (let n = 0; n < test.count; n++) if (argmax(result.data, n * classes, classes) !== argmax(expected, n * classes, classes)) disagreements++;
    const labels = new Set(Array.from({ length: test.count }, (_, n) => argmax(expected, n * classes, classes)));
    console.log(`${name} in Chromium (onnxruntime-web ${result.backend}): max |Δ| vs predict ${maxAbs.toExponential(2)} over ${test.count} MNIST test images, argmax disagreements ${disagreements}, ${labels.size} distinct predicted classes`);
    // The outputs depend on the image (a model that ignored its input would agree trivially).
    expect(labels.size).toBeGreaterThanOrEqual(3);
    expect(maxScaled).toBeLessThanOrEqual(TOLERANCE);
    expect(disagreements).toBe(0);
    return maxAbs;
  } finally {
    model.dispose();
  }
}

describe('exported models run in onnxruntime-web (wasm) in Chromium with Backprop’s numbers (real MNIST)', () => {
  it('the paper preset after a short training', async () => {
    await check('paper', paperNetwork({ registry, seed: 1 }), 2);
  }, 240_000);

  it('a model with every layer type and activation', async () => {
    await check('every-layer', everyLayerModel(), 4);
  }, 240_000);

  it('BatchNormalization (with and without γ, β), Dropout and an augmentation layer', async () => {
    await check('normalized', normalizedModel(), 2);
  }, 240_000);
});
