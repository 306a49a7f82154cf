// imageFolderFromBitmaps in a real browser: Debian's Chromium (scripts/chromium.ts) driven by
// playwright-core. test/browser/entry.ts is bundled with esbuild and makes ImageBitmaps of
// known pixels (test/browser/pixels.ts); the loader reads them back through an OffscreenCanvas.
// This side checks every value, the labels, the grey conversion, the resize shape and the errors.
// (imageFolderFromFiles in the browser is driven by the docs site's own-images page test.)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleTestPage, recordPageErrors, scriptPage, serveAndLaunch, waitForPageResult } from '../../../scripts/chromium.js';
import { LUMINANCE_WEIGHTS } from '../src/index.js';
import type { BitmapsResult } from './browser/entry.js';
import { CLASSES, HEIGHT, pixel, WIDTH } from './browser/pixels.js';

const here = dirname(fileURLToPath(import.meta.url));
const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

let result: BitmapsResult;
let pageErrors: string[];
beforeAll(async () => {
  const bundle = await bundleTestPage(join(here, 'browser/entry.ts'));
  const site = await serveAndLaunch(chromium, (path) => {
    if (path === '/entry.js') return { type: 'text/javascript; charset=utf-8', body: bundle };
    if (path === '/' || path === '/index.html') return scriptPage('datasets in chromium', '/entry.js');
    return undefined;
  });
  cleanup.push(site.close);
  const page = await site.context.newPage();
  pageErrors = recordPageErrors(page);
  await page.goto(site.base);
  const outcome = await waitForPageResult<BitmapsResult | { fatal: string }>(page, 60_000);
  expect('fatal' in outcome ? outcome.fatal : null, 'the page ran').toBeNull();
  result = outcome as BitmapsResult;
});

/** The items in the loader's order: class, then name (`class/i`), as a folder listing sorts. */
const order = CLASSES.map((className, i) => ({ className, i, name: `${className}/${i}` })).sort(
  (a, b) => (a.className < b.className ? -1 : a.className > b.className ? 1 : a.name < b.name ? -1 : 1),
);

describe('imageFolderFromBitmaps in Chromium', () => {
  it('reads every pixel of every bitmap back exactly, in (N, C, H, W) order, with sorted class names and their labels', () => {
    expect(result.classNames).toEqual(['cat', 'dog']);
    expect(result.inputShape).toEqual([3, HEIGHT, WIDTH]);
    expect(result.x.shape).toEqual([CLASSES.length, 3, HEIGHT, WIDTH]);
    expect(result.labels).toEqual(order.map((o) => ['cat', 'dog'].indexOf(o.className)));
    order.forEach(({ i }, n) => {
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < HEIGHT; y++) {
          for (let x = 0; x < WIDTH; x++) {
            const got = result.x.values[((n * 3 + c) * HEIGHT + y) * WIDTH + x];
            expect(got, `image ${i} channel ${c} (${x}, ${y})`).toBeCloseTo(pixel(i, x, y)[c] / 255, 6);
          }
        }
      }
    });
    expect(pageErrors).toEqual([]);
  });

  it('converts to one channel by BT.601 luminance with channels: 1, and resizes with imageSize', () => {
    expect(result.grey.shape).toEqual([CLASSES.length, 1, HEIGHT, WIDTH]);
    const [wr, wg, wb] = LUMINANCE_WEIGHTS;
    order.forEach(({ i }, n) => {
      for (let y = 0; y < HEIGHT; y++) {
        for (let x = 0; x < WIDTH; x++) {
          const [r, g, b] = pixel(i, x, y);
          expect(result.grey.values[(n * HEIGHT + y) * WIDTH + x], `image ${i} (${x}, ${y})`).toBeCloseTo((wr * r + wg * g + wb * b) / 255, 5);
        }
      }
    });
    expect(result.resizedShape).toEqual([CLASSES.length, 3, 2, 3]);
  });

  it('names a closed bitmap and a bad item in the errors', () => {
    expect(result.closed?.name).toBe('ImageDatasetError');
    expect(result.closed?.message).toMatch(/^cat\/closed one: the bitmap is 0×0; width and height must be at least 1 \(closed\?\)/);
    expect(result.badItem?.name).toBe('BackpropError');
    expect(result.badItem?.message).toMatch(/imageFolderFromBitmaps: item 1 must be \{ className, bitmap, name\? \}/);
  });
});
