import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist } from '@backprop/datasets';
import { loadModel } from '@backprop/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../src/setup.js';
import { cli, makePng, SMALL, tempDir } from './helpers.js';

describe('train → evaluate → predict', () => {
  const out = join(tempDir(), 'run');
  let result: Record<string, unknown>;
  let stdout = '';

  beforeAll(async () => {
    const r = await cli('train', ...SMALL, '--epochs', '1', '--out', out, '--json');
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    stdout = r.stdout;
    result = JSON.parse(r.stdout);
  });

  it('prints exactly one JSON object with the documented fields', () => {
    expect(stdout.trim().startsWith('{')).toBe(true);
    expect(stdout.trim().endsWith('}')).toBe(true);
    for (const key of ['testAccuracy', 'testLoss', 'epochs', 'trainSamplesPerSecond', 'backend', 'seed', 'model', 'outDir', 'modelDir', 'checkpointDir', 'reportPath', 'history']) {
      expect(result).toHaveProperty(key);
    }
    expect(result.epochs).toBe(1);
    expect(result.backend).toBe('wasm'); // the default: the fastest backend that runs here
    expect(result.seed).toBe(1);
    expect(result.model).toBe('paper');
    expect(result.testAccuracy).toBeGreaterThan(0.3);
    expect(result.trainSamplesPerSecond).toBeGreaterThan(0);
    expect(result.history).toHaveLength(1);
    console.log(`train: 500 samples × 1 epoch at ${Math.round(result.trainSamplesPerSecond as number)} samples/s, test accuracy ${result.testAccuracy}`);
  });

  it('writes the model, the checkpoint and a self-contained report', () => {
    expect(existsSync(join(out, 'model', 'model.json'))).toBe(true);
    const checkpoint = JSON.parse(readFileSync(join(out, 'checkpoint', 'model.json'), 'utf8'));
    expect(checkpoint.metadata.epoch).toBe(1);
    expect(checkpoint.metadata.seed).toBe(1);
    expect(checkpoint.metadata.args).toMatchObject({ model: 'paper', batchSize: 32, loss: { name: 'binaryCrossentropy' }, optimizer: { name: 'sgd' } });
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<canvas id="loss"');
    expect(html).toMatch(/Chart\.js v4|chart\.js/i);
    expect(html).toContain('Confusion matrix');
    expect(html).toContain('Misclassified test digits');
    expect(html).toContain('Learned kernels');
    expect(html).toContain('Feature maps');
    expect((html.match(/data:image\/png;base64,/g) ?? []).length).toBeGreaterThan(8 + 8);
    expect(html).not.toMatch(/<script src=/);
  });

  it('evaluate reports the same accuracy, per-class accuracy and the confusion matrix', async () => {
    const r = await cli('evaluate', '--model-dir', join(out, 'model'), '--limit', '200', '--json');
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.testAccuracy).toBeCloseTo(result.testAccuracy as number, 10);
    expect(e.confusionMatrix).toHaveLength(10);
    expect(e.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(200);
    expect(e.perClassAccuracy).toHaveLength(10);
    const text = await cli('evaluate', '--model-dir', join(out, 'model'), '--limit', '200');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('per-class accuracy');
    expect(text.stdout).toContain('confusion matrix');
  });

  it('predict on a coloured, upscaled PNG of a test digit agrees with the model on the raw digit', async () => {
    const { test } = await loadMnist({ trainLimit: 1, testLimit: 40 });
    const { model } = await loadModel(join(out, 'model'), { registry: createRegistry() });
    const outputs = model.predict({ values: test.images, shape: [test.count, 1, 28, 28] });
    const values = outputs.dataSync();
    outputs.dispose();
    model.dispose();
    // The digit the model is most sure about (largest margin between its top two outputs).
    let best = 0;
    let bestMargin = -Infinity;
    let bestClass = 0;
    for (let n = 0; n < test.count; n++) {
      const row = Array.from(values.subarray(n * 10, n * 10 + 10));
      const sorted = [...row].sort((a, b) => b - a);
      if (sorted[0] - sorted[1] > bestMargin) {
        bestMargin = sorted[0] - sorted[1];
        best = n;
        bestClass = row.indexOf(sorted[0]);
      }
    }
    const dir = tempDir();
    const digit = test.images.subarray(best * 784, (best + 1) * 784);
    // 56×56, dark blue ink on a cream background (light background → inverted by predict).
    const png = makePng(56, 56, (x, y) => {
      const v = digit[Math.floor(y / 2) * 28 + Math.floor(x / 2)];
      return [Math.round(250 - 230 * v), Math.round(240 - 220 * v), Math.round(200 - 80 * v), 255];
    });
    const file = join(dir, 'digit.png');
    writeFileSync(file, png);
    // The same digit, white on a transparent background, 28×28 with alpha.
    const alphaFile = join(dir, 'alpha.png');
    writeFileSync(alphaFile, makePng(28, 28, (x, y) => [255, 255, 255, Math.round(255 * digit[y * 28 + x])]));
    const r = await cli('predict', '--model-dir', join(out, 'model'), file, alphaFile, '--json');
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.head).toBe('sigmoid');
    expect(p.results).toHaveLength(2);
    for (const res of p.results) {
      expect(res.top).toHaveLength(3);
      const sum = res.top.reduce((s: number, t: { probability: number }) => s + t.probability, 0);
      expect(sum).toBeLessThanOrEqual(1 + 1e-6);
      expect(res.prediction).toBe(bestClass);
    }
    const text = await cli('predict', '--model-dir', join(out, 'model'), file);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`digit\\.png: ${bestClass} +top 3: \\d \\(\\d+\\.\\d%\\), \\d \\(\\d+\\.\\d%\\), \\d \\(\\d+\\.\\d%\\)`));
  });

  it('predict rejects a non-PNG file with one line naming it (exit 1)', async () => {
    const file = join(tempDir(), 'notes.png');
    writeFileSync(file, 'this is not an image\n');
    const r = await cli('predict', '--model-dir', join(out, 'model'), file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${file}: not a PNG or JPEG image`);
  });

  it('evaluate rejects a corrupt test IDX file (exit 1)', async () => {
    const data = tempDir();
    for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(data, name), Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    }
    const r = await cli('evaluate', '--model-dir', join(out, 'model'), '--data', data);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/idx.*wrong magic number 0x1f8b0800/);
  });
});

describe('train a model from a JSON file', () => {
  it('trains a dense-only topology and writes a report without conv sections', async () => {
    const dir = tempDir();
    const file = join(dir, 'dense.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'backprop.sequential',
        formatVersion: 1,
        name: 'dense',
        inputShape: [1, 28, 28],
        dtype: 'float32',
        seed: 1,
        layers: [
          { className: 'Flatten', config: {} },
          { className: 'Dense', config: { units: 10, activation: 'softmax' } },
        ],
        optimizer: { name: 'adam', config: { learningRate: 0.01 } },
      }),
    );
    const r = await cli('train', '--model', file, '--limit', '300', '--test-limit', '100', '--epochs', '1', '--out', join(dir, 'run'), '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.model).toBe(file);
    const meta = JSON.parse(readFileSync(join(dir, 'run', 'checkpoint', 'model.json'), 'utf8')).metadata;
    expect(meta.args.loss.name).toBe('categoricalCrossentropy');
    expect(meta.args.optimizer).toEqual({ name: 'adam', config: { learningRate: 0.01 } });
    const html = readFileSync(result.reportPath, 'utf8');
    expect(html).toContain('Confusion matrix');
    expect(html).not.toContain('Learned kernels');
  });
});

describe('--backend gpujs', () => {
  it('trains on the gpu.js backend (its cpu mode, which needs no GPU) and reports it', async () => {
    const r = await cli('train', '--limit', '128', '--test-limit', '64', '--epochs', '1', '--out', join(tempDir(), 'gpujs'), '--backend', 'gpujs', '--gpujs-mode', 'cpu', '--json');
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.backend).toBe('gpujs');
    expect(result.testAccuracy).toBeGreaterThan(0.1);
  });

  it('trains in the webgpu mode (Dawn in Node: no synchronous readback) and the process exits by itself', async () => {
    const started = Date.now();
    const r = await cli('train', '--limit', '128', '--test-limit', '64', '--epochs', '1', '--out', join(tempDir(), 'gpujs-webgpu'), '--backend', 'gpujs', '--gpujs-mode', 'webgpu', '--json');
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.backend).toBe('gpujs');
    expect(result.testAccuracy).toBeGreaterThan(0.1);
    // A live WebGPU device kept Node running; the CLI disposes its backends when a command ends.
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
