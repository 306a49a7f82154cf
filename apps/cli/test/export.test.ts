import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuBackend } from '@backprop/backend-cpu';
import { layersPlugin, paperNetwork, saveModel } from '@backprop/layers';
import { fromOnnx } from '@backprop/onnx';
import { Registry } from '@backprop/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.js';

const registry = new Registry().use(cpuBackend, layersPlugin);
let dir: string;
let modelDir: string;

beforeAll(async () => {
  dir = tempDir('backprop-export-');
  modelDir = join(dir, 'model');
  const { model } = paperNetwork({ registry, seed: 5 });
  await saveModel(model, modelDir);
  model.dispose();
});

describe('backprop export --format onnx', () => {
  it('writes the model as ONNX that fromOnnx reads back with the same weights and digit class names', async () => {
    const out = join(dir, 'paper.onnx');
    const r = await cli('export', '--model-dir', modelDir, '--format', 'onnx', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*paper\.onnx \(ONNX, [\d,]+ bytes\)/);
    const { model, classNames } = fromOnnx(readFileSync(out), { registry });
    const { model: source } = paperNetwork({ registry, seed: 5 });
    try {
      expect(classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      const a = source.getWeights();
      const b = model.getWeights();
      expect(b.map((w) => w.name)).toEqual(a.map((w) => w.name));
      a.forEach((w, i) => expect(Array.from(b[i].values)).toEqual(Array.from(w.values)));
    } finally {
      model.dispose();
      source.dispose();
    }
    // No temporary file is left beside it.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses to overwrite an existing file without --overwrite (exit 1, one line, file unchanged), replaces it with', async () => {
    const out = join(dir, 'existing.onnx');
    writeFileSync(out, 'keep me');
    const refused = await cli('export', '--model-dir', modelDir, '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/existing\.onnx exists; pass --overwrite/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const replaced = await cli('export', '--model-dir', modelDir, '--out', out, '--overwrite');
    expect(replaced.code).toBe(0);
    expect(fromOnnx(readFileSync(out), { registry }).model.layers.length).toBeGreaterThan(0);
  });

  it('bad usage exits 2; a missing model directory exits 1 naming it, writing nothing', async () => {
    const badFormat = await cli('export', '--model-dir', modelDir, '--format', 'tflite', '--out', join(dir, 'x.tflite'));
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/onnx/);
    const noOut = await cli('export', '--model-dir', modelDir);
    expect(noOut.code).toBe(2);
    const missing = join(dir, 'missing.onnx');
    const noModel = await cli('export', '--model-dir', join(dir, 'nowhere'), '--out', missing);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/nowhere/);
    expect(existsSync(missing)).toBe(false);
  });
});
