import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist } from '@backprop/datasets';
import { crc32, manifestChecksum, PRESETS } from '@backprop/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileError } from '../src/errors.js';
import { evaluateSet } from '../src/evaluation.js';
import { MAX_IMAGE_PIXELS } from '../src/image.js';
import { createRegistry } from '../src/setup.js';
import { cli, greyPng, idxDir, start, tempDir, weightsOf } from './helpers.js';

const expectOneLine = (text: string): void => {
  expect(text.trim().split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at /); // no stack trace
};

const TINY = ['--limit', '64', '--test-limit', '32', '--epochs', '1'];

describe('training that diverges stops, keeps the last good checkpoint and exits 1', () => {
  it('--lr 1000: the loss explodes in the first epoch; nothing is saved and the message says what to try', async () => {
    const out = join(tempDir(), 'run');
    const r = await cli('train', '--limit', '500', '--test-limit', '100', '--epochs', '2', '--lr', '1000', '--out', out);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/training diverged in epoch 1, batch \d+: the mean loss of the last \d+ batches is .* more than 10× the run's first-batch loss/);
    expect(r.stderr).toMatch(/no checkpoint/);
    expect(r.stderr).toMatch(/lower --lr \(e\.g\. 100; this run used 1000\)/);
    // Nothing was written, and the directory the run created is gone again.
    expect(existsSync(out)).toBe(false);
  });

  it('--lr 1e40: weights that became Infinity are never written as a checkpoint', async () => {
    const out = join(tempDir(), 'run');
    // One batch per epoch: the loss of that batch is finite, the update makes the weights infinite.
    const r = await cli('train', '--limit', '32', '--test-limit', '16', '--epochs', '2', '--lr', '1e40', '--out', out, '--json');
    expect(r.code).toBe(1);
    // With --json the run's log goes to stderr too; the error is its one last line.
    expect(r.stderr.match(/^backprop: error: /gm)).toHaveLength(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^backprop: error: training diverged/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toMatch(/training diverged in epoch 1: the weights became non-finite \(.*(Infinity|NaN)\)/);
    expect(existsSync(join(out, 'checkpoint'))).toBe(false);
    expect(existsSync(join(out, 'model'))).toBe(false);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ diverged: true, epoch: 1, epochs: 0, checkpointDir: null });
  });

  it('a divergence after a good epoch keeps that epoch\'s checkpoint untouched and names it', async () => {
    const out = join(tempDir(), 'run');
    expect((await cli('train', '--limit', '200', '--test-limit', '50', '--epochs', '1', '--out', out)).code).toBe(0);
    const checkpoint = join(out, 'checkpoint');
    const manifestFile = join(checkpoint, 'model.json');
    // A reference loss far below any real one makes the next batch count as diverged.
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    expect(manifest.metadata.referenceLoss).toBeGreaterThan(0);
    manifest.metadata.referenceLoss = 1e-9;
    // An edit the manifest's own checksum must agree with, or the loader refuses the file.
    manifest.manifestCrc32 = manifestChecksum(manifest);
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const before = weightsOf(checkpoint);
    const r = await cli('train', '--resume', checkpoint, '--epochs', '3');
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/training diverged in epoch 2, batch 1/);
    expect(r.stderr).toContain(`the last good checkpoint (after epoch 1) is kept in ${checkpoint}`);
    expect(weightsOf(checkpoint).equals(before)).toBe(true);
    expect(JSON.parse(readFileSync(manifestFile, 'utf8')).metadata.epoch).toBe(1);
  });
});

describe('a checkpoint with non-finite weights', () => {
  it('is refused by --resume, naming it (one a diverged run of an older version wrote)', async () => {
    const out = join(tempDir(), 'run');
    expect((await cli('train', ...TINY, '--out', out)).code).toBe(0);
    const checkpoint = join(out, 'checkpoint');
    // Put an Infinity into the first weight, with a matching checksum and file name.
    const manifest = JSON.parse(readFileSync(join(checkpoint, 'model.json'), 'utf8'));
    const bytes = Buffer.from(weightsOf(checkpoint));
    bytes.writeFloatLE(Number.POSITIVE_INFINITY, manifest.weights.specs[0].offset);
    const crc = crc32(bytes).toString(16).padStart(8, '0');
    rmSync(join(checkpoint, manifest.weights.file));
    manifest.weights = { ...manifest.weights, file: `weights-${crc}.bin`, crc32: crc };
    manifest.manifestCrc32 = manifestChecksum(manifest);
    writeFileSync(join(checkpoint, manifest.weights.file), bytes);
    writeFileSync(join(checkpoint, 'model.json'), JSON.stringify(manifest));
    const r = await cli('train', '--resume', checkpoint, '--epochs', '2');
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(checkpoint);
    expect(r.stderr).toMatch(/non-finite|Infinity/);
    expect(r.stdout).not.toMatch(/epoch 2/);
  });
});

