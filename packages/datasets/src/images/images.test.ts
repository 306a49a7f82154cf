import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackpropError, seededOrder } from '@backprop/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greyToRgba, jpegBytes, pngBytes, writeTree } from '../../test/image-fixtures.js';
import { shape } from '../testing/index.js';
import { decodeImage, ImageDatasetError, imageFolderFromFiles, imageSetFromIdx, LUMINANCE_WEIGHTS, MNIST_FILES, readImageHeader, writeImageSample, colouriseImages, defaultMnistDir } from '../index.js';
import { imageFolder, writeImageFolder, writeMnistImageFolder } from '../node.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'backprop-images-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<ImageDatasetError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ImageDatasetError)) throw new Error(`expected an ImageDatasetError, got ${String(error)}`);
    return error;
  }
  throw new Error('expected an ImageDatasetError, the promise resolved');
}

const f = Math.fround;

describe('decodeImage', () => {
  it('decodes an 8-bit grey PNG to exactly byte / 255', () => {
    const image = decodeImage(pngBytes(3, 2, 1, [0, 100, 200, 255, 1, 2]), 'g.png');
    expect(image).toMatchObject({ width: 3, height: 2, channels: 1 });
    expect(Array.from(image.data)).toEqual([0, 100, 200, 255, 1, 2].map((v) => f(v / 255)));
  });

  it('drops alpha from grey + alpha and RGBA, scales 16-bit samples by 65535', () => {
    expect(Array.from(decodeImage(pngBytes(2, 1, 2, [10, 0, 20, 255]), 'ga.png').data)).toEqual([f(10 / 255), f(20 / 255)]);
    const rgba = decodeImage(pngBytes(1, 1, 4, [255, 128, 0, 7]), 'c.png');
    expect(rgba.channels).toBe(3);
    expect(Array.from(rgba.data)).toEqual([1, f(128 / 255), 0]);
    expect(Array.from(decodeImage(pngBytes(2, 1, 1, [0, 65535], 16), 'd.png').data)).toEqual([0, 1]);
  });

  it('decodes a one-component (grey) JPEG from libjpeg as one channel, baseline and progressive, close to the source', async () => {
    // Written by libjpeg through Pillow (test/fixtures/make-grey-jpeg.py): pixel (x, y) = 10x + 8y.
    for (const file of ['grey-baseline.jpg', 'grey-progressive.jpg']) {
      const bytes = new Uint8Array(await readFile(join(import.meta.dirname, '../../test/fixtures', file)));
      expect(readImageHeader(bytes, file)).toMatchObject({ format: 'jpeg', width: 16, height: 12, channels: 1 });
      const g = decodeImage(bytes, file);
      expect([g.width, g.height, g.channels, g.data.length]).toEqual([16, 12, 1, 16 * 12]);
      for (let y = 0; y < 12; y++) {
        for (let x = 0; x < 16; x++) expect(Math.abs(g.data[16 * y + x] * 255 - (10 * x + 8 * y)), `${file} (${x}, ${y})`).toBeLessThanOrEqual(3);
      }
    }
  });

  it('decodes a YCbCr JPEG (all jpeg-js writes, even of grey pixels) as three channels, close to the source', () => {
    const grey = Array.from({ length: 64 }, (_, i) => 4 * i);
    const g = decodeImage(jpegBytes(8, 8, greyToRgba(grey), 100), 'g.jpg');
    expect(g.channels).toBe(3);
    for (let i = 0; i < 64; i++) expect(Math.abs(g.data[3 * i] - grey[i] / 255)).toBeLessThan(0.03);
    const red = decodeImage(jpegBytes(8, 8, Array.from({ length: 64 }, () => [200, 30, 40, 255]).flat(), 100), 'r.jpg');
    expect(red.data[0]).toBeCloseTo(200 / 255, 1);
    expect(red.data[1]).toBeCloseTo(30 / 255, 1);
  });

  it('finds a JPEG frame header beyond the first 4 KiB read for headers (a long APP segment before it)', async () => {
    const jpg = jpegBytes(8, 8, new Array(256).fill(128));
    // An APP1 segment of 9000 bytes after SOI pushes the frame header past the 4 KiB head.
    const app = new Uint8Array(2 + 9000);
    app.set([0xff, 0xe1, (9000 >> 8) & 0xff, 9000 & 0xff]);
    const long = new Uint8Array(jpg.length + app.length);
    long.set(jpg.subarray(0, 2));
    long.set(app, 2);
    long.set(jpg.subarray(2), 2 + app.length);
    expect(readImageHeader(long.subarray(0, 4096), 'x.jpg')).toBeUndefined();
    const dir = join(root, 'longjpeg');
    await writeTree(dir, { 'a/1.jpg': long, 'b/1.jpg': jpg });
    const data = await imageFolder(dir);
    expect(data.inputShape).toEqual([3, 8, 8]);
    expect((await data.train.load()).x.shape).toEqual([2, 3, 8, 8]);
  });

  it('reads the size from the header and refuses more pixels than the limit before decoding', () => {
    const bytes = pngBytes(4, 3, 1, new Array(12).fill(0));
    expect(readImageHeader(bytes, 'a.png')).toEqual({ format: 'png', width: 4, height: 3, channels: 1 });
    expect(() => decodeImage(bytes, 'big.png', 11)).toThrow(/big\.png: the image is 4×3 = 12 pixels, more than the limit of 11/);
  });

  it('names the file for bytes that are not an image, a truncated image and damaged data', () => {
    expect(() => decodeImage(new TextEncoder().encode('hello'), 'notes.png')).toThrow(/notes\.png: not a PNG or JPEG image \(it starts with bytes 68 65 6c 6c 6f\)/);
    expect(() => decodeImage(new Uint8Array(0), 'empty.jpg')).toThrow(/empty\.jpg: not a PNG or JPEG image \(the file is empty\)/);
    const png = pngBytes(4, 4, 1, new Array(16).fill(9));
    expect(() => decodeImage(png.subarray(0, 20), 'cut.png')).toThrow(ImageDatasetError);
    expect(() => decodeImage(png.subarray(0, png.length - 20), 'cut.png')).toThrow(/cut\.png: not a valid PNG image/);
    const jpg = jpegBytes(8, 8, new Array(256).fill(128));
    expect(() => decodeImage(jpg.subarray(0, 40), 'cut.jpg')).toThrow(/cut\.jpg: /);
  });
});

