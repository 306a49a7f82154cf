import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cpuBackend } from '@backprop/backend-cpu';
import { decodeImage, writeImageSample } from '@backprop/datasets';
import { layersPlugin, loadModel, type Sequential } from '@backprop/layers';
import { fromOnnx } from '@backprop/onnx';
import { optimizersPlugin } from '@backprop/optimizers';
import { Registry } from '@backprop/tensor';
import { encode } from 'fast-png';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docsRoot } from './build';
import { download, openSite, type Site } from './browser';

/**
 * The "Train on your own images" page, driven as a reader would: two classes of
 * generated PNGs through the class boxes' file inputs (and one by drag and drop, one
 * drawn), training, predictions on new images, and both downloads loaded back in Node.
 */

const SIZE = 32;

/** A seeded 32×32 grey PNG of two or three bars, horizontal or vertical, at random rows (columns) and widths. */
function barsPng(direction: 'horizontal' | 'vertical', seed: number): Uint8Array {
  let state = seed >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const pixels = new Uint8Array(SIZE * SIZE).fill(20);
  const count = 2 + Math.floor(random() * 2);
  for (let b = 0; b < count; b++) {
    const at = 3 + Math.floor(random() * (SIZE - 9));
    const width = 2 + Math.floor(random() * 2);
    for (let k = 0; k < width; k++) {
      for (let i = 0; i < SIZE; i++) {
        const [row, col] = direction === 'horizontal' ? [at + k, i] : [i, at + k];
        pixels[row * SIZE + col] = 230;
      }
    }
  }
  return encode({ width: SIZE, height: SIZE, data: pixels, channels: 1, depth: 8 });
}

const CLASSES = ['horizontal', 'vertical'] as const;
const file = (name: string, bytes: Uint8Array) => ({ name, mimeType: 'image/png', buffer: Buffer.from(bytes) });
const training = (c: (typeof CLASSES)[number], from: number, n: number) =>
  Array.from({ length: n }, (_, i) => file(`${c}-${from + i}.png`, barsPng(c, (c === 'horizontal' ? 1000 : 2000) + from + i)));
/** New images (seeds the training set does not use), alternating classes. */
const tests = Array.from({ length: 8 }, (_, i) => {
  const c = CLASSES[i % 2];
  return { expected: c, ...file(`test-${c}-${i}.png`, barsPng(c, 9000 + i)) };
});

let site: Site;
let work: string;

beforeAll(async () => {
  site = await openSite();
  work = mkdtempSync(join(tmpdir(), 'backprop-own-images-'));
});

