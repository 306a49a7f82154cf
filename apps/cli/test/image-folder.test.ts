import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageSetFromIdx, defaultMnistDir, MNIST_FILES } from '@backprop/datasets';
import { encodeImage, imageFolder, writeMnistImageFolder } from '@backprop/datasets/node';
import { shape } from '@backprop/datasets/testing';
import { lenet, loadModel } from '@backprop/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateFolder, evaluateSet } from '../src/evaluation.js';
import { loadDigit, loadImageInput } from '../src/image.js';
import { createRegistry } from '../src/setup.js';
import { cli, idxDir, tempDir, weightsOf } from './helpers.js';

/** Two classes of 30 images: PNGs and a few JPEGs; grey, or in colour with `colour`. */
function shapesFolder(colour = false): string {
  const dir = tempDir('backprop-shapes-');
  for (const kind of ['ring', 'square'] as const) {
    mkdirSync(join(dir, kind));
    for (let k = 0; k < 30; k++) {
      const grey = shape(kind, 16, k);
      const pixels = colour ? Uint8Array.from({ length: 3 * 256 }, (_, i) => (i < 256 ? grey[i] : i < 512 ? 255 - grey[i - 256] : 128)) : grey;
      const jpeg = k % 10 === 0;
      writeFileSync(join(dir, kind, `${k}.${jpeg ? 'jpg' : 'png'}`), encodeImage(pixels, colour ? 3 : 1, 16, 16, jpeg ? 'jpeg' : 'png'));
    }
  }
  return dir;
}