describe('writeImageSample: conversion and resizing', () => {
  const layout = (channels: 1 | 3, height: number, width: number, interpolation: 'bilinear' | 'nearest' = 'bilinear') => ({ channels, height, width, interpolation });

  it('bilinear 2×2 → 4×4 with half-pixel centres: source points −0.25, 0.25, 0.75, 1.25 (edges clamped)', () => {
    const out = new Float32Array(16);
    writeImageSample({ width: 2, height: 2, channels: 1, data: Float32Array.of(0, 1, 2, 3) }, layout(1, 4, 4), out, 0);
    // Row 0 is source row 0 (clamped): 0, 0.25, 0.75, 1; row 1 is 0.25 of the way to row 1 (+0.5).
    expect(Array.from(out.subarray(0, 8))).toEqual([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5]);
    expect(Array.from(out.subarray(12, 16))).toEqual([2, 2.25, 2.75, 3]);
  });

  it('bilinear 4 → 2 averages pairs; nearest 4 → 2 takes pixels 1 and 3', () => {
    const src = { width: 4, height: 1, channels: 1 as const, data: Float32Array.of(0, 1, 2, 3) };
    const out = new Float32Array(2);
    writeImageSample(src, layout(1, 1, 2), out, 0);
    expect(Array.from(out)).toEqual([0.5, 2.5]);
    writeImageSample(src, layout(1, 1, 2, 'nearest'), out, 0);
    expect(Array.from(out)).toEqual([1, 3]);
  });

  it('colour → grey by the luminance weights; grey → colour repeats; output is planar at the offset', () => {
    const out = new Float32Array(1 + 3);
    writeImageSample({ width: 1, height: 1, channels: 3, data: Float32Array.of(1, 0.5, 0) }, layout(1, 1, 1), out, 0);
    expect(out[0]).toBe(f(LUMINANCE_WEIGHTS[0] + 0.5 * LUMINANCE_WEIGHTS[1]));
    writeImageSample({ width: 1, height: 1, channels: 1, data: Float32Array.of(0.25) }, layout(3, 1, 1), out, 1);
    expect(Array.from(out.subarray(1))).toEqual([0.25, 0.25, 0.25]);
    const planar = new Float32Array(6);
    writeImageSample({ width: 2, height: 1, channels: 3, data: Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6) }, layout(3, 1, 2), planar, 0);
    expect(Array.from(planar)).toEqual([0.1, 0.4, 0.2, 0.5, 0.3, 0.6].map(f));
  });
});