afterAll(async () => {
  await site?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const box = (page: Page, i: number) => page.locator('[data-testid="class-box"]').nth(i);

/** The page's predictions: per test image, its name, the class shown and the probabilities. */
async function results(page: Page): Promise<{ name: string; className: string; values: number[] }[]> {
  return page.locator('[data-testid="test-result"]').evaluateAll((els) =>
    els.map((e) => ({ name: e.getAttribute('data-name')!, className: e.getAttribute('data-class')!, values: JSON.parse(e.getAttribute('data-values')!) as number[] })),
  );
}

/** A test image as the page turns it into an input: decoded, then written at the model's size and channels. */
function input(bytes: Uint8Array, name: string, channels: 1 | 3, height: number, width: number): Float32Array {
  const out = new Float32Array(channels * height * width);
  writeImageSample(decodeImage(bytes, name), { channels, height, width, interpolation: 'bilinear' }, out, 0);
  return out;
}

async function predictInNode(model: Sequential): Promise<number[][]> {
  const [c, h, w] = model.inputShape as [1 | 3, number, number];
  const values = new Float32Array(tests.length * c * h * w);
  tests.forEach((t, i) => values.set(input(new Uint8Array(t.buffer), t.name, c, h, w), i * c * h * w));
  const out = await model.predictAsync({ values, shape: [tests.length, c, h, w] });
  const flat = Array.from(await out.data());
  out.dispose();
  return tests.map((_, i) => flat.slice(i * CLASSES.length, (i + 1) * CLASSES.length));
}

const argmax = (p: number[]): number => p.indexOf(Math.max(...p));

/** The CLI's built binary (the docs depend on @backprop/cli, so the root build makes it first). */
const CLI = join(docsRoot, 'node_modules/@backprop/cli/dist/bin.js');

describe('Train on your own images (chromium)', () => {
  it('trains on files picked, dropped and drawn, classifies new images, and its downloads load in Node with the class names', async () => {
    const { page, problems } = await site.open('/train-images.html');
    await page.waitForSelector('[data-testid="own-images"][data-ready="true"]', { timeout: 60_000 });
    // Training cannot start without images; the page says why.
    expect(await page.locator('[data-testid="train-start"]').isDisabled()).toBe(true);

    // Class names: the data set sorts them, so the boxes are filled in the other order to check labels follow names.
    await box(page, 0).locator('[data-testid="class-name"]').fill('vertical');
    await box(page, 1).locator('[data-testid="class-name"]').fill('horizontal');
    await box(page, 0).locator('[data-testid="class-files"]').setInputFiles(training('vertical', 0, 12));
    await box(page, 1).locator('[data-testid="class-files"]').setInputFiles(training('horizontal', 0, 11));
    await expect.poll(() => box(page, 0).getAttribute('data-count')).toBe('12');
    await expect.poll(() => box(page, 1).getAttribute('data-count')).toBe('11');

    // Drag and drop: two more vertical images dropped onto the first box.
    const dropped = training('vertical', 12, 2).map((f) => ({ name: f.name, base64: f.buffer.toString('base64') }));
    const transfer = await page.evaluateHandle((files) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.base64), (ch) => ch.charCodeAt(0))], f.name, { type: 'image/png' }));
      return dt;
    }, dropped);
    await box(page, 0).dispatchEvent('drop', { dataTransfer: transfer });
    await expect.poll(() => box(page, 0).getAttribute('data-count')).toBe('14');

    // A drawn horizontal stroke, added to 'horizontal' as a 280×280 RGBA PNG (resized and made grey like the files).
    const canvas = page.locator('[data-testid="draw-canvas"]');
    await canvas.scrollIntoViewIfNeeded();
    const b = (await canvas.boundingBox())!;
    await page.mouse.move(b.x + 0.1 * b.width, b.y + 0.5 * b.height);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(b.x + (0.1 + 0.08 * i) * b.width, b.y + 0.5 * b.height);
    await page.mouse.up();
    await box(page, 1).locator('[data-testid="add-drawing"]').click();
    // Under load the canvas → PNG → decode round trip can take longer than poll's default 5 s.
    await expect.poll(() => box(page, 1).getAttribute('data-count'), { timeout: 30_000 }).toBe('12');

    // Two classes with the same name are refused before training.
    await box(page, 1).locator('[data-testid="class-name"]').fill('vertical');
    expect(await page.locator('[data-testid="train-start"]').isDisabled()).toBe(true);
    await box(page, 1).locator('[data-testid="class-name"]').fill('horizontal');

    await page.locator('[data-testid="image-size"]').fill('24');
    await page.locator('[data-testid="epochs"]').fill('15');
    await page.locator('[data-testid="train-start"]').click();
    const status = page.locator('[data-testid="train-status"]');
    await expect.poll(() => status.innerText(), { timeout: 180_000 }).toMatch(/trained on 26 images of 2 classes/);
    expect(await page.locator('[data-testid="train-error"]').count()).toBe(0);
    const epochLosses = JSON.parse((await status.getAttribute('data-epoch-losses'))!) as number[];
    expect(epochLosses.length).toBe(15);
    expect(epochLosses.every(Number.isFinite)).toBe(true);
    expect(epochLosses.at(-1)!, `loss ${epochLosses[0]} → ${epochLosses.at(-1)}`).toBeLessThan(epochLosses[0] * 0.5);
    expect(JSON.parse((await status.getAttribute('data-losses'))!).length).toBe(15 * 2); // 26 images in batches of 16

    // New images: each is classified as its class.
    await page.locator('[data-testid="test-files"]').setInputFiles(tests.map(({ expected: _, ...f }) => f));
    await expect.poll(async () => (await results(page)).filter((r) => r.className !== '').length, { timeout: 60_000 }).toBe(tests.length);
    const shown = await results(page);
    expect(shown.map((r) => r.name)).toEqual(tests.map((t) => t.name));
    expect(shown.map((r) => r.className)).toEqual(tests.map((t) => t.expected));
    for (const r of shown) {
      expect(r.values.length).toBe(2);
      expect(Math.abs(r.values[0] + r.values[1] - 1)).toBeLessThan(1e-5);
    }

    // Backprop's model files, zipped: unzipped, the folder loads with loadModel, names its classes and predicts as the page did.
    const zip = await download(page, 'download-model');
    expect(zip.name).toBe('backprop-model.zip');
    const entries = unzipSync(zip.bytes);
    // The folder's own entry, then its two files.
    expect(Object.keys(entries)[0]).toBe('backprop-model/');
    const names = Object.keys(entries).filter((n) => !n.endsWith('/')).sort();
    expect(names).toHaveLength(2);
    expect(names[0]).toBe('backprop-model/model.json');
    expect(names[1]).toMatch(/^backprop-model\/weights-[0-9a-f]{8}\.bin$/);
    const dir = join(work, 'backprop-model');
    mkdirSync(dir);
    for (const name of names) writeFileSync(join(work, name), entries[name]);
    // The optimizer plugin too: the files carry Adam's state, to train on from where the page stopped.
    const registry = new Registry().use(cpuBackend, layersPlugin, optimizersPlugin);
    const { model, manifest } = await loadModel(dir, { registry });
    expect(manifest.classNames).toEqual(['horizontal', 'vertical']);
    expect(model.inputShape).toEqual([1, 24, 24]);
    expect(manifest.metadata?.image).toEqual({ height: 24, width: 24, channels: 1, interpolation: 'bilinear' });
    const fromZip = await predictInNode(model);
    fromZip.forEach((p, i) => {
      expect(manifest.classNames![argmax(p)], tests[i].name).toBe(tests[i].expected);
      p.forEach((v, k) => expect(Math.abs(v - shown[i].values[k]), `${tests[i].name} class ${k}`).toBeLessThan(1e-5));
    });
    model.dispose();

    // The CLI reads the unzipped folder with --model-dir: the class names are printed, each new image's the right one.
    expect(existsSync(CLI), `${CLI} (pnpm --filter @backprop/cli build)`).toBe(true);
    const files = tests.map((t) => {
      const path = join(work, t.name);
      writeFileSync(path, t.buffer);
      return path;
    });
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'predict', '--model-dir', dir, ...files, '--backend', 'cpu', '--json'], { env: { ...process.env, FORCE_COLOR: '0' } });
    const predicted = JSON.parse(stdout) as { results: { file: string; className: string; top: { className: string; probability: number }[] }[] };
    expect(predicted.results.map((r) => r.className)).toEqual(tests.map((t) => t.expected));
    predicted.results.forEach((r, i) => {
      for (const { className, probability } of r.top) expect(Math.abs(probability - shown[i].values[CLASSES.indexOf(className as (typeof CLASSES)[number])])).toBeLessThan(1e-5);
    });

    // ONNX: fromOnnx gives the class names back and the same predictions.
    const onnx = await download(page, 'download-onnx');
    expect(onnx.name).toBe('backprop-model.onnx');
    const imported = fromOnnx(onnx.bytes, { registry });
    expect(imported.classNames).toEqual(['horizontal', 'vertical']);
    const fromOnnxFile = await predictInNode(imported.model);
    fromOnnxFile.forEach((p, i) => {
      expect(imported.classNames![argmax(p)], tests[i].name).toBe(tests[i].expected);
      p.forEach((v, k) => expect(Math.abs(v - shown[i].values[k])).toBeLessThan(1e-4));
    });
    imported.model.dispose();

    // The site's backend list is offered here too: the WebAssembly backend (SIMD in Chromium) trains the same network
    // from fresh weights and classifies the new images right, and the test images are classified again with the new model.
    const options = await page.locator('[data-testid="backend-select"] option').evaluateAll((els) =>
      els.map((e) => ({ id: (e as HTMLOptionElement).value, disabled: (e as HTMLOptionElement).disabled })),
    );
    expect(options[0]).toEqual({ id: 'cpu', disabled: false });
    expect(options.find((o) => o.id === 'wasm'), 'the wasm backend is offered and available').toEqual({ id: 'wasm', disabled: false });
    await page.locator('[data-testid="backend-select"]').selectOption('wasm');
    await page.locator('[data-testid="train-start"]').click();
    await expect.poll(() => status.innerText(), { timeout: 180_000 }).toMatch(/trained on 26 images of 2 classes in [0-9.]+ s on 'wasm'/);
    const wasmLosses = JSON.parse((await status.getAttribute('data-epoch-losses'))!) as number[];
    expect(wasmLosses.at(-1)!).toBeLessThan(wasmLosses[0] * 0.5);
    // The status says 'trained' once the new model has classified them again.
    expect(await page.locator('[data-testid="test-result"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-backend')))).toEqual(tests.map(() => 'wasm'));
    expect((await results(page)).map((r) => r.className)).toEqual(tests.map((t) => t.expected));

    await page.screenshot({ path: join(docsRoot, 'test-artifacts', 'train-images.png'), fullPage: true });
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it("a file that is not an image stops training with the data set's error naming it, and a file of another type is not taken", async () => {
    const { page, problems } = await site.open('/train-images.html');
    await page.waitForSelector('[data-testid="own-images"][data-ready="true"]', { timeout: 60_000 });
    await box(page, 0).locator('[data-testid="class-name"]').fill('horizontal');
    await box(page, 1).locator('[data-testid="class-name"]').fill('vertical');
    await box(page, 0).locator('[data-testid="class-files"]').setInputFiles([...training('horizontal', 0, 2), file('broken.png', new TextEncoder().encode('not an image'))]);
    await box(page, 1).locator('[data-testid="class-files"]').setInputFiles([...training('vertical', 0, 2), { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') }]);
    await expect.poll(() => box(page, 0).getAttribute('data-count')).toBe('3');
    await expect.poll(() => box(page, 1).getAttribute('data-count')).toBe('2');
    await expect.poll(() => page.locator('[data-testid="train-error"]').innerText()).toBe('notes.txt: only .png and .jpg images are read');
    await page.locator('[data-testid="train-start"]').click();
    await expect.poll(() => page.locator('[data-testid="train-status"]').innerText()).toMatch(/^training failed/);
    // 'not an image' is 6e 6f 74 20 61 6e 20 69.
    expect(await page.locator('[data-testid="train-error"]').innerText()).toBe('horizontal/broken.png: not a PNG or JPEG image (it starts with bytes 6e 6f 74 20 61 6e 20 69)');
    expect(await page.locator('[data-testid="download-model"]').isDisabled()).toBe(true);
    expect(problems.errors).toEqual([]);
    await page.close();
  });
});