describe('--out and --overwrite', () => {
  it('refuses an empty --out (which would write into the current directory)', async () => {
    const cwd = tempDir();
    const r = await start(['train', ...TINY, '--out', ''], { cwd }).done;
    expect(r.code).toBe(2);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/--out is empty/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("refuses an earlier run's directory without --overwrite, naming it; replaces it with --overwrite", async () => {
    const out = join(tempDir(), 'run');
    expect((await cli('train', ...TINY, '--out', out)).code).toBe(0);
    const model = weightsOf(join(out, 'model'));
    const again = await cli('train', ...TINY, '--seed', '2', '--out', out);
    expect(again.code).toBe(2);
    expectOneLine(again.stderr);
    expect(again.stderr).toContain(`${out} holds an earlier run (model, checkpoint, report.html)`);
    expect(again.stderr).toMatch(/--overwrite/);
    expect(weightsOf(join(out, 'model')).equals(model)).toBe(true);
    const replaced = await cli('train', ...TINY, '--seed', '2', '--out', out, '--overwrite', '--json');
    expect(replaced.code).toBe(0);
    expect(JSON.parse(replaced.stdout).seed).toBe(2);
    expect(weightsOf(join(out, 'model')).equals(model)).toBe(false);
    const help = await cli('train', '--help');
    expect(help.stdout).toContain('--overwrite');
  });
});

describe('data is checked before training and before any directory is created', () => {
  it('refuses a validation split that leaves no image on one side, naming the counts', async () => {
    const out = join(tempDir(), 'run');
    const r = await cli('train', '--limit', '1', '--validation-split', '0.5', '--out', out);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/--validation-split 0\.5 of 1 training image\(s\) leaves 1 for training and 0 for validation/);
    expect(existsSync(out)).toBe(false);
  });

  it('a test label out of range (255) is refused when the data is loaded, naming the file', async () => {
    const labels = Array.from({ length: 16 }, (_, i) => i % 10);
    labels[5] = 255;
    const data = idxDir(64, 16, { test: labels });
    const out = join(tempDir(), 'run');
    const r = await cli('train', '--data', data, '--epochs', '1', '--out', out);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(`${join(data, 't10k-labels-idx1-ubyte')}: label 255 at index 5 is outside 0..9`);
    expect(r.stdout).not.toMatch(/epoch/);
    expect(existsSync(out)).toBe(false);
  });

  it('a training label out of range leaves no directory behind', async () => {
    const labels = Array.from({ length: 64 }, (_, i) => i % 10);
    labels[40] = 10;
    const data = idxDir(64, 16, { train: labels });
    const out = join(tempDir(), 'run');
    const r = await cli('train', '--data', data, '--epochs', '1', '--out', out);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(`${join(data, 'train-labels-idx1-ubyte')}: label 10 at index 40 is outside 0..9`);
    expect(existsSync(out)).toBe(false);
  });

  it('evaluate refuses an out-of-range test label, naming the file', async () => {
    const out = join(tempDir(), 'run');
    expect((await cli('train', ...TINY, '--out', out)).code).toBe(0);
    const data = idxDir(8, 8, { test: [0, 1, 2, 3, 4, 5, 6, 200] });
    const r = await cli('evaluate', '--model-dir', join(out, 'model'), '--data', data);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(`${join(data, 't10k-labels-idx1-ubyte')}: label 200 at index 7 is outside 0..9`);
  });
});

describe('output that cannot be written, and a run stopped while writing its model', () => {
  // Root ignores permissions: the CLI then runs as 'nobody'.
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

  it('a read-only output directory is "permission denied" naming it, before any training', async () => {
    const parent = tempDir();
    chmodSync(parent, 0o755);
    const ro = join(parent, 'ro');
    mkdirSync(ro, { mode: 0o555 });
    chmodSync(ro, 0o555);
    const inside = await start(['train', ...TINY, '--out', ro], asUser).done;
    expect(inside.code).toBe(1);
    expectOneLine(inside.stderr);
    expect(inside.stderr).toContain(`cannot write to ${ro}: permission denied (EACCES)`);
    expect(inside.stdout).not.toMatch(/epoch/);
    expect(readdirSync(ro)).toEqual([]);
    const below = await start(['train', ...TINY, '--out', join(ro, 'run')], asUser).done;
    expect(below.code).toBe(1);
    expectOneLine(below.stderr);
    expect(below.stderr).toContain(`cannot create the output directory ${join(ro, 'run')}: permission denied (EACCES)`);
  });

  it('a full disk (or any write error) is reported naming the path', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    expect(fileError(enospc, '/runs/x/model', 'save the final model to').message).toBe('cannot save the final model to /runs/x/model: no space left on device (ENOSPC)');
    const onTmp = Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC', path: '/runs/x/model/weights-0.bin.1.tmp' });
    expect(fileError(onTmp, '/runs/x/model', 'save the final model to', 'the checkpoint is kept').message).toBe(
      'cannot save the final model to /runs/x/model: no space left on device (ENOSPC, on /runs/x/model/weights-0.bin.1.tmp); the checkpoint is kept',
    );
    // A library error that names its file keeps its message.
    const library = new Error('/runs/x/model/model.json: cannot write (disk full)');
    expect(fileError(library, '/runs/x/model', 'save the final model to').message).toBe('/runs/x/model/model.json: cannot write (disk full)');
  });

  it('--resume writes the final model and report again when model/ is missing or incomplete', async () => {
    const out = join(tempDir(), 'run');
    const first = await cli('train', '--limit', '64', '--test-limit', '32', '--epochs', '2', '--out', out, '--json');
    expect(first.code).toBe(0);
    const checkpoint = join(out, 'checkpoint');
    const weights = weightsOf(join(out, 'model'));
    // Killed while writing model/: the weights are there, the manifest is not; a temporary file is left.
    rmSync(join(out, 'model', 'model.json'));
    writeFileSync(join(out, 'model', 'model.json.123.abc.tmp'), '{"trunc');
    rmSync(join(out, 'report.html'));
    const again = await cli('train', '--resume', checkpoint, '--json');
    expect(again.stderr).not.toMatch(/error/);
    expect(again.code).toBe(0);
    const a = JSON.parse(first.stdout);
    const b = JSON.parse(again.stdout);
    expect(b.epochs).toBe(2);
    expect(b.testAccuracy).toBe(a.testAccuracy);
    expect(b.testLoss).toBe(a.testLoss);
    expect(weightsOf(join(out, 'model')).equals(weights)).toBe(true);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const e = await cli('evaluate', '--model-dir', join(out, 'model'), '--limit', '32', '--json');
    expect(e.code).toBe(0);
    // Now the run is complete: resuming without more epochs is refused, naming the model.
    const done = await cli('train', '--resume', checkpoint);
    expect(done.code).toBe(2);
    expect(done.stderr).toContain(`already finished 2 epoch(s) and its final model is in ${join(out, 'model')}`);
  });
});

