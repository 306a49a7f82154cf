import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackpropError } from '@backprop/tensor';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchNormalization, Dropout } from '@backprop/layers';
import { fromTfjsLayers, loadTfjsLayers } from '../src/index.js';
import { registry } from './models.js';

/** A seeded uniform generator, so the test is deterministic. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

interface Saved {
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; format?: string };
  weightData: Uint8Array;
}

/** Saves through a save handler (what `model.save('file://…')` writes, in memory). */
async function save(model: tfl.LayersModel): Promise<Saved> {
  let saved: Saved | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData!;
      const buffer = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : (data as ArrayBuffer);
      saved = {
        modelJson: { modelTopology: artifacts.modelTopology, format: artifacts.format, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs! }] },
        weightData: new Uint8Array(buffer.slice(0)),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/** NHWC → NCHW. */
function toNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) {
    out[((b * c + k) * h + i) * w + j] = x[((b * h + i) * w + j) * c + k];
  }
  return out;
}

function argmaxRows(x: Float32Array, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / cols; r++) {
    let best = 0;
    for (let k = 1; k < cols; k++) if (x[r * cols + k] > x[r * cols + best]) best = k;
    out.push(best);
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function refusal(fn: () => unknown): string {
  try {
    const r = fn() as { model?: { dispose(): void } };
    r?.model?.dispose();
  } catch (error) {
    expect(error).toBeInstanceOf(BackpropError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

// Input 14×18×3: not square, 3 channels, so a wrong transpose or flatten order shows.
const H = 14;
const W = 18;
const C = 3;
const N = 32;
let images: Float32Array;
let tfModel: tfl.Sequential;
let saved: Saved;

function predictBoth(modelJson: unknown, weightData: Uint8Array, tfm: tfl.LayersModel = tfModel, h = H, w = W, c = C, x = images): { diff: number; tfOut: Float32Array; bpOut: Float32Array; agree: boolean } {
  const n = x.length / (h * w * c);
  const tfOut = tf.tidy(() => (tfm.predict(tf.tensor4d(x, [n, h, w, c])) as tf.Tensor).dataSync() as Float32Array);
  const { model, inputShape, tfjsInputShape } = fromTfjsLayers(modelJson, weightData, { registry });
  expect(inputShape).toEqual([c, h, w]);
  expect(tfjsInputShape).toEqual([h, w, c]);
  const y = model.predict({ values: toNchw(x, n, h, w, c), shape: [n, c, h, w] });
  const bpOut = new Float32Array(y.dataSync() as Float32Array);
  y.dispose();
  model.dispose();
  const cols = tfOut.length / n;
  return { diff: maxAbsDiff(tfOut, bpOut), tfOut, bpOut, agree: argmaxRows(tfOut, cols).join() === argmaxRows(bpOut, cols).join() };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  const r = rng(7);
  images = Float32Array.from({ length: N * H * W * C }, () => r());
  const labels = Float32Array.from({ length: N * 10 }, (_, i) => (i % 10 === Math.floor(i / 10) % 10 ? 1 : 0));
  tfModel = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [H, W, C], filters: 4, kernelSize: 3, activation: 'relu', padding: 'same' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'valid' }),
      tfl.layers.averagePooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 16, activation: 'relu' }),
      tfl.layers.dropout({ rate: 0.25 }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  tfModel.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  const x = tf.tensor4d(images, [N, H, W, C]);
  const y = tf.tensor2d(labels, [N, 10]);
  await tfModel.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
  x.dispose();
  y.dispose();
  saved = await save(tfModel);
}, 30_000);

afterAll(() => {
  tfModel?.dispose();
});

