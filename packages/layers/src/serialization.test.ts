import { cpuBackend } from '@backprop/backend-cpu';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { createRandom, Registry } from '@backprop/tensor';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromArtifacts, layersPlugin, lenet, loadModel, paperNetwork, saveModel, Sequential, toArtifacts } from './index.js';

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