describe('imageFolder', () => {
  let shapes: string;
  beforeAll(async () => {
    shapes = join(root, 'shapes');
    const files: Record<string, Uint8Array | string> = { 'README.txt': 'not a class', 'ring/notes.txt': 'ignored' };
    for (let k = 0; k < 6; k++) {
      files[`square/${k}.png`] = pngBytes(8, 8, 1, shape('square', 8, k));
      files[`ring/nested/${k}.jpg`] = jpegBytes(8, 8, greyToRgba(shape('ring', 8, k)), 100);
    }
    await writeTree(shapes, files);
  });

  it('sorts the classes, finds images at any depth, lists what it left out', async () => {
    const data = await imageFolder(shapes, { channels: 1 });
    expect(data.classNames).toEqual(['ring', 'square']);
    expect(data.inputShape).toEqual([1, 8, 8]);
    expect(data.ignored).toEqual(['README.txt', 'ring/notes.txt']);
    expect(data.train.count).toBe(12);
    expect(Array.from(data.train.labels)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(data.train.sources[0].name).toBe('ring/nested/0.jpg');
    const { x, y } = await data.train.load();
    expect(x.shape).toEqual([12, 1, 8, 8]);
    expect(Array.from(y.values)).toEqual(Array.from(data.train.labels));
    // The PNG squares are exact: byte / 255.
    expect(Array.from(x.values.subarray(6 * 64, 7 * 64))).toEqual(Array.from(shape('square', 8, 0), (v) => f(v / 255)));
  });

  it('resizes to imageSize and converts to colour', async () => {
    const data = await imageFolder(shapes, { channels: 3, imageSize: [4, 6], interpolation: 'nearest' });
    expect(data.inputShape).toEqual([3, 4, 6]);
    const { x } = await data.train.load();
    expect(x.shape).toEqual([12, 3, 4, 6]);
    expect(x.values.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('splits each class by the seed: the same split for the same seed, disjoint, stratified', async () => {
    const a = await imageFolder(shapes, { channels: 1, validationSplit: 1 / 3, seed: 5 });
    const b = await imageFolder(shapes, { channels: 1, validationSplit: 1 / 3, seed: 5 });
    const c = await imageFolder(shapes, { channels: 1, validationSplit: 1 / 3, seed: 6 });
    const names = (d: typeof a) => d.validation!.sources.map((s) => s.name);
    expect(names(a)).toEqual(names(b));
    expect(names(a)).not.toEqual(names(c));
    expect(Array.from(a.validation!.labels)).toEqual([0, 0, 1, 1]);
    expect(a.train.count).toBe(8);
    expect(new Set([...names(a), ...a.train.sources.map((s) => s.name)]).size).toBe(12);
  });

  it('refuses a split that would leave a class no training image, naming the class', async () => {
    const px = pngBytes(2, 2, 1, [0, 50, 100, 150]);
    await writeTree(join(root, 'small'), { 'big/1.png': px, 'big/2.png': px, 'big/3.png': px, 'big/4.png': px, 'one/1.png': px, 'two/1.png': px, 'two/2.png': px });
    // round(1 × 0.5) = 1: the one image of 'one' would be held out.
    expect((await rejection(imageFolder(join(root, 'small'), { validationSplit: 0.5 }))).message).toBe(
      `${join(root, 'small')}: validationSplit 0.5 holds out all 1 image of class 'one', leaving it no training image; expected at least one training image per class (add images to the class or use a smaller validationSplit)`,
    );
    // round(2 × 0.75) = 2: both images of 'b' (round(4 × 0.75) = 3 of 'a' leaves it one).
    await writeTree(join(root, 'small2'), { 'a/1.png': px, 'a/2.png': px, 'a/3.png': px, 'a/4.png': px, 'b/1.png': px, 'b/2.png': px });
    expect((await rejection(imageFolder(join(root, 'small2'), { validationSplit: 0.75 }))).message).toMatch(/validationSplit 0\.75 holds out all 2 images of class 'b', leaving it no training image/);
    // At 0.4 each class keeps a training image: big 4 → 2 held, one 1 → 0, two 2 → 1.
    const data = await imageFolder(join(root, 'small'), { validationSplit: 0.4 });
    expect([data.train.count, data.validation!.count]).toEqual([4, 3]);
    expect(new Set(data.train.labels)).toEqual(new Set([0, 1, 2]));
  });

  it('batches decode what load() decodes; shuffled passes differ and repeat with the seed', async () => {
    const { train } = await imageFolder(shapes, { channels: 1 });
    const all = await train.load();
    const batches = train.batches({ batchSize: 5 });
    expect(batches.batchCount).toBe(3);
    const seen: number[] = [];
    for await (const batch of batches) {
      expect(batch.x.shape.slice(1)).toEqual([1, 8, 8]);
      seen.push(...batch.x.values);
    }
    expect(seen).toEqual(Array.from(all.x.values));
    const labelsOf = async (it: AsyncIterable<{ y: { values: Int32Array } }>) => {
      const out: number[] = [];
      for await (const b of it) out.push(...b.y.values);
      return out;
    };
    const shuffled = train.batches({ batchSize: 4, shuffle: true, seed: 3 });
    const pass0 = await labelsOf(shuffled);
    const pass1 = await labelsOf(shuffled);
    expect(pass0.slice().sort()).toEqual(Array.from(train.labels).sort());
    expect(pass0).not.toEqual(pass1);
    const again = train.batches({ batchSize: 4, shuffle: true, seed: 3 });
    expect(await labelsOf(again)).toEqual(pass0);
    // A resumed run starts at its epoch: the same order as that pass of the original.
    expect(await labelsOf(train.batches({ batchSize: 4, shuffle: true, seed: 3, firstPass: 1 }))).toEqual(pass1);
    // Pass p visits the images in seededOrder(count, seed, p): the order fit gives arrays of the same samples.
    expect(pass0).toEqual(Array.from(seededOrder(train.count, 3, 0), (i) => train.labels[i]));
    expect(pass1).toEqual(Array.from(seededOrder(train.count, 3, 1), (i) => train.labels[i]));
  });

  it('refuses a folder with one class, an empty class, no images, mixed channels or sizes', async () => {
    await writeTree(join(root, 'one'), { 'a/1.png': pngBytes(2, 2, 1, [0, 0, 0, 0]) });
    expect((await rejection(imageFolder(join(root, 'one')))).message).toMatch(/one: has one class \('a'\); a classifier needs at least two/);
    await writeTree(join(root, 'emptyclass'), { 'a/1.png': pngBytes(2, 2, 1, [0, 0, 0, 0]), 'b/x.txt': 'no images' });
    expect((await rejection(imageFolder(join(root, 'emptyclass')))).message).toMatch(/class 'b' has no images/);
    await writeTree(join(root, 'none'), { 'a/x.txt': 'x', 'b/y.txt': 'y' });
    expect((await rejection(imageFolder(join(root, 'none')))).message).toMatch(/none: has no images/);
    await writeTree(join(root, 'mixed'), { 'a/1.png': pngBytes(2, 2, 1, [0, 0, 0, 0]), 'b/1.png': pngBytes(2, 2, 3, new Array(12).fill(9)) });
    expect((await rejection(imageFolder(join(root, 'mixed')))).message).toMatch(/b\/1\.png: is colour but a\/1\.png is grey; .*choose channels 1 \(grey\) or 3/);
    expect((await imageFolder(join(root, 'mixed'), { channels: 3 })).inputShape).toEqual([3, 2, 2]);
    await writeTree(join(root, 'sizes'), { 'a/1.png': pngBytes(2, 2, 1, [0, 0, 0, 0]), 'b/1.png': pngBytes(3, 2, 1, new Array(6).fill(9)) });
    expect((await rejection(imageFolder(join(root, 'sizes')))).message).toMatch(/images differ in size \(a\/1\.png is 2×2, b\/1\.png is 3×2\); choose an imageSize/);
    expect((await rejection(imageFolder(join(root, 'missing')))).message).toMatch(/missing: cannot be read as a folder \(ENOENT\)/);
  });

  it("names a bad file, or skips and counts it with onInvalid: 'skip'", async () => {
    const good = pngBytes(2, 2, 1, [0, 50, 100, 150]);
    const damaged = good.slice(0, good.length - 16);
    await writeTree(join(root, 'bad'), { 'a/1.png': good, 'a/2.png': 'text, not an image', 'b/1.png': good, 'b/2.png': damaged });
    expect((await rejection(imageFolder(join(root, 'bad')))).message).toMatch(/a\/2\.png: not a PNG or JPEG image/);
    const data = await imageFolder(join(root, 'bad'), { onInvalid: 'skip' });
    // The header of b/2.png is intact: it is found when its pixels are decoded.
    expect(data.skipped).toEqual([{ file: 'a/2.png', reason: expect.stringMatching(/^not a PNG or JPEG image/) }]);
    expect(data.train.count).toBe(3);
    const { x, y } = await data.train.load();
    expect(x.shape).toEqual([2, 1, 2, 2]);
    expect(Array.from(y.values)).toEqual([0, 1]);
    expect(data.skipped.map((s) => s.file)).toEqual(['a/2.png', 'b/2.png']);
    const strict = await imageFolder(join(root, 'bad'), { channels: 1, onInvalid: 'error', imageSize: 2 }).catch((e) => e);
    expect(strict).toBeInstanceOf(ImageDatasetError);
  });

  it("with onInvalid: 'skip', a file that fails to decode is listed once and left out of later passes, not decoded again", async () => {
    const good = pngBytes(2, 2, 1, [0, 50, 100, 150]);
    const damaged = good.slice();
    damaged[damaged.length - 20] ^= 1; // in the IDAT data: the header reads, the pixels do not
    const reads = new Map<string, number>();
    const file = (path: string, bytes: Uint8Array) => ({
      name: path.split('/').pop()!,
      webkitRelativePath: path,
      arrayBuffer: async () => {
        reads.set(path, (reads.get(path) ?? 0) + 1);
        return bytes.slice().buffer;
      },
      slice: (start?: number, end?: number) => ({ arrayBuffer: async () => bytes.slice(start, end).buffer }),
    });
    const data = await imageFolderFromFiles([file('p/a/1.png', good), file('p/a/2.png', good), file('p/b/1.png', good), file('p/b/2.png', damaged), file('p/b/3.png', good)], {
      onInvalid: 'skip',
    });
    expect(data.skipped).toEqual([]);
    const batches = data.train.batches({ batchSize: 2, shuffle: true, seed: 4 });
    expect([batches.sampleCount, batches.batchCount]).toEqual([5, 3]);
    const seen: number[] = [];
    for (let pass = 0; pass < 4; pass++) {
      let n = 0;
      const labels: number[] = [];
      for await (const batch of batches) {
        n += batch.y.shape[0];
        labels.push(...batch.y.values);
      }
      seen.push(n);
      expect(labels.sort()).toEqual([0, 0, 1, 1]);
      expect(data.skipped).toEqual([{ file: 'p/b/2.png', reason: expect.stringMatching(/^not a valid PNG image \(IDAT chunk CRC mismatch/) }]);
      expect([batches.sampleCount, batches.batchCount]).toEqual([4, 2]);
    }
    expect(seen).toEqual([4, 4, 4, 4]);
    expect((await data.train.load()).y.shape).toEqual([4]);
    expect(data.train.usableCount).toBe(4);
    expect(data.train.count).toBe(5);
    // Decoded once (the first pass); every good file once a pass and once for load().
    expect(reads.get('p/b/2.png')).toBe(1);
    expect(reads.get('p/a/1.png')).toBe(5);
  });

  it('refuses bad options with a BackpropError', async () => {
    await expect(imageFolder(shapes, { channels: 2 as 1 })).rejects.toThrow(/imageFolder: channels must be 1 or 3, got 2/);
    await expect(imageFolder(shapes, { validationSplit: 1 })).rejects.toThrow(BackpropError);
    await expect(imageFolder(shapes, { colour: true } as never)).rejects.toThrow(/unknown option 'colour'/);
  });
});

describe('imageFolderFromFiles (browser Files)', () => {
  const file = (path: string, bytes: Uint8Array) => Object.assign(new File([bytes as BlobPart], path.split('/').pop()!), { webkitRelativePath: path });

  it('reads classes from webkitRelativePath, or from { className, file }, like imageFolder', async () => {
    const files = [
      file('pick/b/1.png', pngBytes(2, 2, 1, [0, 255, 255, 0])),
      file('pick/a/1.png', pngBytes(2, 2, 1, [255, 0, 0, 255])),
      file('pick/readme.md', new Uint8Array(3)),
    ];
    const data = await imageFolderFromFiles(files);
    expect(data.classNames).toEqual(['a', 'b']);
    expect(data.ignored).toEqual(['pick/readme.md']);
    const { x, y } = await data.train.load();
    expect(Array.from(x.values)).toEqual([1, 0, 0, 1, 0, 1, 1, 0]);
    expect(Array.from(y.values)).toEqual([0, 1]);
    const labelled = await imageFolderFromFiles([
      { className: 'cat', file: new File([pngBytes(1, 1, 1, [3]) as BlobPart], 'x.png') },
      { className: 'dog', file: new File([new TextEncoder().encode("nope") as BlobPart], 'y.png') },
    ]).catch((e) => e);
    expect(labelled).toBeInstanceOf(ImageDatasetError);
    expect(labelled.message).toMatch(/^dog\/y\.png: not a PNG or JPEG image/);
  });

  it('needs webkitRelativePath or explicit classes', async () => {
    await expect(imageFolderFromFiles([new File([new Uint8Array(1)], 'x.png')])).rejects.toThrow(/x\.png has no webkitRelativePath/);
  });

  it('a class folder holding only non-image files is a class with no images, as in imageFolder (not a vanished class that shifts the labels)', async () => {
    const px = pngBytes(2, 2, 1, [0, 50, 100, 150]);
    const like = (path: string, bytes: Uint8Array) => ({
      name: path.split('/').pop()!,
      webkitRelativePath: path,
      arrayBuffer: async () => bytes.slice().buffer,
      slice: (start?: number, end?: number) => ({ arrayBuffer: async () => bytes.slice(start, end).buffer }),
    });
    const picked = [like('pick/a/1.png', px), like('pick/b/notes.txt', new Uint8Array(4)), like('pick/c/1.png', px), like('pick/top.png', px)];
    const error = await rejection(imageFolderFromFiles(picked));
    expect(error.message).toBe("pick: class 'b' has no images; remove the folder or add images");
    // The same folder on disk gives the same error.
    await writeTree(join(root, 'pick'), { 'a/1.png': px, 'b/notes.txt': 'x', 'c/1.png': px, 'top.png': px });
    expect((await rejection(imageFolder(join(root, 'pick')))).message).toBe(`${join(root, 'pick')}: class 'b' has no images; remove the folder or add images`);
    // Labelled files: a class given only non-image files is refused the same way.
    const labelled = [
      { className: 'a', file: like('1.png', px) },
      { className: 'b', file: like('notes.txt', new Uint8Array(4)) },
      { className: 'c', file: like('1.png', px) },
    ];
    expect((await rejection(imageFolderFromFiles(labelled))).message).toMatch(/class 'b' has no images/);
    // Without the class of non-images, the labels are those of imageFolder: a → 0, c → 1.
    const ok = await imageFolderFromFiles([picked[0], picked[2], picked[3]]);
    expect(ok.classNames).toEqual(['a', 'c']);
    expect(ok.ignored).toEqual(['pick/top.png']);
  });

  it('the browser entry imports no node: module', async () => {
    for (const name of ['decode', 'convert', 'encode', 'folder', 'browser']) {
      expect(await readFile(new URL(`./${name}.ts`, import.meta.url), 'utf8')).not.toMatch(/from 'node:/);
    }
  });
});

describe('writeMnistImageFolder', () => {
  it('writes MNIST as grey PNGs whose decoded pixels are the IDX bytes / 255 exactly', async () => {
    const dir = join(root, 'mnist');
    const { count } = await writeMnistImageFolder(dir, { limit: 200 });
    expect(count).toBe(200);
    const data = await imageFolder(dir);
    expect(data.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(data.inputShape).toEqual([1, 28, 28]);
    const mnistDir = await defaultMnistDir();
    const idx = imageSetFromIdx(await readFile(join(mnistDir, MNIST_FILES.trainImages)), await readFile(join(mnistDir, MNIST_FILES.trainLabels)), {}, { limit: 200 });
    const { x, y } = await data.train.load();
    let compared = 0;
    data.train.sources.forEach((source, k) => {
      const n = Number(source.name.split('/')[1].replace('.png', ''));
      expect(y.values[k]).toBe(idx.labels[n]);
      expect(x.values.subarray(k * 784, (k + 1) * 784)).toEqual(idx.images.subarray(n * 784, (n + 1) * 784));
      compared++;
    });
    expect(compared).toBe(200);
  });

  it('writes the seeded colour variant: RGB, the same for the same seed', async () => {
    await writeMnistImageFolder(join(root, 'colour-a'), { limit: 20, colour: true, seed: 1 });
    await writeMnistImageFolder(join(root, 'colour-b'), { limit: 20, colour: true, seed: 1 });
    const a = await imageFolder(join(root, 'colour-a'));
    const b = await imageFolder(join(root, 'colour-b'));
    expect(a.inputShape).toEqual([3, 28, 28]);
    expect((await a.train.load()).x.values).toEqual((await b.train.load()).x.values);
    const grey = Uint8Array.of(0, 255);
    const colour = colouriseImages(grey, 1, 1);
    // Pixel 0 is the background colour, pixel 1 the foreground, in each channel plane.
    expect(colour.length).toBe(6);
    expect(colour[0]).not.toBe(colour[1]);
  });
});

describe('writeImageFolder and writeMnistImageFolder check their input before writing', () => {
  const two = { pixels: new Uint8Array(8), shape: [2, 1, 2, 2] as [number, number, number, number], labels: [0, 1], classNames: ['a', 'b'] };
  const message = async (promise: Promise<unknown>): Promise<string> => {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(BackpropError);
      return (error as Error).message;
    }
    throw new Error('expected a BackpropError, the promise resolved');
  };

  it('refuses class names that are not one folder each: outside dir, nested, empty, duplicate', async () => {
    const dir = join(root, 'write', 'inner');
    const cases: [unknown[], string][] = [
      [['../x', 'b'], `writeImageFolder: classNames[0] is '../x': a class name is a folder name, without '/', '\\' or NUL and not '.' or '..'`],
      [['a', 'c/d'], "writeImageFolder: classNames[1] is 'c/d': a class name is a folder name"],
      [['a', 'c\\d'], 'writeImageFolder: classNames[1] is'],
      [['a', 'c\0'], 'writeImageFolder: classNames[1] is'],
      [['..', 'b'], "writeImageFolder: classNames[0] is '..'"],
      [['.', 'b'], "writeImageFolder: classNames[0] is '.'"],
      [['', 'b'], "writeImageFolder: classNames[0] must be a non-empty string, got ''"],
      [['a', 7], 'writeImageFolder: classNames[1] must be a non-empty string, got 7'],
      [['a', 'a'], "writeImageFolder: classNames[1] repeats classNames[0] ('a'): each class needs its own folder"],
    ];
    for (const [classNames, expected] of cases) {
      expect(await message(writeImageFolder(dir, { ...two, classNames: classNames as string[] }))).toContain(expected);
    }
    expect(await message(writeImageFolder(dir, { ...two, classNames: 'ab' as never }))).toBe("writeImageFolder: classNames must be a non-empty array of folder names, got 'ab'");
    // Nothing was written, inside dir or beside it.
    expect(await readdir(root)).not.toContain('write');
  });

  it('refuses a bad format, quality, shape, pixels or label', async () => {
    const dir = join(root, 'write-bad');
    const cases: [Record<string, unknown>, string | RegExp][] = [
      [{ format: 'gif' }, "writeImageFolder: format must be 'png' or 'jpeg', got 'gif'"],
      [{ quality: 0 }, 'writeImageFolder: quality must be a positive integer ≤ 100, got 0'],
      [{ quality: 101 }, 'writeImageFolder: quality must be a positive integer ≤ 100, got 101'],
      [{ quality: 50.5 }, 'writeImageFolder: quality must be a positive integer ≤ 100, got 50.5'],
      [{ shape: [0, 1, 2, 2], pixels: new Uint8Array(0), labels: [] }, 'writeImageFolder: shape[0] (count) must be a positive integer, got 0'],
      [{ shape: [2, 2, 2, 2] }, 'writeImageFolder: shape[1] (channels) must be 1 or 3, got 2'],
      [{ shape: [2, 1, 0, 4] }, 'writeImageFolder: shape[2] (height) must be a positive integer ≤ 65535, got 0'],
      [{ shape: [2, 1, 2, 0] }, 'writeImageFolder: shape[3] (width) must be a positive integer ≤ 65535, got 0'],
      [{ shape: [2, 1, 4] }, 'writeImageFolder: shape must be [count, channels, height, width], got [2, 1, 4]'],
      [{ pixels: new Uint8Array(7) }, 'writeImageFolder: pixels has 7 bytes, shape [2, 1, 2, 2] needs 8'],
      [{ pixels: [0, 0, 0, 0, 0, 0, 0, 0] }, /^writeImageFolder: pixels must be a Uint8Array of bytes, got /],
      [{ labels: [0] }, 'writeImageFolder: 1 labels for 2 images'],
      [{ labels: [0, 2] }, 'writeImageFolder: label 2 of image 1 is not a class index 0..1 (2 classNames)'],
      [{ labels: [0.5, 1] }, 'writeImageFolder: label 0.5 of image 0 is not a class index 0..1 (2 classNames)'],
      [{ colour: true }, "writeImageFolder: unknown option 'colour'; valid options: pixels, shape, labels, classNames, format, quality"],
    ];
    for (const [change, expected] of cases) {
      const got = await message(writeImageFolder(dir, { ...two, ...change } as never));
      if (typeof expected === 'string') expect(got).toBe(expected);
      else expect(got).toMatch(expected);
    }
    expect(await message(writeImageFolder('', two))).toBe("writeImageFolder: dir must be a non-empty string, got ''");
    expect(await message(writeImageFolder(dir, undefined as never))).toBe('writeImageFolder: options must be an object, got undefined');
    expect(await readdir(root)).not.toContain('write-bad');
    // A folder that cannot be created is named with the cause.
    await writeTree(root, { 'a-file': 'not a folder' });
    expect(await message(writeImageFolder(join(root, 'a-file'), two))).toMatch(/a-file\/a: cannot be created as a folder \((ENOTDIR|EEXIST): /);
    // Good input still writes, and JPEG quality is used.
    expect(await writeImageFolder(join(root, 'write-ok'), { ...two, format: 'jpeg', quality: 40 })).toBe(2);
    expect((await imageFolder(join(root, 'write-ok'))).classNames).toEqual(['a', 'b']);
  });

  it('writeMnistImageFolder refuses a bad limit or colour, and names a missing MNIST file', async () => {
    const dir = join(root, 'mnist-bad');
    expect(await message(writeMnistImageFolder(dir, { limit: -1 }))).toBe('writeMnistImageFolder: limit must be a positive integer or Infinity, got -1');
    expect(await message(writeMnistImageFolder(dir, { limit: 0 }))).toBe('writeMnistImageFolder: limit must be a positive integer or Infinity, got 0');
    expect(await message(writeMnistImageFolder(dir, { limit: 2.5 }))).toBe('writeMnistImageFolder: limit must be a positive integer or Infinity, got 2.5');
    expect(await message(writeMnistImageFolder(dir, { colour: 'yes' as never }))).toBe("writeMnistImageFolder: colour must be true or false, got 'yes'");
    expect(await message(writeMnistImageFolder(dir, { mnistDir: 3 as never }))).toBe('writeMnistImageFolder: mnistDir must be a non-empty string, got 3');
    const missing = join(root, 'no-mnist');
    expect(await message(writeMnistImageFolder(dir, { mnistDir: missing, limit: 5 }))).toMatch(
      new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/train-(images-idx3|labels-idx1)-ubyte: cannot be read as an MNIST IDX file \\(ENOENT: no such file or directory\\)$`),
    );
    expect(await readdir(root)).not.toContain('mnist-bad');
  });
});