describe('the test set runs forward once', () => {
  for (const preset of ['paper', 'lenet'] as const) {
    it(`${preset}: evaluateSet gives evaluateAsync's loss and predictAsync's outputs in one pass`, async () => {
      const registry = createRegistry();
      const { model, loss } = PRESETS[preset]({ registry, seed: 3 });
      const { test } = await loadMnist({ trainLimit: 1, testLimit: 300 });
      const x = { values: test.images, shape: [test.count, 1, 28, 28] };
      const expectedLoss = (await model.evaluateAsync(x, { values: test.labels, shape: [test.count] }, { loss })).loss;
      const predicted = await model.predictAsync(x);
      const expectedOutputs = await predicted.data();
      predicted.dispose();
      const first = model.layers[0];
      const forward = first.forward.bind(first);
      let calls = 0;
      first.forward = (input, options) => {
        calls++;
        return forward(input, options);
      };
      const result = await evaluateSet(model, test, loss);
      expect(calls).toBe(Math.ceil(300 / 256));
      expect(result.loss).toBe(expectedLoss);
      expect(Array.from(result.outputs)).toEqual(Array.from(expectedOutputs));
      model.dispose();
    });
  }
});

describe('predict checks the PNG header before decoding', () => {
  let modelDir = '';
  beforeAll(async () => {
    const out = join(tempDir(), 'run');
    const r = await cli('train', ...TINY, '--out', out);
    expect(r.code).toBe(0);
    modelDir = join(out, 'model');
  });

  it('a PNG whose header says width 0 is refused, naming the file', async () => {
    const file = join(tempDir(), 'empty.png');
    writeFileSync(file, greyPng(0, 28));
    const r = await cli('predict', '--model-dir', modelDir, file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(`${file}: the PNG header gives a 0×28 image; width and height must be at least 1`);
  });

  it(`a PNG over the ${MAX_IMAGE_PIXELS.toLocaleString('en-US')}-pixel limit is refused before decoding, naming the file`, async () => {
    const file = join(tempDir(), 'huge.png');
    writeFileSync(file, greyPng(6000, 5000)); // a ~30 KB file for 30 megapixels
    const started = Date.now();
    const r = await cli('predict', '--model-dir', modelDir, file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(`${file}: the image is 6000×5000 = 30,000,000 pixels, more than the limit of 25,000,000`);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