describe('train / evaluate / predict on an image folder', () => {
  const data = shapesFolder();
  const out = join(tempDir(), 'run');
  let result: Record<string, unknown>;
  let stderr = '';

  beforeAll(async () => {
    // jpeg-js writes every JPEG as colour: --channels 1 converts them (by luminance) to the PNGs' grey.
    const r = await cli('train', '--data', data, '--channels', '1', '--model', 'lenet', '--epochs', '4', '--batch-size', '8', '--lr', '0.003', '--validation-split', '0.2', '--out', out, '--json');
    stderr = r.stderr;
    expect(r.code, r.stderr).toBe(0);
    result = JSON.parse(r.stdout);
  });

  it('detects the folder, trains a preset shaped by it, saves class names and the input shape', async () => {
    expect(stderr).toContain(`data: ${data} is an image folder (detected)`);
    expect(stderr).toContain('(2 classes: ring, square)');
    expect(stderr).toMatch(/48 train \/ 12 held out/);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.9);
    const { model, manifest } = await loadModel(join(out, 'model'), { registry: createRegistry() });
    expect(manifest.classNames).toEqual(['ring', 'square']);
    expect(model.inputShape).toEqual([1, 16, 16]);
    expect(model.outputShape).toEqual([2]);
    model.dispose();
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain('<th>ring</th>');
    expect(report).toContain('<th>square</th>');
  });

  it('evaluate --data <folder> scores every image of the folder at the model input shape, naming the classes', async () => {
    const r = await cli('evaluate', '--model-dir', join(out, 'model'), '--data', data, '--json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.samples).toBe(60);
    expect(json.classNames).toEqual(['ring', 'square']);
    expect(json.testAccuracy).toBeGreaterThanOrEqual(0.9);
    const text = await cli('evaluate', '--model-dir', join(out, 'model'), '--data', data);
    expect(text.stdout).toMatch(/ {2}ring: \d+\.\d\d%/);
    expect(text.stdout).toContain('classes: ring, square; streamed)');
    const limited = JSON.parse((await cli('evaluate', '--model-dir', join(out, 'model'), '--data', data, '--limit', '25', '--json')).stdout);
    expect(limited.samples).toBe(25);
  });

  it('streamed evaluation of a folder gives the in-memory loss, outputs and labels; --limit takes a seeded random subset (batches cut at it), not the first classes', async () => {
    const registry = createRegistry();
    const { model } = await loadModel(join(out, 'model'), { registry });
    const folder = (await imageFolder(data, { imageSize: [16, 16], channels: 1 })).train;
    const loss = { name: 'categoricalCrossentropy', config: {} };
    const inFolderOrder = await folder.load();
    // One shuffled pass of the folder (seed 0), read whole: the order a --limit subset is drawn in, whatever the batch size.
    const shuffled = (await folder.batches({ batchSize: 60, shuffle: true, seed: 0 })[Symbol.asyncIterator]().next()).value!;
    const memory = async (x: { values: Float32Array }, y: { values: Int32Array }, limit: number) =>
      evaluateSet(model, { images: x.values.subarray(0, limit * 256), labels: Uint8Array.from(y.values.subarray(0, limit)), count: limit, rows: 16, cols: 16 }, loss);
    for (const [limit, batchSize] of [[60, 16], [37, 16], [30, 16], [5, 8]]) {
      const streamed = await evaluateFolder(model, folder, loss, limit, batchSize);
      // All 60: the folder in its order; fewer: the first `limit` of the shuffled pass.
      const { x, y } = limit === 60 ? inFolderOrder : shuffled;
      const expected = await memory(x, y, limit);
      expect(streamed.count).toBe(limit);
      expect(Array.from(streamed.labels), `limit ${limit}`).toEqual(Array.from(y.values.subarray(0, limit)));
      expect(streamed.outputs.length).toBe(limit * 2);
      expect(Math.abs(streamed.loss - expected.loss), `limit ${limit}, batch ${batchSize}`).toBeLessThan(1e-6);
      streamed.outputs.forEach((v, i) => expect(Math.abs(v - expected.outputs[i])).toBeLessThan(1e-6));
    }
    // The folder holds 30 rings then 30 squares: the first 30 in folder order would all be rings.
    const half = await evaluateFolder(model, folder, loss, 30, 16);
    const squares = Array.from(half.labels).filter((l) => l === 1).length;
    expect(squares).toBeGreaterThan(5);
    expect(squares).toBeLessThan(25);
    // The same subset every time.
    expect(Array.from((await evaluateFolder(model, folder, loss, 30, 8)).labels)).toEqual(Array.from(half.labels));
    model.dispose();
  });

  it('predict prepares images for the model and prints class names', async () => {
    const r = await cli('predict', '--model-dir', join(out, 'model'), join(data, 'ring', '3.png'), join(data, 'square', '10.jpg'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.results.map((x: { className: string }) => x.className)).toEqual(['ring', 'square']);
    const text = await cli('predict', '--model-dir', join(out, 'model'), join(data, 'square', '4.png'));
    expect(text.stdout).toMatch(/4\.png: square +top 2: square \(\d+\.\d%\), ring/);
  });

  it('export writes the class names into the ONNX file, where evaluate --model reads them', async () => {
    const onnx = join(tempDir(), 'shapes.onnx');
    const e = await cli('export', '--model-dir', join(out, 'model'), '--out', onnx);
    expect(e.code, e.stderr).toBe(0);
    const r = await cli('evaluate', '--model', onnx, '--data', data, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).classNames).toEqual(['ring', 'square']);
  });

  it('predict prepares images for a folder-trained 1×28×28 model as the folder did, from its saved model and from its ONNX export alike', async () => {
    const run = join(tempDir(), 'grey28');
    const r = await cli('train', '--data', data, '--channels', '1', '--image-size', '28', '--model', 'lenet', '--epochs', '1', '--batch-size', '8', '--out', run);
    expect(r.code, r.stderr).toBe(0);
    const onnx = join(tempDir(), 'grey28.onnx');
    expect((await cli('export', '--model-dir', join(run, 'model'), '--out', onnx)).code).toBe(0);
    const images = [join(data, 'ring', '3.png'), join(data, 'square', '4.png')];
    // What the model gives each image resized to 28×28 (the folder's preparation), and prepared as an MNIST digit (cropped, scaled, centred).
    const { model } = await loadModel(join(run, 'model'), { registry: createRegistry() });
    const probabilities = async (input: Float32Array): Promise<number[]> => Array.from(await (await model.predictAsync({ values: input, shape: [1, 1, 28, 28] })).data());
    const resized = await Promise.all(images.map(async (file) => probabilities(await loadImageInput(file, [1, 28, 28]))));
    const asDigits = await Promise.all(images.map(async (file) => probabilities(await loadDigit(file))));
    model.dispose();
    // The two preparations give the model different inputs: the check below tells them apart.
    expect(Math.max(...resized.flat().map((p, i) => Math.abs(p - asDigits.flat()[i])))).toBeGreaterThan(1e-3);
    for (const flags of [['--model-dir', join(run, 'model')], ['--model', onnx]]) {
      const p = await cli('predict', ...flags, ...images, '--json');
      expect(p.code, p.stderr).toBe(0);
      const json = JSON.parse(p.stdout);
      expect(json.classNames).toEqual(['ring', 'square']);
      json.results.forEach((result: { top: { label: number; probability: number }[] }, i: number) => {
        for (const { label, probability } of result.top) expect(Math.abs(probability - resized[i][label]), `${flags[0]} image ${i}`).toBeLessThan(1e-5);
      });
    }
  });

  it('resizes and converts with --image-size and --channels; colour images train as RGB', async () => {
    const colour = shapesFolder(true);
    const run = join(tempDir(), 'colour');
    const r = await cli('train', '--data', colour, '--model', 'lenet', '--epochs', '1', '--image-size', '12x14', '--channels', '3', '--out', run, '--json');
    expect(r.code, r.stderr).toBe(0);
    const { model } = await loadModel(join(run, 'model'), { registry: createRegistry() });
    expect(model.inputShape).toEqual([3, 12, 14]);
    model.dispose();
    // The report shows the held-out images in colour (an RGB PNG: colour type 2 in its IHDR).
    const report = readFileSync(join(run, 'report.html'), 'utf8');
    const uri = /<img src="data:image\/png;base64,([A-Za-z0-9+/=]+)"[^>]*alt="test image #0/.exec(report);
    expect(uri).not.toBeNull();
    expect(Buffer.from(uri![1], 'base64')[25]).toBe(2);
  });

  it('--resume continues a folder run exactly: 1 + 1 epochs give the weights of 2 epochs (lenet-bn: dropout and augmentation continue, not replay)', async () => {
    const root = tempDir();
    // lenet-bn draws dropout masks and augmentation maps every step: the resumed epoch must draw the uninterrupted run's second-epoch ones.
    const args = ['--data', data, '--channels', '1', '--model', 'lenet-bn', '--batch-size', '8', '--seed', '3'];
    const straight = await cli('train', ...args, '--epochs', '2', '--out', join(root, 'straight'));
    expect(straight.code, straight.stderr).toBe(0);
    const first = await cli('train', ...args, '--epochs', '1', '--out', join(root, 'resumed'));
    expect(first.code, first.stderr).toBe(0);
    const checkpoint = join(root, 'resumed', 'checkpoint');
    // Flags that would change the run are refused against what it trains on: its split, and its images' size and channels (the images' own here).
    for (const [flag, value, saved] of [['--validation-split', '0.3', '0.2'], ['--image-size', '20x20', '16x16'], ['--channels', '3', '1']]) {
      const refused = await cli('train', '--resume', checkpoint, '--epochs', '2', flag, value);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain(`${flag} ${value} differs from the checkpoint's ${saved}; drop ${flag}`);
    }
    // The run's own values (--validation-split is the folder's default share) are accepted.
    const resumed = await cli('train', '--resume', checkpoint, '--epochs', '2', '--validation-split', '0.2', '--image-size', '16', '--channels', '1');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(weightsOf(join(root, 'resumed', 'model')).equals(weightsOf(join(root, 'straight', 'model')))).toBe(true);
  });

  it('IDX directories keep working and say so', async () => {
    const r = await cli('train', '--data', idxDir(60, 20), '--epochs', '1', '--out', join(tempDir(), 'idx'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('holds IDX files (detected)');
  });
});

describe('bad image folders: one line naming the folder or file, exit 1', () => {
  const run = (dir: string, ...extra: string[]) => cli('train', '--data', dir, '--model', 'lenet', '--epochs', '1', '--out', join(tempDir(), 'r'), ...extra);
  const png = (k = 0) => encodeImage(shape('ring', 16, k), 1, 16, 16, 'png');

  it('one class, an empty class, a corrupt image, a file that is not an image, mixed channels', async () => {
    const one = tempDir();
    mkdirSync(join(one, 'only'));
    writeFileSync(join(one, 'only', '1.png'), png());
    let r = await run(one);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${one}: has one class ('only'); a classifier needs at least two class subfolders`);

    const empty = tempDir();
    mkdirSync(join(empty, 'a'));
    mkdirSync(join(empty, 'b'));
    writeFileSync(join(empty, 'a', '1.png'), png());
    writeFileSync(join(empty, 'b', 'notes.txt'), 'x');
    r = await run(empty);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("class 'b' has no images");

    const corrupt = tempDir();
    mkdirSync(join(corrupt, 'a'));
    mkdirSync(join(corrupt, 'b'));
    for (let k = 0; k < 5; k++) writeFileSync(join(corrupt, 'a', `${k}.png`), png(k));
    for (let k = 0; k < 5; k++) writeFileSync(join(corrupt, 'b', `${k}.png`), png(k));
    const good = png(9);
    writeFileSync(join(corrupt, 'b', '3.png'), good.subarray(0, good.length - 30));
    r = await run(corrupt);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/b\/3\.png: not a valid PNG image/);

    writeFileSync(join(corrupt, 'b', '3.png'), 'not an image at all');
    r = await run(corrupt);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('b/3.png: not a PNG or JPEG image');

    writeFileSync(join(corrupt, 'b', '3.png'), encodeImage(new Uint8Array(3 * 256).fill(90), 3, 16, 16, 'png'));
    r = await run(corrupt);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/b\/3\.png: is colour but a\/0\.png is grey; .*choose channels 1 \(grey\) or 3/);
    r = await run(corrupt, '--channels', '1');
    expect(r.code, r.stderr).toBe(0);
  });

  it('a bad --image-size is a usage error (exit 2); --limit does not apply to a folder', async () => {
    const r = await cli('train', '--data', shapesFolder(), '--image-size', '0x3');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--image-size must be N or HxW');
    const limit = await cli('train', '--data', shapesFolder(), '--limit', '10');
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit and --test-limit apply to IDX files');
  });
});

describe('MNIST written as PNGs trains as the IDX files do', () => {
  it('200 images: the decoded pixels are the IDX bytes / 255, and training on the folder stream equals training on the IDX arrays', async () => {
    const dir = tempDir('backprop-mnist-png-');
    await writeMnistImageFolder(dir, { limit: 200 });
    const folder = await imageFolder(dir);
    const train = folder.train;
    const mnistDir = await defaultMnistDir();
    const idx = imageSetFromIdx(readFileSync(join(mnistDir, MNIST_FILES.trainImages)), readFileSync(join(mnistDir, MNIST_FILES.trainLabels)), {}, { limit: 200 });
    // The IDX samples in the folder's order (class, then index): the same batches.
    const order = train.sources.map((s) => Number(s.name.split('/')[1].replace('.png', '')));
    const images = new Float32Array(200 * 784);
    order.forEach((n, k) => images.set(idx.images.subarray(n * 784, (n + 1) * 784), k * 784));
    const labels = Uint8Array.from(order, (n) => idx.labels[n]);
    const { x } = await train.load();
    expect(x.values).toEqual(images);
    const registry = createRegistry();
    const options = { loss: 'categoricalCrossentropy', optimizer: { name: 'adam', config: { learningRate: 0.002 } }, epochs: 2 };
    const a = lenet({ registry, seed: 4 }).model;
    const b = lenet({ registry, seed: 4 }).model;
    const fromIdx = await a.fit({ values: images, shape: [200, 1, 28, 28] }, { values: labels, shape: [200] }, { ...options, batchSize: 20, shuffle: false });
    const fromFolder = await b.fit(train.batches({ batchSize: 20 }), options);
    expect(fromFolder.epochs.map((e) => [e.loss, e.accuracy])).toEqual(fromIdx.epochs.map((e) => [e.loss, e.accuracy]));
    const test = { values: images.subarray(0, 100 * 784), shape: [100, 1, 28, 28] };
    expect((await b.evaluateAsync(test, { values: labels.subarray(0, 100), shape: [100] }, { loss: 'categoricalCrossentropy' })).accuracy).toBe(
      (await a.evaluateAsync(test, { values: labels.subarray(0, 100), shape: [100] }, { loss: 'categoricalCrossentropy' })).accuracy,
    );
    a.dispose();
    b.dispose();
    expect(existsSync(join(dir, '0'))).toBe(true);
  });
});
