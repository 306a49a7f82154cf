import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist } from '@backprop/datasets';
import { loadModel } from '@backprop/layers';
import { loadTfjsLayers } from '@backprop/onnx';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDigit } from '../src/image.js';
import { createRegistry } from '../src/setup.js';
import { cli, makePng, tempDir } from './helpers.js';

const TRAIN = 500;
const TEST = 200;

const expectOneLine = (text: string): void => {
  expect(text.trim().split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at /);
};

function argmax(values: ArrayLike<number>, from: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (values[from + j] > values[from + best]) best = j;
  return best;
}

/** NCHW MNIST pixels ([N, 1, 28, 28]) are NHWC ([N, 28, 28, 1]) too: one channel. */
const nhwc = (pixels: Float32Array, n: number): tf.Tensor4D => tf.tensor4d(pixels, [n, 28, 28, 1]);

/**
 * Trains a small TF.js Layers CNN on real MNIST with TF.js itself and writes what
 * `model.save('file://dir')` writes: model.json and the weights, here split in two shards.
 */
async function saveTfjsModel(dir: string, model: tfl.LayersModel): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData!;
      const bytes = new Uint8Array(Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : (data as ArrayBuffer));
      const half = Math.floor(bytes.length / 2 / 4) * 4;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, half));
      writeFileSync(join(dir, 'group1-shard2of2.bin'), bytes.subarray(half));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

