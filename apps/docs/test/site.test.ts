import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpuBackend } from '@backprop/backend-cpu';
import { layersPlugin, paperNetwork } from '@backprop/layers';
import { fromOnnx } from '@backprop/onnx';
import { Registry } from '@backprop/tensor';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, recordPageErrors } from '../../../scripts/chromium.js';
import { download, openSite, type Problems, type Site } from './browser';
import { distDir, docsRoot } from './build';

const ARTIFACTS = join(docsRoot, 'test-artifacts');

let site: Site;
const timings: Record<string, number> = {};

const open = (path: string): Promise<{ page: Page; problems: Problems }> => site.open(path);

const num = (text: string): number => Number(text.trim().replace(/−/g, '-'));

async function grid(page: Page, testid: string): Promise<number[]> {
  const cells = await page.locator(`[data-testid="${testid}"] td`).allTextContents();
  expect(cells.length, `grid ${testid} has cells`).toBeGreaterThan(0);
  return cells.map(num);
}

function expectNumbers(actual: number[], expected: number[], what: string, tol = 1.5e-6): void {
  expect(actual.length, `${what}: count`).toBe(expected.length);
  actual.forEach((v, i) => {
    expect(Math.abs(v - expected[i]), `${what}[${i}] = ${v}, the worked example says ${expected[i]}`).toBeLessThanOrEqual(tol);
  });
}

const tuple = (text: string): number[] => text.replace(/[()]/g, '').split(',').map(num);

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  const started = Date.now();
  // No GPU here: --enable-unsafe-webgpu gives WebGPU SwiftShader's adapter, so the train page trains on webgpu too.
  site = await openSite(['--enable-unsafe-webgpu']);
  timings.buildSeconds = site.build.seconds;
  mkdirSync(ARTIFACTS, { recursive: true });
  timings.setupSeconds = (Date.now() - started) / 1000;
});

