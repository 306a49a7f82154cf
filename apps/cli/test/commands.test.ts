import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.js';

const expectOneLine = (text: string): void => {
  expect(text.trim().split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at /); // no stack trace
};

describe('help, info and summary', () => {
  it('documents every command and the defaults', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    for (const cmd of ['train', 'evaluate', 'predict', 'summary', 'gradcheck', 'info']) expect(top.stdout).toContain(cmd);
    const train = await cli('train', '--help');
    expect(train.code).toBe(0);
    expect(train.stdout).toMatch(/--epochs <n>[\s\S]*\(default: 3\)/);
    expect(train.stdout).toMatch(/--batch-size <n>[\s\S]*\(default: 32\)/);
    expect(train.stdout).toContain('--resume');
    const predict = await cli('predict', '--help');
    expect(predict.stdout).toMatch(/sigmoid/);
  });

  it('info lists versions and the registered components', async () => {
    const r = await cli('info', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.versions['@backprop/cli']).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.backends).toContain('cpu');
    expect(info.layers).toContain('Conv2D');
    expect(info.losses).toContain('binaryCrossentropy');
    expect(info.optimizers).toEqual(expect.arrayContaining(['sgd', 'momentum', 'adam', 'rmsprop']));
  });

  it('summary prints the model table', async () => {
    const r = await cli('summary', '--model', 'paper');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Conv2D');
    expect(r.stdout).toContain('Total params');
  });

  it('summary reads a JSON topology', async () => {
    const dir = tempDir();
    const file = join(dir, 'tiny.json');
    writeFileSync(
      file,
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
    const r = await cli('summary', '--model', file);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Total params: 7,850');
  });

  it('gradcheck passes on the paper network', async () => {
    const r = await cli('gradcheck', '--model', 'paper', '--samples', '2', '--checks', '8');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS/m);
    expect(r.stdout).toContain('conv2d_0/kernel');
  });

  it('gradcheck passes on lenet-bn (BatchNormalization, dropout and augmentation held fixed)', async () => {
    const r = await cli('gradcheck', '--model', 'lenet-bn', '--samples', '2', '--checks', '6', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const g = JSON.parse(r.stdout);
    expect(g.pass).toBe(true);
    expect(Object.keys(g.params)).toContain('batch_normalization_3/gamma');
    expect(g.params['batch_normalization_13/beta'].maxRelativeError).toBeLessThan(1e-6);
  });

  it('gradcheck exits 1 with FAIL when a gradient disagrees (zero biases sit on the ReLU kink)', async () => {
    const r = await cli('gradcheck', '--model', 'paper', '--samples', '2', '--checks', '8', '--bias-jitter', '0', '--json');
    expect(r.code).toBe(1);
    const g = JSON.parse(r.stdout);
    expect(g.pass).toBe(false);
    expect(g.params['conv2d_0/bias'].maxRelativeError).toBeGreaterThan(1e-6);
    expect(g.params['conv2d_0/kernel'].maxRelativeError).toBeLessThan(1e-6);
  });
});

describe('bad usage exits 2 with one line naming the valid choices', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--model', 'foo'], /paper, lenet, lenet-bn/],
    [['train', '--epochs', '0'], /positive integer/],
    [['train', '--backend', 'tpu'], /cpu, wasm, gpujs/],
    [['train', '--gpujs-mode', 'tpu'], /auto, webgl2, webgl, webgpu, headlessgl, webasm, cpu/],
    [['train', '--optimizer', 'nope'], /adam, momentum, rmsprop, sgd/],
    [['train', '--loss', 'nope'], /categoricalCrossentropy/],
    [['train', '--validation-split', '1.5'], /between 0 and 1/],
    [['train', '--frobnicate'], /unknown option '--frobnicate'/],
    [['evaluate'], /--model-dir/],
    [['nope'], /unknown command 'nope'/],
  ];
  for (const [args, message] of cases) {
    it(`backprop ${args.join(' ')}`, async () => {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expectOneLine(r.stderr);
      expect(r.stderr).toMatch(message);
    });
  }
});

describe('bad files exit 1 with one line naming the file', () => {
  it('a missing model directory', async () => {
    const missing = join(tempDir(), 'no-such-model');
    const r = await cli('evaluate', '--model-dir', missing);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(join(missing, 'model.json'));
  });

  it('a corrupt model directory', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.json'), '{ not json');
    const r = await cli('predict', '--model-dir', dir, 'x.png');
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/model\.json.*not valid JSON/);
  });

  it('an IDX file with a wrong magic number, before anything is written', async () => {
    const data = tempDir();
    for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(data, name), Buffer.from([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0]));
    }
    const out = join(tempDir(), 'run');
    const r = await cli('train', '--data', data, '--out', out, '--epochs', '1');
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(join(data, 'train-images-idx3-ubyte'));
    expect(r.stderr).toMatch(/wrong magic number/);
    expect(existsSync(out)).toBe(false);
  });

  it('an IDX file whose length does not match its header', async () => {
    const data = tempDir();
    const header = (dims: number[]): Buffer => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b[2] = 0x08;
      b[3] = dims.length;
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    writeFileSync(join(data, 'train-images-idx3-ubyte'), Buffer.concat([header([2, 28, 28]), Buffer.alloc(28 * 28)])); // one image short
    writeFileSync(join(data, 'train-labels-idx1-ubyte'), Buffer.concat([header([2]), Buffer.alloc(2)]));
    const t = await cli('train', '--data', data, '--out', join(tempDir(), 'run'));
    expect(t.code).toBe(1);
    expectOneLine(t.stderr);
    expect(t.stderr).toContain('train-images-idx3-ubyte');
    expect(t.stderr).toMatch(/does not match its header/);
  });

  it('gpujs: a mode that cannot start here is one line naming it and the modes that work (exit 1)', async () => {
    // No browser in Node: webgl2 cannot start, and nothing falls back silently.
    const out = join(tempDir(), 'never');
    const g = await cli('train', '--limit', '32', '--test-limit', '16', '--out', out, '--backend', 'gpujs', '--gpujs-mode', 'webgl2');
    expect(g.code).toBe(1);
    expectOneLine(g.stderr);
    expect(g.stderr).toMatch(/webgl2/);
    expect(g.stderr).toMatch(/cpu/);
    expect(existsSync(out)).toBe(false);
  });
});