describe('evaluate / predict / summary / train on a TF.js Layers model directory (model.json + shards, saved by TF.js 4.22)', () => {
  const dir = tempDir('backprop-tfjs-import-');
  const tfjsDir = join(dir, 'tfjs-model');
  let tfModel: tfl.Sequential;
  let test: Awaited<ReturnType<typeof loadMnist>>['test'];
  let tfjsOutputs: Float32Array;
  let images: string[];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const mnist = await loadMnist({ trainLimit: TRAIN, testLimit: TEST });
    test = mnist.test;
    tfModel = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dropout({ rate: 0.1 }),
        tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    tfModel.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const x = nhwc(mnist.train.images, mnist.train.count);
    const y = tf.oneHot(tf.tensor1d(Array.from(mnist.train.labels), 'int32'), 10);
    await tfModel.fit(x, y, { epochs: 2, batchSize: 32, verbose: 0, shuffle: false });
    tf.dispose([x, y]);
    tfjsOutputs = tf.tidy(() => (tfModel.predict(nhwc(test.images, test.count)) as tf.Tensor).dataSync() as Float32Array);
    await saveTfjsModel(tfjsDir, tfModel);

    images = [];
    const one = join(dir, 'one.png');
    writeFileSync(one, makePng(40, 40, (x, y) => (Math.abs(x - 20) < 3 && y > 5 && y < 35 ? [0, 0, 0, 255] : [255, 255, 255, 255])));
    const ring = join(dir, 'ring.png');
    writeFileSync(ring, makePng(40, 40, (x, y) => (Math.hypot(x - 20, y - 20) > 9 && Math.hypot(x - 20, y - 20) < 14 ? [20, 20, 20, 255] : [250, 250, 250, 255])));
    images.push(one, ring);
  }, 120_000);

  it('evaluate gives TF.js’s own accuracy, confusion matrix and categorical cross-entropy on real MNIST', async () => {
    const r = await cli('evaluate', '--model-dir', tfjsDir, '--limit', String(TEST), '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.format).toBe('tfjs');
    expect(out.model).toBe(tfjsDir);
    expect(out.samples).toBe(TEST);
    expect(out.loss).toBe('categoricalCrossentropy');
    const confusion = Array.from({ length: 10 }, () => new Array(10).fill(0));
    let correct = 0;
    let loss = 0;
    for (let n = 0; n < TEST; n++) {
      const predicted = argmax(tfjsOutputs, n * 10, 10);
      confusion[test.labels[n]][predicted]++;
      if (predicted === test.labels[n]) correct++;
      loss -= Math.log(tfjsOutputs[n * 10 + test.labels[n]]);
    }
    expect(correct / TEST).toBeGreaterThan(0.7); // TF.js really trained it
    expect(out.testAccuracy).toBe(correct / TEST);
    expect(out.confusionMatrix).toEqual(confusion);
    expect(out.testLoss).toBeCloseTo(loss / TEST, 5);
    // --model takes the directory too; the text names the format and the default loss.
    const text = await cli('evaluate', '--model', tfjsDir, '--limit', '50');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`TF.js Layers model ${tfjsDir} on 50 test images`);
    expect(text.stdout).toContain("(categoricalCrossentropy, the default for a softmax head: a TF.js model's loss is not read)");
  });

  it('predict gives TF.js’s predictions and probabilities on PNG digits', async () => {
    const r = await cli('predict', '--model-dir', tfjsDir, ...images, '--top', '10', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.format).toBe('tfjs');
    expect(out.head).toBe('softmax');
    let maxDiff = 0;
    for (let i = 0; i < images.length; i++) {
      const pixels = await loadDigit(images[i]);
      const probs = tf.tidy(() => (tfModel.predict(nhwc(pixels, 1)) as tf.Tensor).dataSync() as Float32Array);
      const res = out.results[i] as { prediction: number; top: { label: number; probability: number }[] };
      expect(res.prediction).toBe(argmax(probs, 0, 10));
      expect(res.top).toHaveLength(10);
      for (const t of res.top) maxDiff = Math.max(maxDiff, Math.abs(t.probability - probs[t.label]));
    }
    console.log(`backprop predict on a TF.js Layers model vs TF.js predict: max |Δ| ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-6);
  });

  it('summary lists the imported layers and parameters', async () => {
    const r = await cli('summary', '--model', tfjsDir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Conv2D[\s\S]*MaxPool2D[\s\S]*Flatten[\s\S]*Dense/);
    // conv 4·1·3·3 + 4, dense 10·784 + 10.
    expect(r.stdout).toContain(`Total params: ${(4 * 9 + 4 + 10 * 784 + 10).toLocaleString('en-US')}`);
    expect(r.stdout).toContain(`imported from the TF.js Layers model ${tfjsDir}`);
    expect(r.stdout).toContain('Input: [1, 28, 28] (NCHW');
  });

  it('train --model <tfjs dir> fine-tunes from the imported weights and saves a Backprop model', async () => {
    const registry = createRegistry();
    const imported = (await loadTfjsLayers(tfjsDir, { registry })).model;
    const start = imported.getWeights();
    imported.dispose();
    const maxChange = async (modelDir: string): Promise<number> => {
      const { model } = await loadModel(modelDir, { registry });
      const after = model.getWeights();
      model.dispose();
      expect(after.map((w) => w.name)).toEqual(start.map((w) => w.name));
      let max = 0;
      after.forEach((w, i) => w.values.forEach((v, j) => (max = Math.max(max, Math.abs(v - start[i].values[j])))));
      return max;
    };
    // A step too small to move anything: the saved model is the imported one, so training started from its weights.
    const still = join(dir, 'still');
    const r = await cli('train', '--model', tfjsDir, '--optimizer', 'sgd', '--lr', '1e-12', '--limit', '64', '--test-limit', String(TEST), '--epochs', '1', '--out', still, '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(await maxChange(join(still, 'model'))).toBeLessThan(1e-9);
    expect(result.testAccuracy).toBe(JSON.parse((await cli('evaluate', '--model-dir', tfjsDir, '--limit', String(TEST), '--json')).stdout).testAccuracy);
    const manifest = JSON.parse(readFileSync(join(still, 'model', 'model.json'), 'utf8'));
    expect(manifest.topology.format).toBe('backprop.sequential');
    expect(manifest.metadata.args.model).toBe(tfjsDir);
    expect(manifest.metadata.args.loss.name).toBe('categoricalCrossentropy');
    // A real fine-tuning run moves the weights and is evaluated like any saved run.
    const tuned = join(dir, 'tuned');
    const t = await cli('train', '--model', tfjsDir, '--lr', '0.001', '--limit', String(TRAIN), '--test-limit', String(TEST), '--epochs', '1', '--out', tuned);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`from the TF.js Layers model ${tfjsDir}, starting from its weights`);
    expect(await maxChange(join(tuned, 'model'))).toBeGreaterThan(1e-4);
    const e = JSON.parse((await cli('evaluate', '--model-dir', join(tuned, 'model'), '--limit', String(TEST), '--json')).stdout);
    expect(e.testAccuracy).toBeGreaterThan(0.7);
  });

  it('a directory with no model.json, a missing or short shard, an unsupported layer: one line naming the file or layer (exit 1)', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    for (const args of [['evaluate', '--model-dir', empty], ['predict', '--model-dir', empty, images[0]], ['summary', '--model', empty], ['train', '--model', empty, '--out', join(dir, 'never')]]) {
      const r = await cli(...args);
      expect(r.code).toBe(1);
      expectOneLine(r.stderr);
      expect(r.stderr).toContain(`backprop: error: ${join(empty, 'model.json')}: not found; ${empty} is neither a saved Backprop model nor a TF.js Layers model directory`);
    }
    const noShard = join(dir, 'no-shard');
    mkdirSync(noShard);
    writeFileSync(join(noShard, 'model.json'), readFileSync(join(tfjsDir, 'model.json')));
    writeFileSync(join(noShard, 'group1-shard1of2.bin'), readFileSync(join(tfjsDir, 'group1-shard1of2.bin')));
    const missing = await cli('evaluate', '--model-dir', noShard);
    expect(missing.code).toBe(1);
    expectOneLine(missing.stderr);
    expect(missing.stderr).toContain(`cannot read the weight shard '${join(noShard, 'group1-shard2of2.bin')}' (ENOENT)`);
    // A shard cut short: the manifest's sizes no longer add up.
    writeFileSync(join(noShard, 'group1-shard2of2.bin'), readFileSync(join(tfjsDir, 'group1-shard2of2.bin')).subarray(8));
    const short = await cli('predict', '--model-dir', noShard, images[0]);
    expect(short.code).toBe(1);
    expectOneLine(short.stderr);
    expect(short.stderr).toMatch(new RegExp(`${noShard}: fromTfjsLayers: the weight data is \\d+ bytes`));
    // A layer Backprop has no equivalent for is named.
    const topo = JSON.parse(readFileSync(join(tfjsDir, 'model.json'), 'utf8'));
    topo.modelTopology.config.layers[1].class_name = 'GlobalAveragePooling2D';
    const unsupported = join(dir, 'unsupported');
    mkdirSync(unsupported);
    writeFileSync(join(unsupported, 'model.json'), JSON.stringify(topo));
    for (const shard of ['group1-shard1of2.bin', 'group1-shard2of2.bin']) writeFileSync(join(unsupported, shard), readFileSync(join(tfjsDir, shard)));
    const u = await cli('summary', '--model', unsupported);
    expect(u.code).toBe(1);
    expectOneLine(u.stderr);
    expect(u.stderr).toMatch(/fromTfjsLayers: layer 1 '[^']+' \(GlobalAveragePooling2D\): layer class 'GlobalAveragePooling2D' is not supported/);
  });
});
