import { cpuBackend } from '@backprop/backend-cpu';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { BackpropError, createRandom, Registry } from '@backprop/tensor';
import { expectArraysClose } from '@backprop/tensor/testing';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Conv2D,
  crc32,
  Dense,
  Dropout,
  Flatten,
  fromArtifacts,
  layersPlugin,
  LeakyReLU,
  lenet,
  loadModel,
  manifestChecksum,
  MaxPool2D,
  type ModelArtifacts,
  type ModelManifest,
  paperNetwork,
  RandomFlip,
  saveModel,
  Sequential,
  toArtifacts,
} from './index.js';

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);

function images(count: number, seed: number): { values: Float32Array; shape: number[] } {
  const rng = createRandom(seed);
  return { values: Float32Array.from({ length: count * 784 }, () => rng.next()), shape: [count, 1, 28, 28] };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backprop-save-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function trainedPaper(): Promise<Sequential> {
  const { model, loss } = paperNetwork({ registry, seed: 9 });
  await model.fit(images(16, 1), { values: Array.from({ length: 16 }, (_, i) => i % 10), shape: [16] }, {
    loss,
    optimizer: { name: 'adam', config: { learningRate: 0.001 } },
    batchSize: 8,
  });
  return model;
}

describe('save and load', () => {
  it('toJSON → fromJSON rebuilds the same topology through the registry', () => {
    const { model } = lenet({ registry, seed: 1 });
    const copy = Sequential.fromJSON(JSON.parse(JSON.stringify(model.toJSON())), { registry });
    expect(copy.summary()).toBe(model.summary());
    model.dispose();
    copy.dispose();
  });

  it('save → load gives identical predictions and restores the optimizer state', async () => {
    const model = await trainedPaper();
    const { manifestPath, weightsPath } = await saveModel(model, dir, { metadata: { epoch: 1 } });
    expect(manifestPath).toBe(join(dir, 'model.json'));
    const { model: loaded, manifest } = await loadModel(dir, { registry });
    expect(manifest.metadata).toEqual({ epoch: 1 });
    const x = images(5, 2);
    const a = model.predict(x);
    const b = loaded.predict(x);
    expect(Buffer.from(b.dataSync().buffer).equals(Buffer.from(a.dataSync().buffer))).toBe(true);
    expect(loaded.optimizer?.name).toBe('adam');
    expect(loaded.optimizer?.iterations).toBe(model.optimizer?.iterations);
    const slots = model.optimizer!.getState().tensors;
    const loadedSlots = loaded.optimizer!.getState().tensors;
    expect(Object.keys(loadedSlots).sort()).toEqual(Object.keys(slots).sort());
    for (const key of Object.keys(slots)) expect(Array.from(loadedSlots[key].dataSync())).toEqual(Array.from(slots[key].dataSync()));
    // Only the manifest and one weights file: no temporary files are left behind.
    expect((await readdir(dir)).sort()).toEqual(['model.json', weightsPath.split('/').pop()]);
    for (const t of [a, b]) t.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('saving again replaces the weights file and removes the stale one', async () => {
    const model = await trainedPaper();
    const first = await saveModel(model, dir);
    await model.fit(images(8, 3), { values: Array.from({ length: 8 }, (_, i) => i), shape: [8] }, { loss: 'binaryCrossentropy', batchSize: 8 });
    const second = await saveModel(model, dir);
    expect(second.weightsPath).not.toBe(first.weightsPath);
    expect((await readdir(dir)).sort()).toEqual(['model.json', second.weightsPath.split('/').pop()].sort());
    model.dispose();
  });

  it('rejects corrupt, truncated, wrong-version and mismatched files, never half-loading', async () => {
    const model = await trainedPaper();
    const { weightsPath, manifestPath } = await saveModel(model, dir);
    const weights = await readFile(weightsPath);
    const manifestText = await readFile(manifestPath, 'utf8');

    const flipped = Buffer.from(weights);
    flipped[100] ^= 0xff;
    await writeFile(weightsPath, flipped);
    await expect(loadModel(dir, { registry })).rejects.toThrow(/weights checksum mismatch .*the file is corrupt/);

    await writeFile(weightsPath, weights.subarray(0, weights.length - 10));
    await expect(loadModel(dir, { registry })).rejects.toThrow(/truncated or wrong file/);
    await writeFile(weightsPath, weights);

    const manifest = JSON.parse(manifestText);
    await writeFile(manifestPath, JSON.stringify({ ...manifest, topology: { ...manifest.topology, formatVersion: 99 } }));
    await expect(loadModel(dir, { registry })).rejects.toThrow(/unsupported format version 99; this library reads version 1/);

    const mismatched = structuredClone(manifest);
    mismatched.topology.layers[3].config.units = 64;
    // Edited in place, the manifest no longer matches its own checksum…
    await writeFile(manifestPath, JSON.stringify(mismatched));
    await expect(loadModel(dir, { registry })).rejects.toThrow(/model\.json: manifest checksum mismatch \(crc32 [0-9a-f]{8}, manifestCrc32 says [0-9a-f]{8}\): the manifest was edited or is corrupt/);
    // …and resealed (or saved before manifests had a checksum) it meets the model's own shapes.
    mismatched.manifestCrc32 = manifestChecksum(mismatched);
    await writeFile(manifestPath, JSON.stringify(mismatched));
    await expect(loadModel(dir, { registry })).rejects.toThrow(/'dense_3\/kernel' has shape \[128, 1152\] but the model expects \[64, 1152\]/);
    delete mismatched.manifestCrc32;
    await writeFile(manifestPath, JSON.stringify(mismatched));
    await expect(loadModel(dir, { registry })).rejects.toThrow(/'dense_3\/kernel' has shape \[128, 1152\] but the model expects \[64, 1152\]/);

    await writeFile(manifestPath, manifestText.slice(0, 50));
    await expect(loadModel(dir, { registry })).rejects.toThrow(/model\.json: is not valid JSON/);

    await expect(loadModel(join(dir, 'missing'), { registry })).rejects.toThrow(/cannot read the model manifest \(ENOENT\)/);
    // A failed load leaks nothing.
    const before = registry.memory().numTensors;
    await writeFile(manifestPath, JSON.stringify(mismatched));
    await expect(loadModel(dir, { registry })).rejects.toThrow();
    expect(registry.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('artifacts work in memory (the browser path) with the same checks', async () => {
    const model = await trainedPaper();
    const artifacts = toArtifacts(model);
    const copy = fromArtifacts(structuredClone(artifacts), { registry });
    expect(copy.getWeights().map((w) => Array.from(w.values.subarray(0, 5)))).toEqual(model.getWeights().map((w) => Array.from(w.values.subarray(0, 5))));
    const corrupt = structuredClone(artifacts);
    new Uint8Array(corrupt.weightData)[0] ^= 1;
    expect(() => fromArtifacts(corrupt, { registry })).toThrow(/checksum mismatch/);
    model.dispose();
    copy.dispose();
  });
});

/** A small trained model (every kind of layer, Adam state) whose artifacts the tests below edit. */
async function tinyModel(): Promise<Sequential> {
  const model = new Sequential({
    registry,
    name: 'tiny',
    inputShape: [1, 6, 6],
    seed: 3,
    layers: [
      new Conv2D({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new MaxPool2D({ poolSize: 2 }),
      new LeakyReLU({ alpha: 0.1 }),
      new Flatten(),
      new Dense({ units: 3, activation: 'softmax' }),
    ],
  });
  const rng = createRandom(5);
  const x = { values: Float64Array.from({ length: 4 * 36 }, () => rng.next()), shape: [4, 1, 6, 6] };
  await model.fit(x, { values: [0, 1, 2, 1], shape: [4] }, { loss: 'categoricalCrossentropy', optimizer: 'adam', batchSize: 2, seed: 1 });
  return model;
}

/** The manifest made consistent again after an edit: weights crc, file name and byte length for `bytes`, and its own checksum. */
function reseal(manifest: ModelManifest, bytes?: Uint8Array): ModelManifest {
  const m = structuredClone(manifest);
  if (bytes) {
    const crc = crc32(bytes).toString(16).padStart(8, '0');
    Object.assign(m.weights, { crc32: crc, file: `weights-${crc}.bin`, byteLength: bytes.byteLength });
  }
  m.manifestCrc32 = manifestChecksum(m);
  return m;
}

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

async function rejected(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, the promise resolved');
}

/** Every file in `dir` with its bytes, to show a refused save touched nothing. */
async function snapshot(path: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(path)).sort()) out[name] = (await readFile(join(path, name))).toString('base64');
  return out;
}

describe('manifest integrity and schema', () => {
  it('files saved before manifestCrc32 existed still load, with the predictions and optimizer state they were saved with', async () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'legacy-model');
    const expected = JSON.parse(await readFile(join(import.meta.dirname, 'fixtures', 'legacy-model-expected.json'), 'utf8'));
    const { model, manifest } = await loadModel(fixture, { registry });
    expect(manifest.manifestCrc32).toBeUndefined();
    expect(manifest.metadata).toEqual({ note: 'saved by @backprop/layers 0.1.0 before manifestCrc32 existed', epoch: 2 });
    expect(model.optimizer?.name).toBe('adam');
    expect(model.optimizer?.iterations).toBe(expected.iterations);
    const out = model.predict(expected.input);
    expectArraysClose(out.dataSync(), expected.predictions, { rtol: 1e-5, atol: 1e-6 });
    out.dispose();
    // Saved again, it gains a checksum and still gives the same model.
    await saveModel(model, dir);
    const again = await loadModel(dir, { registry });
    expect(again.manifest.manifestCrc32).toMatch(/^[0-9a-f]{8}$/);
    expect(again.model.getWeights()).toEqual(model.getWeights());
    model.dispose();
    again.model.dispose();
  });

  it('an edited manifest fails its checksum; re-indenting or reordering its keys does not', async () => {
    const model = await tinyModel();
    const { manifestPath } = await saveModel(model, dir, { metadata: { epoch: 1 } });
    const text = await readFile(manifestPath, 'utf8');
    const manifest = JSON.parse(text);
    const reversed = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reversed) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
    await writeFile(manifestPath, JSON.stringify(reversed(manifest)));
    const { model: loaded } = await loadModel(dir, { registry });
    expect(loaded.getWeights()).toEqual(model.getWeights());
    loaded.dispose();
    for (const edit of [
      (m: ModelManifest) => void (m.metadata!.epoch = 2),
      (m: ModelManifest) => void (m.weights.specs[1].offset += 4),
      (m: ModelManifest) => void (m.optimizer!.iterations = 0),
      (m: ModelManifest) => void (m.savedAt = '2020-01-01T00:00:00.000Z'),
    ]) {
      const edited = structuredClone(manifest);
      edit(edited);
      await writeFile(manifestPath, JSON.stringify(edited));
      const error = await rejected(loadModel(dir, { registry }));
      expect(error).toBeInstanceOf(BackpropError);
      expect(error.message).toMatch(/model\.json: manifest checksum mismatch .*: the manifest was edited or is corrupt/);
    }
    model.dispose();
  });

  it('validates every field before reading a byte: mistyped, missing, out-of-range and inconsistent fields are BackpropErrors', async () => {
    const model = await tinyModel();
    const artifacts = toArtifacts(model);
    const specIndex = (name: string): number => artifacts.manifest.weights.specs.findIndex((s) => s.name === name);
    const kernel = specIndex('conv2d_0/kernel');
    const slot = specIndex('optimizer:dense_4/kernel/m');
    expect(kernel).toBeGreaterThanOrEqual(0);
    expect(slot).toBeGreaterThan(kernel);
    // Corrupt bytes: every error below must come from the manifest, i.e. before the data is read.
    const corrupt = new Uint8Array(artifacts.weightData.slice(0));
    corrupt[0] ^= 0xff;
    type Edit = [string, (m: any) => void, string | RegExp];
    const edits: Edit[] = [
      ['offset moved by one element', (m) => void (m.weights.specs[kernel].offset += 4), /weights '.*' \(bytes \[\d+, \d+\)\) overlaps the tensor before it|bytes \[0, 4\) of the data belong to no tensor/],
      ['offset not aligned', (m) => void (m.weights.specs[kernel].offset += 1), /weights\.specs\[\d+\] \('conv2d_0\/kernel'\)\.offset must be a non-negative multiple of 4/],
      ['slot offset moved', (m) => void (m.weights.specs[slot].offset += 4), /overlaps the tensor before it|belong to no tensor/],
      ['dtype float64', (m) => void (m.weights.specs[kernel].dtype = 'float64'), `weights.specs[${kernel}] ('conv2d_0/kernel') is stored as float64 but the model is float32`],
      ['dtype int8', (m) => void (m.weights.specs[kernel].dtype = 'int8'), `weights.specs[${kernel}] ('conv2d_0/kernel').dtype must be 'float32' or 'float64', got 'int8'`],
      ['slot shape transposed', (m) => void m.weights.specs[slot].shape.reverse(), "optimizer slot 'dense_4/kernel/m' has shape [18, 3] but parameter 'dense_4/kernel' has [3, 18]"],
      ['weight shape transposed', (m) => void m.weights.specs[specIndex('dense_4/kernel')].shape.reverse(), "'dense_4/kernel' has shape [18, 3] but the model expects [3, 18]"],
      ['shape: 4', (m) => void (m.weights.specs[kernel].shape = 4), `weights.specs[${kernel}] ('conv2d_0/kernel').shape must be an array of positive integers, got 4`],
      ['shape: null', (m) => void (m.weights.specs[kernel].shape = null), /\.shape must be an array of positive integers, got null/],
      ['fractional dimension', (m) => void (m.weights.specs[kernel].shape[0] = 1.5), /\.shape must be an array of positive integers, got \[1\.5, 1, 3, 3\]/],
      ['negative dimension', (m) => void (m.weights.specs[kernel].shape[0] = -2), /\.shape must be an array of positive integers, got \[-2, 1, 3, 3\]/],
      ['name: 3', (m) => void (m.weights.specs[kernel].name = 3), `weights.specs[${kernel}].name must be a non-empty string, got 3`],
      ['two specs with one name', (m) => void (m.weights.specs[kernel + 1].name = 'conv2d_0/kernel'), /two specs are named 'conv2d_0\/kernel'/],
      ['no specs', (m) => void delete m.weights.specs, 'weights.specs must be an array, got undefined'],
      ['byteLength negative', (m) => void (m.weights.byteLength = -1), 'weights.byteLength must be a non-negative integer, got -1'],
      ['byteLength 1e308', (m) => void (m.weights.byteLength = 1e308), 'weights.byteLength must be a non-negative integer, got 1e+308'],
      ['crc32 not hex', (m) => void (m.weights.crc32 = 'xyz'), "weights.crc32 must be 8 lowercase hex digits, got 'xyz'"],
      ['file elsewhere', (m) => void (m.weights.file = '../../etc/passwd'), /weights\.file must be 'weights-[0-9a-f]{8}\.bin' \(named by its crc32\), got '\.\.\/\.\.\/etc\/passwd'/],
      ['optimizer: 8', (m) => void (m.optimizer = 8), 'optimizer must be { spec, iterations, slots }, got 8'],
      ['slots: 3', (m) => void (m.optimizer.slots = 3), 'optimizer.slots must be an array of slot names, got 3'],
      ['iterations fractional', (m) => void (m.optimizer.iterations = 1.5), 'optimizer.iterations must be a non-negative integer, got 1.5'],
      ['unknown optimizer', (m) => void (m.optimizer.spec.name = 'nope'), /^model manifest: optimizer: optimizer: unknown optimizer 'nope'/],
      ['bad optimizer option', (m) => void (m.optimizer.spec.config.learningRate = 'x'), /optimizer: adam: learningRate must be a number/],
      ['slot without spec', (m) => void m.optimizer.slots.push('dense_4/bias/velocity'), "optimizer slot 'dense_4/bias/velocity' has no spec 'optimizer:dense_4/bias/velocity' in weights.specs"],
      ['slot spec not among slots', (m) => void m.optimizer.slots.pop(), /spec 'optimizer:dense_4\/kernel\/v' is not one of optimizer\.slots/],
      ['padding: 1e308', (m) => void (m.topology.layers[0].config.padding = 1e308), /topology: model JSON layer 0: Conv2D 'conv2d_0': padding must be a non-negative integer ≤ 2147483647 or a \[height, width\] pair of them, got 1e\+308/],
      ['kernelSize fractional', (m) => void (m.topology.layers[0].config.kernelSize = 2.5), /topology: model JSON layer 0: Conv2D 'conv2d_0': kernelSize must be a positive integer/],
      ['units 1e9', (m) => void (m.topology.layers[4].config.units = 1e9), /topology: layer 4 \(Dense\): parameter 'kernel' of shape \[1000000000, 18\] has/],
      ['seed "x"', (m) => void (m.topology.seed = 'x'), "topology: model JSON: seed must be a finite number, got 'x'"],
      ['inputShape null', (m) => void (m.topology.inputShape = null), /topology: model JSON: inputShape must be an array of positive integers, got null/],
      ['metadata: 5', (m) => void (m.metadata = 5), 'metadata must be an object, got 5'],
      ['randomStreams: 5', (m) => void (m.randomStreams = 5), 'randomStreams must be an object of { <layer name>: <position> }, got 5'],
      ['stream position -1', (m) => void (m.randomStreams = { dropout_1: -1 }), "randomStreams['dropout_1'] must be a non-negative integer (training forwards drawn so far), got -1"],
      ['stream of a layer without one', (m) => void (m.randomStreams = { dense_4: 0 }), "randomStreams names 'dense_4', which is not a layer of the model that draws random numbers (the model's random layers: none)"],
      ['library missing', (m) => void delete m.library, "library must be '@backprop/layers', got undefined"],
      ['version 2', (m) => void (m.topology.formatVersion = 2), 'unsupported format version 2; this library reads version 1'],
    ];
    for (const [label, edit, message] of edits) {
      const manifest = structuredClone(artifacts.manifest) as any;
      edit(manifest);
      // Both a resealed manifest (the checksum matches the edit) and one saved before manifests had a checksum.
      const resealed = reseal(manifest);
      const legacy = structuredClone(manifest);
      delete legacy.manifestCrc32;
      for (const m of [resealed, legacy]) {
        const error = thrown(() => fromArtifacts({ manifest: m, weightData: corrupt.buffer }, { registry }));
        expect(error, label).toBeInstanceOf(BackpropError);
        if (typeof message === 'string') expect(error.message, label).toBe(`model manifest: ${message}`);
        else expect(error.message, label).toMatch(message);
      }
    }
    model.dispose();
  });

  it('NaN or infinite weights and optimizer state are rejected even with a valid checksum', async () => {
    const model = await tinyModel();
    const { manifest, weightData } = toArtifacts(model);
    for (const [name, value, index] of [['dense_4/bias', Number.NaN, 2], ['optimizer:conv2d_0/kernel/v', Number.POSITIVE_INFINITY, 0]] as const) {
      const spec = manifest.weights.specs.find((s) => s.name === name)!;
      const bytes = new Uint8Array(weightData.slice(0));
      new DataView(bytes.buffer).setFloat32(spec.offset + 4 * index, value, true);
      const error = thrown(() => fromArtifacts({ manifest: reseal(manifest, bytes), weightData: bytes.buffer }, { registry }));
      expect(error).toBeInstanceOf(BackpropError);
      const what = name.startsWith('optimizer:') ? `optimizer slot '${name.slice(10)}'` : `weight '${name}'`;
      expect(error.message).toBe(`model weights: ${what} value ${index} is ${value}; a model with non-finite values is not loaded`);
    }
    model.dispose();
  });

  it("saves the random layers' stream positions with the training state and restores them; a list that does not match the model is refused", async () => {
    const model = new Sequential({
      registry,
      seed: 2,
      inputShape: [1, 4, 4],
      layers: [new RandomFlip({ seed: 4 }), new Flatten(), new Dense({ units: 8 }), new Dropout({ rate: 0.5 }), new Dense({ units: 2, activation: 'softmax' })],
    });
    const rng = createRandom(3);
    const x = { values: Float32Array.from({ length: 6 * 16 }, () => rng.next()), shape: [6, 1, 4, 4] };
    // Two epochs of three batches: six training forwards drew from each stream.
    await model.fit(x, { values: [0, 1, 1, 0, 1, 0], shape: [6] }, { loss: 'categoricalCrossentropy', optimizer: 'adam', batchSize: 2, epochs: 2 });
    const artifacts = toArtifacts(model);
    expect(artifacts.manifest.randomStreams).toEqual({ random_flip_0: 6, dropout_3: 6 });
    const copy = fromArtifacts(artifacts, { registry });
    expect(copy.layers.map((l) => l.randomStreamPosition)).toEqual([6, undefined, undefined, 6, undefined]);
    // The copy's next training forward draws the flips and the mask the original's does.
    const input = registry.makeTensor(x.values, x.shape, 'float32');
    const forward = (m: Sequential): number[] => registry.scope(() => Array.from(m.forward(input, { training: true }).dataSync()));
    expect(forward(copy)).toEqual(forward(model));
    expect(copy.layers[0].randomStreamPosition).toBe(7);
    // Without the training state (as files saved before the positions were), the streams start from 0.
    const bare = toArtifacts(model, { includeOptimizer: false });
    expect(bare.manifest.randomStreams).toBeUndefined();
    const fresh = fromArtifacts(bare, { registry });
    expect(fresh.layers.map((l) => l.randomStreamPosition)).toEqual([0, undefined, undefined, 0, undefined]);
    const cases: [Record<string, unknown>, string][] = [
      [{ random_flip_0: 6 }, "randomStreams has no position for layer 'dropout_3' (the model's random layers: random_flip_0, dropout_3)"],
      [{ random_flip_0: 6, dropout_3: 6, dense_2: 6 }, "randomStreams names 'dense_2', which is not a layer of the model that draws random numbers (the model's random layers: random_flip_0, dropout_3)"],
      [{ random_flip_0: 6, dropout_3: 1.5 }, "randomStreams['dropout_3'] must be a non-negative integer (training forwards drawn so far), got 1.5"],
    ];
    for (const [randomStreams, message] of cases) {
      const error = thrown(() => fromArtifacts({ manifest: reseal({ ...artifacts.manifest, randomStreams } as ModelManifest), weightData: artifacts.weightData }, { registry }));
      expect(error).toBeInstanceOf(BackpropError);
      expect(error.message).toBe(`model manifest: ${message}`);
    }
    expect(thrown(() => model.layers[2].seekRandomStream(1)).message).toBe('layer 2 (Dense): draws no random numbers; it has no random stream to move');
    for (const [layer, position] of [[0, -1], [3, 1.5]] as const) {
      const error = thrown(() => model.layers[layer].seekRandomStream(position));
      expect(error).toBeInstanceOf(BackpropError);
      expect(error.message).toMatch(new RegExp(`^layer ${layer} \\(\\w+\\): position must be a non-negative integer`));
    }
    expect(model.layers.map((l) => l.randomStreamPosition)).toEqual([7, undefined, undefined, 7, undefined]);
    for (const m of [model, copy, fresh]) m.dispose();
    input.dispose();
  });

  it('fromArtifacts checks its arguments', async () => {
    const model = await tinyModel();
    const artifacts = toArtifacts(model);
    const cases: [unknown, string][] = [
      [undefined, 'model: fromArtifacts expects { manifest, weightData }, got undefined'],
      [{}, 'model manifest: not a Backprop model manifest: expected an object, got undefined'],
      [{ manifest: artifacts.manifest }, 'model weights: weightData must be an ArrayBuffer (or a view of one), got undefined'],
      [{ manifest: artifacts.manifest, weightData: 5 }, 'model weights: weightData must be an ArrayBuffer (or a view of one), got 5'],
    ];
    for (const [value, message] of cases) {
      const error = thrown(() => fromArtifacts(value as ModelArtifacts, { registry }));
      expect(error).toBeInstanceOf(BackpropError);
      expect(error.message).toBe(message);
    }
    // A view of the bytes (a Node Buffer, a Uint8Array over a larger buffer) is as good as the ArrayBuffer.
    const padded = new Uint8Array(artifacts.weightData.byteLength + 16);
    padded.set(new Uint8Array(artifacts.weightData), 8);
    const copy = fromArtifacts({ manifest: artifacts.manifest, weightData: padded.subarray(8, 8 + artifacts.weightData.byteLength) as unknown as ArrayBuffer }, { registry });
    expect(copy.getWeights()).toEqual(model.getWeights());
    copy.dispose();
    model.dispose();
  });
});

describe('saving refuses before touching any file', () => {
  it('a disposed model: the directory keeps the good model', async () => {
    const model = await tinyModel();
    await saveModel(model, dir);
    const before = await snapshot(dir);
    model.dispose();
    const error = await rejected(saveModel(model, dir));
    expect(error).toBeInstanceOf(BackpropError);
    expect(error.message).toBe("toArtifactsAsync: model 'tiny' was disposed; its weights are gone");
    expect(() => toArtifacts(model)).toThrow("toArtifacts: model 'tiny' was disposed; its weights are gone");
    expect(await snapshot(dir)).toEqual(before);
    (await loadModel(dir, { registry })).model.dispose();
  });

  it('non-finite weights or optimizer state: a diverged model is never checkpointed', async () => {
    const model = await tinyModel();
    await saveModel(model, dir);
    const before = await snapshot(dir);
    // What a diverging optimizer step leaves in a parameter.
    const param = model.params()[2];
    const good = param.value;
    const values = Float32Array.from(good.dataSync());
    values[1] = Number.POSITIVE_INFINITY;
    param.value = registry.keep(registry.makeTensor(values, good.shape, 'float32'));
    let error = await rejected(saveModel(model, dir));
    expect(error).toBeInstanceOf(BackpropError);
    expect(error.message).toBe("toArtifactsAsync: weight 'dense_4/kernel' value 1 is Infinity; a model with non-finite values is not saved (did training diverge?)");
    expect(() => toArtifacts(model)).toThrow(/^toArtifacts: weight 'dense_4\/kernel' value 1 is Infinity/);
    param.value.dispose();
    param.value = good;
    // The same for an optimizer slot.
    const state = model.optimizer!.getState();
    const slotValues = Float32Array.from(state.tensors['dense_4/bias/m'].dataSync());
    slotValues[0] = Number.NaN;
    const bad = registry.makeTensor(slotValues, [3], 'float32');
    model.optimizer!.setState({ iterations: state.iterations, tensors: { ...state.tensors, 'dense_4/bias/m': bad } });
    bad.dispose();
    error = await rejected(saveModel(model, dir));
    expect(error.message).toBe("toArtifactsAsync: optimizer slot 'dense_4/bias/m' value 0 is NaN; a model with non-finite values is not saved (did training diverge?)");
    // Without the optimizer state the weights are fine to save.
    expect(toArtifacts(model, { includeOptimizer: false }).manifest.optimizer).toBeUndefined();
    expect(await snapshot(dir)).toEqual(before);
    model.dispose();
  });

  it('metadata must be JSON data: NaN, functions and cycles are refused, dates become strings', async () => {
    const model = await tinyModel();
    expect(() => toArtifacts(model, { metadata: { loss: Number.NaN } })).toThrow('toArtifacts: metadata.loss is NaN; only finite numbers can be saved');
    expect(() => toArtifacts(model, { metadata: { history: [1, Number.NEGATIVE_INFINITY] } })).toThrow('toArtifacts: metadata.history[1] is -Infinity; only finite numbers can be saved');
    expect(() => toArtifacts(model, { metadata: { f: () => 1 } })).toThrow('toArtifacts: metadata.f is a function; metadata must be JSON data');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toArtifacts(model, { metadata: cyclic })).toThrow('toArtifacts: metadata.self refers to itself; metadata must be JSON data');
    expect(() => toArtifacts(model, { metadata: { m: new Map() } })).toThrow(/metadata\.m is a Map; metadata must be JSON data/);
    expect(() => toArtifacts(model, { metadata: 3 as never })).toThrow('toArtifacts: metadata must be an object, got 3');
    const when = new Date(0);
    const artifacts = toArtifacts(model, { metadata: { when, skipped: undefined } });
    expect(artifacts.manifest.metadata).toEqual({ when: '1970-01-01T00:00:00.000Z' });
    const copy = fromArtifacts(structuredClone(artifacts), { registry });
    copy.dispose();
    model.dispose();
  });
});