afterAll(async () => {
  await site?.close();
  writeFileSync(join(ARTIFACTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
});

describe('docs site in chromium', () => {
  it('loads every page with no console errors and no failed requests', async () => {
    const pages: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.html') && entry.name !== '404.html') pages.push(`/${relative(distDir, path)}`);
      }
    };
    walk(distDir);
    expect(pages.length).toBeGreaterThan(20);
    const failures: string[] = [];
    const started = Date.now();
    const queue = [...pages].sort();
    const check = async (path: string): Promise<void> => {
      const { page, problems } = await open(path);
      // The page rendered its content (VitePress's doc or home layout), not a 404.
      const title = await page.title();
      if (/404/.test(title)) problems.errors.push('rendered the 404 page');
      if (path === '/train.html') await page.waitForSelector('[data-testid="train-demo"][data-ready="true"]', { timeout: 60_000 });
      failures.push(...problems.errors.map((e) => `${path}: ${e}`));
      await page.close();
    };
    // A few tabs at once: most of a page's time is waiting for the network to go idle.
    const tabs = Array.from({ length: 3 }, async () => {
      for (let path = queue.shift(); path !== undefined; path = queue.shift()) await check(path);
    });
    await Promise.all(tabs);
    timings.allPagesSeconds = (Date.now() - started) / 1000;
    timings.pages = pages.length;
    expect(failures).toEqual([]);
  });

  it('convolution page computes W2 and W3, and reacts to edits', async () => {
    const { page, problems } = await open('/math/convolution.html');
    expectNumbers(await grid(page, 'w2-y'), [45, 55, 65, 85, 95, 105, 125, 135, 145], 'W2 Y', 0);
    expectNumbers(await grid(page, 'w2-db'), [3], 'W2 ∂b', 0);
    expectNumbers(await grid(page, 'w2-dk'), [19, 22, 31, 34], 'W2 ∂K', 0);
    expectNumbers(await grid(page, 'w2-dx'), [1, 2, -1, -2, 3, 6, 1, -4, 1, 8, 8, 0, 3, 4, 0, 0], 'W2 ∂X', 0);
    expectNumbers(await grid(page, 'w2-flip'), [27, 37, 47, 67, 77, 87, 107, 117, 127], 'W2 flipped-kernel bug', 0);
    expectNumbers(await grid(page, 'w3-y'), [5, 19, 13, 47, 95, 45, 27, 45, 17], 'W3 Y', 0);
    expectNumbers(await grid(page, 'w3-db'), [3], 'W3 ∂b', 0);
    expectNumbers(await grid(page, 'w3-dk'), [4, 27, 30, 20], 'W3 ∂K', 0);
    expectNumbers(await grid(page, 'w3-dx'), [4, -3, -4, 0, 0, 2, 4, 1, 0, 6, 8, 3, 2, 0, 0, -1], 'W3 ∂X', 0);
    // Editing K00 from 1 to 2 adds X's top-left 3×3 block to Y.
    await page.locator('[data-testid="w2-k"] input').first().fill('2');
    await expect.poll(async () => (await grid(page, 'w2-y'))[0]).toBe(46);
    expectNumbers(await grid(page, 'w2-y'), [46, 57, 68, 90, 101, 112, 134, 145, 156], 'W2 Y with K00 = 2', 0);
    await shot(page, 'math-convolution');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('activations page computes W5', async () => {
    const { page, problems } = await open('/math/activations.html');
    const row = async (name: string): Promise<number[]> =>
      (await page.locator(`[data-testid="act-table"] tr[data-row="${name}"] td`).allTextContents()).slice(1).map(num);
    // x = (0, 0.5, 2, −1)
    expectNumbers((await row('sigmoid σ(x)')).slice(2, 3), [0.880797], 'σ(2)');
    const dsig = await row("σ'(x) = σ(1−σ)");
    expectNumbers([dsig[0], dsig[2]], [0.25, 0.104994], "σ'(0), σ'(2)");
    expectNumbers((await row("tanh'(x) = 1−tanh²")).slice(1, 2), [0.786448], "tanh'(0.5)");
    expectNumbers((await row("ReLU'(x)")).slice(0, 1), [0], "ReLU'(0)", 0);
    expectNumbers((await row("leaky'(x)")).slice(0, 1), [0.01], "leaky'(0)");
    expectNumbers(await grid(page, 'softmax-vjp'), [0.081925, -0.022033, -0.059892], 'softmax VJP');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('pooling page computes W4 with the gradient routing', async () => {
    const { page, problems } = await open('/math/pooling.html');
    expectNumbers(await grid(page, 'pool-max-y'), [4, 2, 8, 3], 'max Y', 0);
    expectNumbers(await grid(page, 'pool-max-dx'), [0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0], 'max ∂X (tie to (3,2))', 0);
    expect(await page.locator('[data-testid="pool-max-dx"] td.bp-route').count()).toBe(4);
    expectNumbers(await grid(page, 'pool-avg-y'), [2.5, 1, 6.5, 2.25], 'avg Y');
    expectNumbers(await grid(page, 'pool-avg-dx'), [0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 0.75, 0.75, 1, 1], 'avg ∂X');
    expectNumbers(await grid(page, 'pool-l2-y'), [5.477226, 2.44949, 13.190906, 4.795832], 'L2 Y');
    const dl2 = await grid(page, 'pool-l2-dx');
    expectNumbers([dl2[2], dl2[3], dl2[6], dl2[7]], [1.632993, 0.816497, 0, 0.816497], 'L2 ∂X window (0,1)');
    await shot(page, 'math-pooling');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('dense page computes W10', async () => {
    const { page, problems } = await open('/math/dense.html');
    expectNumbers(await grid(page, 'dense-z'), [0.1, 1.8, 0.35, -0.7], 'Z');
    expectNumbers(await grid(page, 'dense-dw'), [1, 1.5, -1, -4], '∂W');
    expectNumbers(await grid(page, 'dense-db'), [1.5, 1], '∂b');
    expectNumbers(await grid(page, 'dense-dx'), [-0.5, -0.75, 2.25, 0.875], '∂X');
    expectNumbers(await grid(page, 'dense-z-folded'), [0.1, 1.8, 0.35, -0.7], 'Z with the bias folded in');
    expectNumbers(await grid(page, 'dense-dw-folded'), [1, 1.5, 1.5, -1, -4, 1], '∂[W | b]');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('losses page computes W6, W7 and W8', async () => {
    const { page, problems } = await open('/math/losses.html');
    const loss = async (id: string, name: string): Promise<{ value: number; grad: number[] }> => {
      const row = page.locator(`[data-testid="${id}-table"] tr[data-loss="${name}"]`);
      return { value: num(await row.locator('.bp-value').innerText()), grad: tuple(await row.locator('.bp-gradient').innerText()) };
    };
    const check = async (id: string, name: string, value: number, grad: number[]): Promise<void> => {
      const r = await loss(id, name);
      expectNumbers([r.value], [value], `${name} value`);
      expectNumbers(r.grad, grad, `${name} gradient`);
    };
    await check('w8', 'mse', 0.5, [1 / 3, -2 / 3, 1 / 3]);
    await check('w8', 'l2', 1.5, [1, -2, 1]);
    await check('w8', 'l1', 2, [1, -1, 1]);
    await check('w8', 'mae', 2 / 3, [1 / 3, -1 / 3, 1 / 3]);
    await check('w8', 'halfSumSquares', 0.75, [0.5, -1, 0.5]);
    await check('mape', 'mape', 41.666667, [33.333333, -16.666667, 8.333333]);
    await check('msle', 'msle', 0.320302, [0.231049, 0, -0.231049]);
    await check('w6', 'softmaxCrossEntropyFromLogits', 0.753109, [0.045015, 0.122364, -0.16738, -1 / 3, 1 / 6, 1 / 6]);
    await check('w7', 'sigmoidCrossEntropyFromLogits', 1.410038, [-0.25, 0.440399]);
    // W6 single row: label 2 → loss 0.407606.
    await page.locator('[data-testid="w6-yhat"]').fill('1, 2, 3');
    await page.locator('[data-testid="w6-y"]').fill('0, 0, 1');
    await expect.poll(async () => (await loss('w6', 'softmaxCrossEntropyFromLogits')).value).toBeCloseTo(0.407606, 6);
    await check('w6', 'softmaxCrossEntropyFromLogits', 0.407606, [0.090031, 0.244728, -0.334759]);
    // Stability: adding 1000 to the logits changes nothing.
    await page.locator('[data-testid="w6-yhat"]').fill('1001, 1002, 1003');
    await page.waitForTimeout(100);
    await check('w6', 'softmaxCrossEntropyFromLogits', 0.407606, [0.090031, 0.244728, -0.334759]);
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('backpropagation page runs a passing gradient check', async () => {
    const { page, problems } = await open('/math/backprop.html');
    await page.locator('[data-testid="gradcheck-run"]').click();
    const verdict = page.locator('[data-testid="gradcheck-verdict"]');
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.innerText()).toMatch(/^passed/);
    const errors = (await page.locator('[data-testid="gradcheck-table"] .bp-gc-error').allTextContents()).map(Number);
    expect(errors.length).toBe(6); // conv kernel + bias, two dense kernels + biases
    for (const e of errors) expect(e).toBeLessThanOrEqual(1e-6);
    timings.gradCheckMaxError = Math.max(...errors);
    await shot(page, 'math-backprop');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('gradient-descent page computes W9', async () => {
    const { page, problems } = await open('/math/gradient-descent.html');
    const cell = (table: string, step: number, cls: string) =>
      page.locator(`[data-testid="${table}"] tr[data-step="${step}"] .${cls}`).innerText();
    expectNumbers([num(await cell('descent-table', 0, 'bp-h')), num(await cell('descent-table', 0, 'bp-d'))], [0.1, 0.405], 'h, D');
    expectNumbers(tuple(await cell('descent-table', 0, 'bp-grad')), [-0.9, -1.8, -0.9], '∂D/∂w');
    expectNumbers(tuple(await cell('descent-table', 1, 'bp-w')), [0.59, -0.07, 0.19], 'w after one step');
    expectNumbers([num(await cell('descent-table', 1, 'bp-h')), num(await cell('descent-table', 1, 'bp-d'))], [0.64, 0.0648], 'h, D after one step');
    expectNumbers(tuple(await cell('ascent-table', 1, 'bp-w')), [0.41, -0.43, 0.01], "w with the notes' sign");
    expectNumbers([num(await cell('ascent-table', 1, 'bp-d'))], [0.5], "D with the notes' sign");
    const bce = page.locator('[data-testid="descent-bce"]');
    expectNumbers([num(await bce.locator('.bp-yhat').innerText()), num(await bce.locator('.bp-loss').innerText())], [0.524979, 0.644397], 'ŷ, BCE');
    expectNumbers(tuple(await bce.locator('.bp-grad').innerText()), [-0.475021, -0.950042, -0.475021], '∂L/∂w̃');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('dropout page draws the mask of seed 2, its gradient, and the identity at inference', async () => {
    const { page, problems } = await open('/math/dropout.html');
    expectNumbers(await grid(page, 'dropout-mask'), [0, 0, 2, 2, 2, 0, 0, 2], 'mask m', 0);
    expectNumbers(await grid(page, 'dropout-y'), [0, 0, 6, 8, 10, 0, 0, 16], 'Y = X ⊙ m', 0);
    expectNumbers(await grid(page, 'dropout-dx'), [0, 0, 2, 2, 2, 0, 0, 2], '∂X = G ⊙ m', 0);
    expectNumbers(await grid(page, 'dropout-inference'), [1, 2, 3, 4, 5, 6, 7, 8], 'inference', 0);
    // Another rate: every kept value is X/(1 − r).
    await page.locator('[data-testid="dropout-rate"]').fill('0.75');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="dropout-mask"] td')].some((td) => td.textContent?.trim() === '4'));
    for (const v of await grid(page, 'dropout-mask')) expect([0, 4]).toContain(v);
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('batch normalization page computes the worked example: y, all gradients, moving averages, inference', async () => {
    const { page, problems } = await open('/math/batch-normalization.html');
    expectNumbers(await grid(page, 'bn-y'), [-1, -1, 0, 0.5, 1, 1, 4, 1.5], 'y');
    expectNumbers(await grid(page, 'bn-dx'), [0.5, -0.03125, -0.375, 0.25, -0.25, -0.15625, 0.125, -0.0625], '∂x');
    expectNumbers(await grid(page, 'bn-dgamma'), [-1, -1.5], '∂γ');
    expectNumbers(await grid(page, 'bn-dbeta'), [1, 2], '∂β');
    expectNumbers(await grid(page, 'bn-moving-mean'), [0.3, 0.3], 'μ_mov');
    expectNumbers(await grid(page, 'bn-moving-variance'), [1.25, 1.25], 'σ²_mov');
    const s = 1 / Math.sqrt(1.75);
    const x = [1, 6, 2, 3, 3, 2, 6, 1];
    expectNumbers(await grid(page, 'bn-inference'), x.map((v, i) => (i % 2 === 0 ? 2 * (v - 0.3) * s + 1 : -(v - 0.3) * s + 0.5)), 'inference');
    await shot(page, 'math-batch-normalization');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('augmentation page resamples with the edited map and turns the digit', async () => {
    const { page, problems } = await open('/math/augmentation.html');
    // The quarter turn about the centre: u = i, v = 1 − j.
    expectNumbers(await grid(page, 'aug-y'), [3, 1, 4, 2], 'quarter turn', 0);
    // 90° with no shift or zoom turns the 8×8 digit exactly (whole pixels).
    await page.locator('[data-testid="aug-degrees"]').fill('90');
    await page.locator('[data-testid="aug-tx"]').fill('0');
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('[data-testid="aug-digit-map"] td')].map((td) => td.textContent?.trim());
      return cells[0] === '0' && cells[2] === '0';
    });
    const digit = await grid(page, 'aug-digit');
    const turned = await grid(page, 'aug-digit-y');
    // Output (i, j) reads row 7 − j, column i.
    expectNumbers(turned, Array.from({ length: 64 }, (_, p) => digit[(7 - (p % 8)) * 8 + Math.floor(p / 8)]), 'digit turned by 90°');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('trains the paper network with every backend, the loss goes down, and a drawn digit gets a prediction', async () => {
    const { page, problems } = await open('/train.html');
    const demo = page.locator('[data-testid="train-demo"]');
    await page.waitForSelector('[data-testid="train-demo"][data-ready="true"]', { timeout: 60_000 });
    const status = page.locator('[data-testid="train-status"]');
    const all = await page.locator('[data-testid="backend-select"] option').evaluateAll((els) =>
      els.map((e) => ({ id: (e as HTMLOptionElement).value, disabled: (e as HTMLOptionElement).disabled, why: (e as HTMLOptionElement).title })),
    );
    expect(all[0].id).toBe('cpu');
    const options = all.filter((o) => !o.disabled).map((o) => o.id);
    // Chromium has WebAssembly SIMD: the page starts on the wasm backend, which trains like the others below.
    expect(options, 'the wasm backend runs in Chromium').toContain('wasm');
    expect(await page.locator('[data-testid="backend-select"]').inputValue(), 'the page starts on wasm').toBe('wasm');
    await expect.poll(() => status.innerText()).toMatch(/'wasm' backend/);
    if (all.some((o) => o.id.startsWith('gpujs-'))) {
      // WebGPU has an adapter (SwiftShader, --enable-unsafe-webgpu) and no synchronous readback: it must train.
      expect(options, 'every gpu.js mode of the list runs here, webgpu included').toEqual(all.map((o) => o.id));
    }
    // The CPU backend trains ~1,300 samples/s here; gpu.js runs on SwiftShader (no GPU in CI), so fewer batches.
    const batchesFor = (backend: string): number => Number(process.env.DOCS_TEST_BATCHES ?? (backend === 'cpu' || backend === 'wasm' ? 40 : 12));
    const speeds: Record<string, unknown> = {};
    for (const o of all.filter((o) => o.disabled)) speeds[o.id] = { unavailable: o.why };
    for (const backend of options) {
      await page.locator('[data-testid="backend-select"]').selectOption(backend);
      await expect.poll(() => status.innerText(), { timeout: 60_000 }).toMatch(/ready on|still on/);
      // A mode listed as available must start (webgpu included: every read is asynchronous).
      const startError = await page.locator('[data-testid="train-error"]').count();
      expect(startError ? await page.locator('[data-testid="train-error"]').innerText() : null, `${backend} starts`).toBeNull();
      await page.locator('[data-testid="train-reset"]').click();
      await expect.poll(() => status.getAttribute('data-batches')).toBe('0');
      await page.locator('[data-testid="epochs"]').fill('1');
      const started = Date.now();
      await page.locator('[data-testid="train-start"]').click();
      await expect.poll(async () => Number(await status.getAttribute('data-batches')), { timeout: 180_000, intervals: [100] })
        .toBeGreaterThanOrEqual(batchesFor(backend));
      // The page stays responsive while it trains: a round trip through the event loop is quick.
      const lag = await page.evaluate(() => new Promise<number>((resolve) => {
        const t = performance.now();
        setTimeout(() => resolve(performance.now() - t), 0);
      }));
      // Stop inside the page, in one step: a fast backend (wasm) can finish the epoch between a
      // check from here and the click, and a finished run disables the button.
      await page.evaluate(() => {
        const stop = document.querySelector<HTMLButtonElement>('[data-testid="train-stop"]');
        if (stop && !stop.disabled) stop.click();
      });
      await expect.poll(() => demo.getAttribute('data-training'), { timeout: 120_000 }).toBe('false');
      const seconds = (Date.now() - started) / 1000;
      expect(await page.locator('[data-testid="train-error"]').count()).toBe(0);
      const losses = JSON.parse((await status.getAttribute('data-losses'))!) as number[];
      const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
      const first = mean(losses.slice(0, 5)), last = mean(losses.slice(-5));
      expect(last, `${backend}: loss of the last 5 batches < first 5`).toBeLessThan(first * 0.8);
      const measured = JSON.parse((await status.getAttribute('data-speeds'))!)[backend];
      speeds[backend] = { batches: losses.length, firstLoss: first, lastLoss: last, samplesPerSecond: measured?.samplesPerSecond, wallSeconds: seconds, eventLoopLagMs: lag };
      expect(lag, 'event loop lag while training').toBeLessThan(1000);
    }
    timings.training = speeds as never;
    writeFileSync(join(ARTIFACTS, 'train-speed.json'), `${JSON.stringify(speeds, null, 2)}\n`);

    // Draw a "7": a stroke across the top, then down to the bottom left.
    const canvas = page.locator('[data-testid="draw-canvas"]');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
    await page.mouse.move(...at(0.25, 0.2));
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(...at(0.25 + 0.5 * (i / 10), 0.2));
    for (let i = 1; i <= 12; i++) await page.mouse.move(...at(0.75 - 0.3 * (i / 12), 0.2 + 0.65 * (i / 12)));
    await page.mouse.up();
    await expect.poll(async () => (await page.locator('[data-testid="prediction"]').innerText()).trim()).toMatch(/^[0-9]$/);
    expect(await page.locator('[data-testid="probabilities"] .bp-bar').count()).toBe(10);
    timings.drawnSevenPrediction = Number(await page.locator('[data-testid="prediction"]').innerText());

    // "Download as ONNX" exports the trained model (toOnnxAsync, on the last backend trained) as backprop-model.onnx;
    // it loads in Node with fromOnnx and predicts the drawn digit as the page does.
    const { name, bytes } = await download(page, 'download-onnx');
    expect(name).toBe('backprop-model.onnx');
    expect(bytes.length).toBeGreaterThan(1000);
    const registry = new Registry().use(cpuBackend, layersPlugin);
    const { model: onnxModel, classNames } = fromOnnx(bytes, { registry });
    expect(classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(onnxModel.inputShape).toEqual([1, 28, 28]);
    expect(onnxModel.outputShape).toEqual([10]);
    // The page's model is the paperNetwork preset: conv ReLU → max-pool → flatten → dense ReLU → dense sigmoid.
    const reference = paperNetwork({ registry }).model;
    expect(onnxModel.name).toBe(reference.name);
    expect(onnxModel.layers.map((l) => l.className)).toEqual(reference.layers.map((l) => l.className));
    expect(onnxModel.getWeights().map((w) => w.shape)).toEqual(reference.getWeights().map((w) => w.shape));
    reference.dispose();
    const probs = page.locator('[data-testid="probabilities"]');
    const pagePredicted = JSON.parse((await probs.getAttribute('data-values'))!) as number[];
    const input = JSON.parse((await probs.getAttribute('data-input'))!) as number[];
    expect(input.length).toBe(784);
    const out = onnxModel.predict({ values: Float32Array.from(input), shape: [1, 1, 28, 28] });
    const onnxPredicted = Array.from(out.dataSync());
    out.dispose();
    expectNumbers(onnxPredicted, pagePredicted, 'ONNX model vs the page on the drawn digit', 1e-4);
    timings.onnxBytes = bytes.length;
    await shot(page, 'train');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('without a WebGPU adapter the train page lists webgpu as unavailable, saying why', async () => {
    const plain = await launchChromium(chromium);
    try {
      const page = await plain.context.newPage();
      const errors = recordPageErrors(page);
      await page.goto(`${site.base}/train.html`, { waitUntil: 'networkidle' });
      await page.waitForSelector('[data-testid="train-demo"][data-ready="true"]', { timeout: 60_000 });
      const webgpu = await page.locator('[data-testid="backend-select"] option[value="gpujs-webgpu"]').evaluateAll((els) =>
        els.map((e) => ({ disabled: (e as HTMLOptionElement).disabled, why: (e as HTMLOptionElement).title })),
      );
      if (webgpu.length) {
        expect(webgpu[0].disabled).toBe(true);
        expect(webgpu[0].why).toMatch(/requestAdapter\(\) returned null: no WebGPU adapter/);
        timings.webgpuWithoutAdapter = webgpu[0].why as never;
      }
      expect(errors).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it('without WebAssembly SIMD the train page starts on cpu, and says why wasm is not available', async () => {
    const page = await site.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
    // A browser without SIMD (Safari < 16.4): every module using the SIMD opcode prefix 0xfd fails validation.
    await page.addInitScript(() => {
      const validate = WebAssembly.validate.bind(WebAssembly);
      const bytesOf = (s: BufferSource): Uint8Array => (ArrayBuffer.isView(s) ? new Uint8Array(s.buffer, s.byteOffset, s.byteLength) : new Uint8Array(s));
      WebAssembly.validate = (source: BufferSource) => !bytesOf(source).includes(0xfd) && validate(source);
    });
    await page.goto(`${site.base}/train.html`, { waitUntil: 'networkidle' });
    await page.waitForSelector('[data-testid="train-demo"][data-ready="true"]', { timeout: 60_000 });
    expect(await page.locator('[data-testid="backend-select"]').inputValue()).toBe('cpu');
    const wasm = page.locator('[data-testid="backend-select"] option[value="wasm"]');
    expect(await wasm.evaluate((e) => (e as HTMLOptionElement).disabled)).toBe(true);
    expect(await wasm.getAttribute('title')).toMatch(/does not support WebAssembly 128-bit SIMD/);
    expect(await page.locator('[data-testid="unavailable"]').innerText()).toMatch(/wasm: this engine does not support WebAssembly 128-bit SIMD/);
    expect(await page.locator('[data-testid="train-status"]').innerText()).toMatch(/'cpu' backend/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('saves screenshots of the main pages', async () => {
    for (const [path, name] of [
      ['/', 'home'],
      ['/guide/getting-started.html', 'guide-getting-started'],
      ['/math/', 'math-overview'],
      ['/math/losses.html', 'math-losses'],
      ['/api/', 'api'],
      ['/benchmarks.html', 'benchmarks'],
    ] as const) {
      const { page, problems } = await open(path);
      await shot(page, name);
      expect(problems.errors).toEqual([]);
      await page.close();
    }
  });
});