describe('fromTfjsLayers: a TF.js Layers Sequential trained and saved by TF.js 4.22', () => {
  it('predicts what TF.js predicts (conv same/valid, max/avg pool, flatten order, dropout, softmax)', () => {
    const { diff, agree, tfOut } = predictBoth(saved.modelJson, saved.weightData);
    console.log(`tfjs float32: max |Δ| ${diff.toExponential(2)} over ${tfOut.length} outputs`);
    expect(diff).toBeLessThan(1e-5);
    expect(agree).toBe(true);
    // The outputs are not trivially uniform (the flatten reordering matters).
    expect(Math.max(...tfOut) - Math.min(...tfOut)).toBeGreaterThan(0.01);
  });

  it('a wrong flatten order would be caught: permuting the image changes TF.js outputs', () => {
    const rev = new Float32Array(images.length);
    const per = H * W * C;
    for (let b = 0; b < N; b++) for (let i = 0; i < per; i++) rev[b * per + i] = images[b * per + per - 1 - i];
    const { diff } = predictBoth(saved.modelJson, saved.weightData, tfModel, H, W, C, rev);
    expect(diff).toBeLessThan(1e-5);
  });

  it('reads model.json as a string, weights as an ArrayBuffer, and the save handler\'s weightSpecs', () => {
    const spec = { modelTopology: saved.modelJson.modelTopology, weightSpecs: saved.modelJson.weightsManifest[0].weights };
    const { model } = fromTfjsLayers(JSON.stringify(spec), saved.weightData.slice().buffer, { registry, name: 'imported' });
    expect(model.name).toBe('imported');
    expect(model.inputShape).toEqual([C, H, W]);
    expect(model.outputShape).toEqual([10]);
    model.dispose();

    // Keras's { model_config } wrapping and an InputLayer carrying the input shape.
    const topo = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    const first = topo.config.layers[0].config;
    topo.config.layers.unshift({ class_name: 'InputLayer', config: { name: 'input_1', batch_input_shape: first.batch_input_shape, dtype: 'float32' } });
    delete first.batch_input_shape;
    const keras = { ...saved.modelJson, modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: topo } };
    const { diff } = predictBoth(keras, saved.weightData);
    expect(diff).toBeLessThan(1e-5);
  });

  it('uint8, uint16 and float16 quantized weights (manifest quantization) match TF.js on the dequantized weights', () => {
    for (const [dtype, bits] of [['uint8', 8], ['uint16', 16], ['float16', 16]] as const) {
      const specs = saved.modelJson.weightsManifest[0].weights;
      const view = new DataView(saved.weightData.buffer, saved.weightData.byteOffset, saved.weightData.byteLength);
      const chunks: Uint8Array[] = [];
      const qspecs: tf.io.WeightsManifestEntry[] = [];
      let at = 0;
      for (const s of specs) {
        const size = s.shape.reduce((a, b) => a * b, 1);
        const v = Array.from({ length: size }, (_, i) => view.getFloat32(at + 4 * i, true));
        at += 4 * size;
        if (dtype === 'float16') {
          chunks.push(new Uint8Array(Uint16Array.from(v.map(toHalf)).buffer));
          qspecs.push({ ...s, quantization: { dtype, original_dtype: 'float32' } } as tf.io.WeightsManifestEntry);
          continue;
        }
        const min = Math.min(...v);
        const scale = (Math.max(...v) - min) / (2 ** bits - 1) || 1;
        const q = v.map((x) => Math.round((x - min) / scale));
        chunks.push(dtype === 'uint8' ? Uint8Array.from(q) : new Uint8Array(Uint16Array.from(q).buffer));
        qspecs.push({ ...s, quantization: { dtype, scale, min, original_dtype: 'float32' } } as tf.io.WeightsManifestEntry);
      }
      const data = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        data.set(c, o);
        o += c.length;
      }
      // TF.js's own decoder dequantizes the same bytes; its model with those weights is the reference.
      const decoded = tf.io.decodeWeights(data.buffer, qspecs);
      const { tfOut } = predictBoth(saved.modelJson, saved.weightData);
      const originals = tfModel.getWeights().map((t) => t.clone());
      tfModel.setWeights(qspecs.map((q) => decoded[q.name]));
      const json = { modelTopology: saved.modelJson.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: qspecs }] };
      const { diff, agree, bpOut } = predictBoth(json, data);
      tfModel.setWeights(originals);
      originals.forEach((t) => t.dispose());
      const vsFloat = maxAbsDiff(tfOut, bpOut);
      console.log(`tfjs ${dtype}: max |Δ| vs TF.js on dequantized weights ${diff.toExponential(2)}; vs the float32 model ${vsFloat.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
      expect(agree).toBe(true);
      expect(vsFloat).toBeLessThan(dtype === 'uint8' ? 0.05 : 1e-3);
      Object.values(decoded).forEach((t) => t.dispose());
    }
  });

  it('strided same conv, use_bias false, Activation layers, Dense on a flat input', async () => {
    const h = 13;
    const w = 11;
    const c = 2;
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [h, w, c], filters: 3, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
        tfl.layers.activation({ activation: 'tanh' }),
        tfl.layers.maxPooling2d({ poolSize: [3, 2], strides: [2, 1] }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 6 }),
        tfl.layers.activation({ activation: 'sigmoid' }),
        tfl.layers.dense({ units: 4, activation: 'tanh' }),
        tfl.layers.activation({ activation: 'softmax' }),
      ],
    });
    const r = rng(11);
    const x = Float32Array.from({ length: 5 * h * w * c }, () => r() * 2 - 1);
    const s = await save(m);
    const { diff, agree } = predictBoth(s.modelJson, s.weightData, m, h, w, c, x);
    console.log(`tfjs strided model: max |Δ| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
    expect(agree).toBe(true);
    m.dispose();
  });

  it('channels_first models (NCHW, Backprop’s own layout): conv same/valid, pools, both Flatten orders', async () => {
    const c = 3;
    const h = 10;
    const w = 12;
    const r = rng(21);
    const x = Float32Array.from({ length: 6 * c * h * w }, () => r() * 2 - 1);
    for (const flattenFormat of ['channelsFirst', 'channelsLast'] as const) {
      const m = tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [c, h, w], dataFormat: 'channelsFirst', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
          tfl.layers.maxPooling2d({ dataFormat: 'channelsFirst', poolSize: 2 }),
          tfl.layers.conv2d({ dataFormat: 'channelsFirst', filters: 5, kernelSize: [2, 3], strides: [1, 2] }),
          tfl.layers.averagePooling2d({ dataFormat: 'channelsFirst', poolSize: [2, 1] }),
          tfl.layers.flatten({ dataFormat: flattenFormat }),
          tfl.layers.dense({ units: 7, activation: 'softmax' }),
        ],
      });
      const s = await save(m);
      const layers = (s.modelJson.modelTopology as { config: { layers: { config: { data_format?: string } }[] } }).config.layers;
      expect(layers[0].config.data_format).toBe('channels_first');
      expect(layers[4].config.data_format).toBe(flattenFormat === 'channelsFirst' ? 'channels_first' : 'channels_last');
      const tfOut = tf.tidy(() => (m.predict(tf.tensor4d(x, [6, c, h, w])) as tf.Tensor).dataSync() as Float32Array);
      const { model, inputShape, tfjsInputShape } = fromTfjsLayers(s.modelJson, s.weightData, { registry });
      expect(inputShape).toEqual([c, h, w]);
      expect(tfjsInputShape).toEqual([c, h, w]);
      // The same NCHW bytes go to both: no transpose of the input.
      const y = model.predict({ values: x, shape: [6, c, h, w] });
      const bpOut = new Float32Array(y.dataSync() as Float32Array);
      y.dispose();
      model.dispose();
      m.dispose();
      const diff = maxAbsDiff(tfOut, bpOut);
      console.log(`tfjs channels_first (Flatten ${flattenFormat}): max |Δ| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
      expect(argmaxRows(tfOut, 7)).toEqual(argmaxRows(bpOut, 7));
      expect(Math.max(...tfOut) - Math.min(...tfOut)).toBeGreaterThan(0.01);
    }
  });

  it('BatchNormalization (on conv maps, channels_first maps and after a Flatten; with and without γ, β), Dropout and Activation layers', async () => {
    const h = 9;
    const w = 11;
    const c = 2;
    const n = 24;
    const r = rng(31);
    const x = Float32Array.from({ length: n * h * w * c }, () => r() * 2 - 1); // NHWC
    const build = (format: 'channelsLast' | 'channelsFirst'): tfl.Sequential =>
      tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: format === 'channelsLast' ? [h, w, c] : [c, h, w], dataFormat: format, filters: 3, kernelSize: 3, useBias: false }),
          tfl.layers.batchNormalization({ axis: format === 'channelsLast' ? -1 : 1, momentum: 0.8, epsilon: 1e-4 }),
          tfl.layers.activation({ activation: 'relu' }),
          tfl.layers.maxPooling2d({ dataFormat: format, poolSize: 2 }),
          tfl.layers.dropout({ rate: 0.2 }),
          // Both flatten in (h, w, c) order, so the two models compute the same function.
          tfl.layers.flatten({ dataFormat: format }),
          tfl.layers.batchNormalization({ center: false }),
          tfl.layers.dense({ units: 8 }),
          tfl.layers.batchNormalization({ scale: false }),
          tfl.layers.activation({ activation: 'tanh' }),
          tfl.layers.dropout({ rate: 0.4 }),
          tfl.layers.dense({ units: 5, activation: 'softmax' }),
        ],
      });
    // Seeded weights with γ, β and the moving statistics far from 1 and 0 (TF.js 4.22 cannot fit a
    // BatchNormalization with center or scale off: its training path reads the missing γ).
    const reference = build('channelsLast');
    const shapes = reference.weights.map((v) => v.shape as number[]);
    const values = reference.weights.map((v, i) => Float32Array.from({ length: shapes[i].reduce((a, b) => a * b, 1) }, () => (v.name.includes('moving_variance') ? 0.3 + (r() + 1) : r())));
    const setWeights = (m: tfl.Sequential): void => {
      const tensors = m.weights.map((_, i) => tf.tensor(values[i], shapes[i]));
      m.setWeights(tensors);
      tf.dispose(tensors);
    };
    setWeights(reference);
    // The reference is the channels_last model: TF.js 4.22's CPU batchNorm kernel spreads the
    // per-channel vectors along the last axis whatever the layer's axis, so its own channels_first
    // output is wrong; the channels_first model has the same weights and computes the same function.
    const tfOut = tf.tidy(() => (reference.predict(tf.tensor4d(x, [n, h, w, c])) as tf.Tensor).dataSync() as Float32Array);
    for (const format of ['channelsLast', 'channelsFirst'] as const) {
      const m = format === 'channelsLast' ? reference : build(format);
      if (m !== reference) setWeights(m);
      const s = await save(m);
      const { model } = fromTfjsLayers(s.modelJson, s.weightData, { registry });
      expect(model.layers.map((l) => l.className)).toEqual(['Conv2D', 'BatchNormalization', 'ReLU', 'MaxPool2D', 'Dropout', 'Flatten', 'BatchNormalization', 'Dense', 'BatchNormalization', 'Tanh', 'Dropout', 'Dense']);
      const bns = model.layers.filter((l): l is BatchNormalization => l instanceof BatchNormalization);
      expect(bns.map((l) => [l.momentum, l.epsilon, l.scale, l.center])).toEqual([[0.8, 1e-4, true, true], [0.99, 1e-3, true, false], [0.99, 1e-3, false, true]]);
      expect(model.layers.filter((l): l is Dropout => l instanceof Dropout).map((l) => l.rate)).toEqual([0.2, 0.4]);
      const y = model.predict({ values: toNchw(x, n, h, w, c), shape: [n, c, h, w] });
      const bpOut = new Float32Array(y.dataSync() as Float32Array);
      y.dispose();
      model.dispose();
      m.dispose();
      const diff = maxAbsDiff(tfOut, bpOut);
      console.log(`tfjs BatchNormalization/Dropout/Activation (${format}): max |Δ| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
      expect(argmaxRows(tfOut, 5)).toEqual(argmaxRows(bpOut, 5));
    }
    expect(Math.max(...tfOut) - Math.min(...tfOut)).toBeGreaterThan(0.1);
  });

  it('refuses what Backprop cannot express, naming the layer', async () => {
    const m = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 2, padding: 'same', name: 'even_same' }), tfl.layers.flatten()] });
    const s = await save(m);
    m.dispose();
    expect(refusal(() => fromTfjsLayers(s.modelJson, s.weightData, { registry }))).toMatch(/even_same.*Conv2D.*same.*bottom/s);

    const topo = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    topo.config.layers[1].class_name = 'LayerNormalization';
    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: topo }, saved.weightData, { registry }))).toMatch(/LayerNormalization.*not supported.*Conv2D, MaxPooling2D/s);

    const cf = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    cf.config.layers[0].config.data_format = 'channels_first';
    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: cf }, saved.weightData, { registry }))).toMatch(
      /layer 1 '[^']+' \(MaxPooling2D\): data_format channels_last differs from layer 0 '[^']+' \(Conv2D\)'s channels_first; a model must use one data format/,
    );
    const cl = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    cl.config.layers[4].config.data_format = 'channels_first';
    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: cl }, saved.weightData, { registry }))).toMatch(/\(Flatten\): a channels_first Flatten of channels_last data/);
    const odd = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    odd.config.layers[4].config.data_format = 'nchw';
    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: odd }, saved.weightData, { registry }))).toMatch(/\(Flatten\): data_format "nchw" is not supported/);

    const noise = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    noise.config.layers[6].config.noise_shape = [null, 1];
    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: noise }, saved.weightData, { registry }))).toMatch(/layer 6 '[^']+' \(Dropout\): noise_shape \[null,1\] is not supported/);
    const bnAxis = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    bnAxis.config.layers.splice(1, 0, { class_name: 'BatchNormalization', config: { name: 'bn_rows', axis: 1 } });
    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: bnAxis }, saved.weightData, { registry }))).toMatch(
      /layer 1 'bn_rows' \(BatchNormalization\): axis 1 is not supported: only the channel axis \(3 of this rank-4 channels_last input\)/,
    );

    const dil = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    dil.config.layers[0].config.dilation_rate = [2, 2];
    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: dil }, saved.weightData, { registry }))).toMatch(/dilation_rate/);

    const act = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    act.config.layers[5].config.activation = 'elu';
    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: act }, saved.weightData, { registry }))).toMatch(/Dense.*elu.*relu, sigmoid/s);

    const pool = JSON.parse(JSON.stringify(saved.modelJson.modelTopology));
    pool.config.layers[3].config.padding = 'same';
    pool.config.layers[3].config.pool_size = [3, 3];
    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: pool }, saved.weightData, { registry }))).toMatch(/AveragePooling2D.*same/s);

    expect(refusal(() => fromTfjsLayers({ ...saved.modelJson, modelTopology: { class_name: 'Model', config: {} } }, saved.weightData, { registry }))).toMatch(/only a Sequential/);
    expect(refusal(() => fromTfjsLayers(saved.modelJson, saved.weightData.slice(4), { registry }))).toMatch(/bytes/);
    expect(refusal(() => fromTfjsLayers(saved.modelJson, saved.weightData, { registry, bogus: 1 } as never))).toMatch(/unknown option/);
  });
});

describe('loadTfjsLayers reads a model.json directory', () => {
  it('reads model.json and its shards (split in two), and refuses a shard outside the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-tfjs-'));
    try {
      const half = 400;
      writeFileSync(join(dir, 'group1-shard1of2.bin'), saved.weightData.subarray(0, half));
      writeFileSync(join(dir, 'group1-shard2of2.bin'), saved.weightData.subarray(half));
      const json = { ...saved.modelJson, weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: saved.modelJson.weightsManifest[0].weights }] };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      const { model } = await loadTfjsLayers(dir, { registry });
      const direct = fromTfjsLayers(saved.modelJson, saved.weightData, { registry }).model;
      const a = model.getWeights();
      const b = direct.getWeights();
      a.forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(b[i].values)));
      model.dispose();
      direct.dispose();

      writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ paths: ['../escape.bin'], weights: [] }] }));
      await expect(loadTfjsLayers(dir, { registry })).rejects.toThrow(/leaves the model directory/);
      await expect(loadTfjsLayers(join(dir, 'missing'), { registry })).rejects.toBeInstanceOf(BackpropError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** float32 → IEEE half (round to nearest; the weights here are small and finite). */
function toHalf(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  let e = Math.floor(Math.log2(a));
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e += 1;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}
