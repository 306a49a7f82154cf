import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '@backprop/layers';
import { fromOnnx, toOnnx } from '@backprop/onnx';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../src/setup.js';
import { cli, makePng, SMALL, tempDir } from './helpers.js';

const expectOneLine = (text: string): void => {
  expect(text.trim().split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at /); // no stack trace
};

/** Two PNG digits: a vertical stroke and a ring, on white (predict inverts them). */
function digitPngs(dir: string): string[] {
  const one = join(dir, 'one.png');
  writeFileSync(one, makePng(40, 40, (x, y) => (Math.abs(x - 20) < 3 && y > 5 && y < 35 ? [0, 0, 0, 255] : [255, 255, 255, 255])));
  const ring = join(dir, 'ring.png');
  writeFileSync(
    ring,
    makePng(40, 40, (x, y) => {
      const r = Math.hypot(x - 20, y - 20);
      return r > 9 && r < 14 ? [20, 20, 20, 255] : [250, 250, 250, 255];
    }),
  );
  return [one, ring];
}

describe('evaluate / predict / summary / train on an exported .onnx file (--model <file.onnx>)', () => {
  const dir = tempDir('backprop-onnx-import-');
  const run = join(dir, 'run');
  const modelDir = join(run, 'model');
  const onnxFile = join(dir, 'paper.onnx');
  let images: string[];

  beforeAll(async () => {
    const trained = await cli('train', ...SMALL, '--epochs', '1', '--out', run, '--json');
    expect(trained.code).toBe(0);
    const exported = await cli('export', '--model-dir', modelDir, '--format', 'onnx', '--out', onnxFile);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    images = digitPngs(dir);
  });

  it('evaluate gives the same accuracy, loss, per-class accuracy and confusion matrix as on the model directory', async () => {
    const fromDir = await cli('evaluate', '--model-dir', modelDir, '--limit', '200', '--json');
    const fromOnnxFile = await cli('evaluate', '--model', onnxFile, '--limit', '200', '--json');
    expect(fromOnnxFile.stderr).toBe('');
    expect(fromOnnxFile.code).toBe(0);
    const a = JSON.parse(fromDir.stdout);
    const b = JSON.parse(fromOnnxFile.stdout);
    expect(b.model).toBe(onnxFile);
    expect(b.format).toBe('onnx');
    expect(b.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(b.samples).toBe(200);
    expect(b.testAccuracy).toBe(a.testAccuracy);
    expect(b.confusionMatrix).toEqual(a.confusionMatrix);
    expect(b.perClassAccuracy).toEqual(a.perClassAccuracy);
    // The paper network's sigmoid head: the default loss for it is the run's own (binaryCrossentropy).
    expect(a.loss).toBe('binaryCrossentropy');
    expect(b.loss).toBe('binaryCrossentropy');
    expect(b.testLoss).toBeCloseTo(a.testLoss, 6);
    const text = await cli('evaluate', '--model', onnxFile, '--limit', '200');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`ONNX model ${onnxFile} on 200 test images`);
    expect(text.stdout).toMatch(/test loss \d\.\d{4} \(binaryCrossentropy, the default for a sigmoid head: an ONNX file stores no loss\)/);
    expect(text.stdout).toContain('confusion matrix');
  });

  it('--model-dir naming a .onnx file reads it as ONNX too', async () => {
    const r = await cli('evaluate', '--model-dir', onnxFile, '--limit', '50', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).format).toBe('onnx');
  });

  it('predict gives the same predictions and probabilities as on the model directory', async () => {
    const fromDir = JSON.parse((await cli('predict', '--model-dir', modelDir, ...images, '--json')).stdout);
    const r = await cli('predict', '--model', onnxFile, ...images, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const fromFile = JSON.parse(r.stdout);
    expect(fromFile.head).toBe('sigmoid');
    expect(fromFile.results).toHaveLength(2);
    fromFile.results.forEach((res: { prediction: number; className: string; top: { label: number; className: string; probability: number }[] }, i: number) => {
      const ref = fromDir.results[i];
      expect(res.prediction).toBe(ref.prediction);
      expect(res.className).toBe(String(ref.prediction));
      expect(res.top.map((t) => t.label)).toEqual(ref.top.map((t: { label: number }) => t.label));
      res.top.forEach((t, j) => expect(t.probability).toBeCloseTo(ref.top[j].probability, 6));
    });
    const text = await cli('predict', '--model', onnxFile, images[0]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`one\\.png: ${fromDir.results[0].prediction} +top 3: `));
  });

  it('predict and evaluate show the class names from the file’s metadata', async () => {
    const registry = createRegistry();
    const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    const { model } = fromOnnx(readFileSync(onnxFile), { registry });
    const named = join(dir, 'named.onnx');
    writeFileSync(named, toOnnx(model, { classNames: names }));
    model.dispose();
    const fromDir = JSON.parse((await cli('predict', '--model-dir', modelDir, images[0], '--json')).stdout);
    const r = await cli('predict', '--model', named, images[0]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`one\\.png: ${names[fromDir.results[0].prediction]} +top 3: [a-z]+ \\(\\d+\\.\\d%\\), [a-z]+ \\(`));
    const e = await cli('evaluate', '--model', named, '--limit', '50');
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/^ {2}seven: /m);
  });

  it('summary prints the same layers and parameter count as for the run', async () => {
    const r = await cli('summary', '--model', onnxFile);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const preset = await cli('summary', '--model', 'paper');
    const table = (s: string): string => s.slice(0, s.indexOf('Description:'));
    expect(table(r.stdout)).toBe(table(preset.stdout));
    expect(r.stdout).toContain('Total params: 149,082');
    expect(r.stdout).toContain('imported from the ONNX file');
    expect(r.stdout).toContain('Classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9');
  });

  it('a softmax head is evaluated with categoricalCrossentropy (the default), as the run that trained it', async () => {
    const spec = join(dir, 'tiny.json');
    writeFileSync(
      spec,
      JSON.stringify({
        format: 'backprop.sequential',
        formatVersion: 1,
        name: 'tiny',
        inputShape: [1, 28, 28],
        dtype: 'float32',
        seed: 1,
        layers: [
          { className: 'Flatten', config: {} },
          { className: 'Dense', config: { units: 10, activation: 'softmax' } },
        ],
        loss: 'categoricalCrossentropy',
      }),
    );
    const tinyRun = join(dir, 'tiny-run');
    expect((await cli('train', '--model', spec, ...SMALL, '--epochs', '1', '--out', tinyRun, '--json')).code).toBe(0);
    const tinyOnnx = join(dir, 'tiny.onnx');
    expect((await cli('export', '--model-dir', join(tinyRun, 'model'), '--out', tinyOnnx)).code).toBe(0);
    const a = JSON.parse((await cli('evaluate', '--model-dir', join(tinyRun, 'model'), '--limit', '200', '--json')).stdout);
    const b = JSON.parse((await cli('evaluate', '--model', tinyOnnx, '--limit', '200', '--json')).stdout);
    expect(b.loss).toBe('categoricalCrossentropy');
    expect(b.testAccuracy).toBe(a.testAccuracy);
    expect(b.testLoss).toBeCloseTo(a.testLoss, 6);
    const text = await cli('evaluate', '--model', tinyOnnx, '--limit', '50');
    expect(text.stdout).toContain('(categoricalCrossentropy, the default for a softmax head: an ONNX file stores no loss)');
  });

  it('a corrupt or truncated .onnx file, or a missing one, is one line naming the file (exit 1)', async () => {
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, Buffer.from('this is not an ONNX model at all, just text\n'));
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(onnxFile).subarray(0, 300));
    for (const file of [corrupt, truncated]) {
      for (const args of [['evaluate', '--model', file], ['predict', '--model', file, images[0]], ['summary', '--model', file]]) {
        const r = await cli(...args);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expectOneLine(r.stderr);
        expect(r.stderr).toContain(`backprop: error: ${file}: fromOnnx: `);
      }
    }
    const missing = join(dir, 'missing.onnx');
    const r = await cli('evaluate', '--model', missing);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(`${missing}: cannot be read (ENOENT)`);
  });

  it('train --model <file.onnx> fine-tunes from the file’s weights and saves a Backprop model', async () => {
    const registry = createRegistry();
    const { model: imported } = fromOnnx(readFileSync(onnxFile), { registry });
    const start = imported.getWeights();
    imported.dispose();
    // A step too small to move anything: the saved model holds the file's weights.
    const still = join(dir, 'tuned-still');
    const r = await cli('train', '--model', onnxFile, '--optimizer', 'sgd', '--lr', '1e-12', '--limit', '64', '--test-limit', '200', '--epochs', '1', '--out', still, '--json');
    expect(r.stderr).toContain(`backprop train: paper from the ONNX file ${onnxFile}, starting from its weights`);
    expect(r.code).toBe(0);
    const { model } = await loadModel(join(still, 'model'), { registry });
    const after = model.getWeights();
    model.dispose();
    expect(after.map((w) => w.name)).toEqual(start.map((w) => w.name));
    let max = 0;
    after.forEach((w, i) => w.values.forEach((v, j) => (max = Math.max(max, Math.abs(v - start[i].values[j])))));
    expect(max).toBeLessThan(1e-9);
    // The paper network's sigmoid head: binaryCrossentropy, its default, as the run that trained it.
    const manifest = JSON.parse(readFileSync(join(still, 'model', 'model.json'), 'utf8'));
    expect(manifest.metadata.args.loss.name).toBe('binaryCrossentropy');
    expect(manifest.metadata.args.model).toBe(onnxFile);
    const viaFile = JSON.parse((await cli('evaluate', '--model', onnxFile, '--limit', '200', '--json')).stdout);
    expect(JSON.parse(r.stdout).testAccuracy).toBe(viaFile.testAccuracy);
    // A corrupt file fails before anything is written, naming it.
    const corrupt = join(dir, 'corrupt-train.onnx');
    writeFileSync(corrupt, readFileSync(onnxFile).subarray(0, 200));
    const bad = await cli('train', '--model', corrupt, '--out', join(dir, 'never'));
    expect(bad.code).toBe(1);
    expectOneLine(bad.stderr);
    expect(bad.stderr).toContain(`backprop: error: ${corrupt}: fromOnnx: `);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('summary and train --model take a saved model directory too (its own loss; fine-tuning from its weights)', async () => {
    const r = await cli('summary', '--model', modelDir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Total params: 149,082');
    expect(r.stdout).toContain(`loaded from ${modelDir}`);
    expect(r.stdout).toContain("Loss: binaryCrossentropy (the saved run's)");
    const registry = createRegistry();
    const { model } = await loadModel(modelDir, { registry });
    const start = model.getWeights().filter((w) => !w.name.includes('/optimizer'));
    model.dispose();
    const tuned = join(dir, 'tuned-from-dir');
    const t = await cli('train', '--model', modelDir, '--optimizer', 'sgd', '--lr', '1e-12', '--limit', '64', '--test-limit', '50', '--epochs', '1', '--out', tuned, '--json');
    expect(t.code).toBe(0);
    expect(t.stderr).toContain(`from the saved Backprop model ${modelDir}, starting from its weights`);
    const { model: after } = await loadModel(join(tuned, 'model'), { registry });
    const weights = new Map(after.getWeights().map((w) => [w.name, w.values]));
    after.dispose();
    for (const w of start) {
      const values = weights.get(w.name)!;
      let max = 0;
      w.values.forEach((v, j) => (max = Math.max(max, Math.abs(v - values[j]))));
      expect(max).toBeLessThan(1e-9);
    }
  });

  it('--model and --model-dir together, or neither, is bad usage (exit 2)', async () => {
    const both = await cli('evaluate', '--model', onnxFile, '--model-dir', modelDir);
    expect(both.code).toBe(2);
    expectOneLine(both.stderr);
    expect(both.stderr).toMatch(/either --model <path> or --model-dir <path>, not both/);
    const neither = await cli('predict', images[0]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/--model-dir <dir>.*--model <file\.onnx>/);
  });
});
