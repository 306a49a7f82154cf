import { createRandom } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { filteredPngBytes, pngBytes } from '../../test/image-fixtures.js';
import { writeImageSample } from './convert.js';
import { decodeImage, decodeImageInto, ImageDatasetError } from './decode.js';
import { writePngSample } from './png.js';

const layoutOf = (channels: 1 | 3, height: number, width: number) => ({ channels, height, width, interpolation: 'bilinear' as const });
const SAMPLES = [1, 2, 3, 4] as const;

describe('writePngSample: 8-bit PNGs straight into the batch', () => {
  it('undoes every PNG filter, over one or several IDAT chunks, and drops alpha: each value is the byte / 255, planar at the offset', () => {
    const rng = createRandom(3);
    for (const samples of SAMPLES) {
      for (const filter of [0, 1, 2, 3, 4] as const) {
        for (const chunks of [1, 3]) {
          const [w, h] = [1 + rng.int(12), 1 + rng.int(12)];
          // Half the bytes from a few values, so predictors tie (Paeth's order of preference matters) and sums wrap.
          const raw = Array.from({ length: w * h * samples }, () => (rng.next() < 0.5 ? rng.int(256) : [0, 1, 128, 255][rng.int(4)]));
          const bytes = filteredPngBytes(w, h, samples, raw, filter, chunks);
          const channels = samples <= 2 ? 1 : 3;
          const out = new Float32Array(5 + channels * w * h).fill(-1);
          expect(writePngSample(bytes, layoutOf(channels, h, w), out, 5), `samples ${samples} filter ${filter}`).toBe(true);
          expect(Array.from(out.subarray(0, 5))).toEqual([-1, -1, -1, -1, -1]);
          for (let c = 0; c < channels; c++) {
            for (let p = 0; p < w * h; p++) expect(out[5 + c * w * h + p]).toBe(Math.fround(raw[p * samples + c] / 255));
          }
          // The same values as fast-png's decoding, then writeImageSample.
          const expected = new Float32Array(channels * w * h);
          writeImageSample(decodeImage(bytes, 'f.png'), layoutOf(channels, h, w), expected, 0);
          expect(out.subarray(5)).toEqual(expected);
        }
      }
    }
  });

  it('leaves to decodeImage what it does not read: 16-bit, another size or channel count, damaged data', () => {
    const grey = pngBytes(3, 2, 1, [0, 100, 200, 255, 1, 2]);
    const out = new Float32Array(12);
    expect(writePngSample(pngBytes(2, 1, 1, [0, 65535], 16), layoutOf(1, 1, 2), out, 0)).toBe(false);
    expect(writePngSample(grey, layoutOf(1, 3, 3), out, 0)).toBe(false);
    expect(writePngSample(grey, layoutOf(3, 2, 3), out, 0)).toBe(false);
    expect(writePngSample(grey.subarray(0, grey.length - 20), layoutOf(1, 2, 3), out, 0)).toBe(false);
    const badFilter = filteredPngBytes(2, 2, 1, [1, 2, 3, 4], 5);
    expect(writePngSample(badFilter, layoutOf(1, 2, 2), out, 0)).toBe(false);
    expect(() => decodeImageInto(badFilter, 'f5.png', 100, layoutOf(1, 2, 2), out, 0)).toThrow(/f5\.png: not a valid PNG image/);
  });

  it('decodeImageInto gives decodeImage’s error for a file the fast path leaves, and converts/resizes what it does not take', () => {
    const grey = pngBytes(3, 2, 1, [0, 100, 200, 255, 1, 2]);
    const cut = grey.subarray(0, grey.length - 20);
    expect(() => decodeImageInto(cut, 'cut.png', 100, layoutOf(1, 2, 3), new Float32Array(6), 0)).toThrow(ImageDatasetError);
    expect(() => decodeImageInto(cut, 'cut.png', 100, layoutOf(1, 2, 3), new Float32Array(6), 0)).toThrow(/cut\.png: not a valid PNG image/);
    expect(() => decodeImageInto(grey, 'big.png', 5, layoutOf(1, 2, 3), new Float32Array(6), 0)).toThrow(/big\.png: the image is 3×2 = 6 pixels, more than the limit of 5/);
    const rgb = new Float32Array(18);
    decodeImageInto(grey, 'g.png', 100, layoutOf(3, 2, 3), rgb, 0);
    const expected = new Float32Array(18);
    writeImageSample(decodeImage(grey, 'g.png'), layoutOf(3, 2, 3), expected, 0);
    expect(rgb).toEqual(expected);
    expect(rgb[2]).toBe(Math.fround(200 / 255));
    expect(rgb[6 + 2]).toBe(Math.fround(200 / 255));
  });
});
