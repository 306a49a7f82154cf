/**
 * Runs in Chromium (bundled by test/browser.test.ts): `imageFolderFromBitmaps` on
 * `ImageBitmap`s the browser made from known pixels, read back through its OffscreenCanvas.
 * The page reports what came out (values, labels, errors); the Node side checks them.
 */
import { imageFolderFromBitmaps, type LabelledBitmap } from '../../src/index.js';
import { CLASSES, HEIGHT, pixel, WIDTH } from './pixels.js';

export interface BitmapsResult {
  classNames: string[];
  inputShape: number[];
  x: { shape: number[]; values: number[] };
  labels: number[];
  grey: { shape: number[]; values: number[] };
  resizedShape: number[];
  closed: { name: string; message: string } | null;
  badItem: { name: string; message: string } | null;
}

async function bitmapOf(i: number): Promise<ImageBitmap> {
  const data = new ImageData(WIDTH, HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const o = 4 * (y * WIDTH + x);
      const [r, g, b] = pixel(i, x, y);
      data.data[o] = r;
      data.data[o + 1] = g;
      data.data[o + 2] = b;
      data.data[o + 3] = 255;
    }
  }
  return createImageBitmap(data);
}

async function rejection(promise: Promise<unknown>): Promise<{ name: string; message: string } | null> {
  try {
    await promise;
    return null;
  } catch (e) {
    return { name: (e as Error).name, message: (e as Error).message };
  }
}

async function main(): Promise<BitmapsResult> {
  const items: LabelledBitmap[] = await Promise.all(CLASSES.map(async (className, i) => ({ className, bitmap: await bitmapOf(i), name: `${className}/${i}` })));
  const colour = await imageFolderFromBitmaps(items);
  const { x, y } = await colour.train.load();
  const grey = await (await imageFolderFromBitmaps(items, { channels: 1 })).train.load();
  const resized = await (await imageFolderFromBitmaps(items, { imageSize: [2, 3] })).train.load();
  const shut = await bitmapOf(9);
  shut.close();
  const closed = await rejection(imageFolderFromBitmaps([...items, { className: 'cat', bitmap: shut, name: 'cat/closed one' }]));
  const badItem = await rejection(imageFolderFromBitmaps([items[0], { className: '', bitmap: items[1].bitmap }]));
  return {
    classNames: colour.classNames,
    inputShape: colour.inputShape,
    x: { shape: x.shape, values: Array.from(x.values) },
    labels: Array.from(y.values),
    grey: { shape: grey.x.shape, values: Array.from(grey.x.values) },
    resizedShape: resized.x.shape,
    closed,
    badItem,
  };
}

main().then(
  (result) => {
    (globalThis as { __result?: unknown }).__result = result;
  },
  (e: unknown) => {
    (globalThis as { __result?: unknown }).__result = { fatal: (e as Error)?.stack ?? String(e) };
  },
);
