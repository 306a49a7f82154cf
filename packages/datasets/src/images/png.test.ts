import { createRandom } from '@backprop/tensor';
import { describe, expect, it } from 'vitest';
import { zlibSync } from 'fflate';
import { filteredPngBytes, pngBytes, resealPng } from '../../test/image-fixtures.js';
import { writeImageSample } from './convert.js';
import { decodeImage, decodeImageInto, ImageDatasetError } from './decode.js';
import { adler32, writePngSample, zlibChecksumProblem } from './png.js';

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

/** Where each chunk of a PNG lies: [type, offset of its length field, data length]. */
function chunksOf(bytes: Uint8Array): [string, number, number][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: [string, number, number][] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    out.push([type, at, length]);
    at += 12 + length;
    if (type === 'IEND') break;
  }
  return out;
}

/** decodeImage's error for `bytes`, after checking that decodeImageInto (the fast path's caller) gives the same one. */
function refusal(bytes: Uint8Array, file: string, layout: ReturnType<typeof layoutOf>): string {
  let message = '';
  try {
    decodeImage(bytes, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ImageDatasetError);
    message = (error as Error).message;
  }
  expect(message, 'decodeImage accepted a damaged file').not.toBe('');
  expect(() => decodeImageInto(bytes, file, 1e6, layout, new Float32Array(layout.channels * layout.height * layout.width), 0)).toThrow(message);
  return message;
}

describe('PNG checksums: a damaged byte is refused, never read as wrong pixels', () => {
  const [w, h] = [7, 5];
  const raw = Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + 11) & 255);
  const layout = layoutOf(3, h, w);

  it('every single-byte flip inside the IDAT data, or inside any chunk CRC, is an ImageDatasetError naming the file and the chunk', () => {
    for (const idatChunks of [1, 3]) {
      const good = filteredPngBytes(w, h, 3, raw, 4, idatChunks);
      for (const [type, at, length] of chunksOf(good)) {
        const positions = type === 'IDAT' ? Array.from({ length: length + 4 }, (_, k) => at + 8 + k) : [at + 8 + length, at + 11 + length];
        for (const position of positions) {
          for (const bit of [0, 7]) {
            const bad = good.slice();
            bad[position] ^= 1 << bit;
            expect(refusal(bad, 'cats/1.png', layout)).toMatch(new RegExp(`^cats/1\\.png: not a valid PNG image \\(${type} chunk CRC mismatch at byte ${at} \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\): the file is corrupt\\)$`));
          }
        }
      }
      // The undamaged file decodes, on both paths, to the same values.
      const out = new Float32Array(3 * w * h);
      decodeImageInto(good, 'ok.png', 1e6, layout, out, 0);
      expect(out[0]).toBe(Math.fround(raw[0] / 255));
    }
  });

  it('damage that keeps the CRCs right (the chunks resealed) is caught by the zlib Adler-32, on the fast path and in decodeImage', () => {
    // Stored (level 0) deflate blocks: a flipped pixel byte still inflates, to a wrong pixel.
    const stored = filteredPngBytes(w, h, 3, raw, 0, 1, 0);
    const [, at, length] = chunksOf(stored).find(([type]) => type === 'IDAT')!;
    // The zlib header (2), the stored block's header (5) and the first row's filter byte come first.
    const pixel = at + 8 + 2 + 5 + 1 + 4;
    const bad = stored.slice();
    bad[pixel] ^= 0x10;
    const pattern = /^p\.png: not a valid PNG image \(zlib checksum mismatch \(stored Adler-32 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\): corrupt image data\)$/;
    expect(refusal(resealPng(bad), 'p.png', layout)).toMatch(pattern);
    // A fallback-only file (asked at another size, so decodeImage decodes it) is checked as well.
    expect(() => decodeImageInto(resealPng(bad), 'p.png', 1e6, layoutOf(3, 2, 2), new Float32Array(12), 0)).toThrow(pattern);
    // The stored checksum itself damaged.
    for (let k = 1; k <= 4; k++) {
      const badSum = stored.slice();
      badSum[at + 8 + length - k] ^= 1;
      expect(refusal(resealPng(badSum), 'p.png', layout)).toMatch(pattern);
    }
    // Resealing changes nothing in a good file.
    expect(resealPng(stored)).toEqual(stored);
    expect(() => decodeImage(stored, 'p.png')).not.toThrow();
  });

  it('adler32 gives zlib\'s values, and zlibChecksumProblem reads the stored one wherever the stream is split', () => {
    expect(adler32(new TextEncoder().encode('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(new Uint8Array(0))).toBe(1);
    // Long runs of 255 check the reduction (every 5552 bytes) against a running count mod 65521.
    const ones = new Uint8Array(100_000).fill(255);
    let a = 1;
    let b = 0;
    for (const byte of ones) {
      a = (a + byte) % 65521;
      b = (b + a) % 65521;
    }
    expect(adler32(ones)).toBe(((b << 16) | a) >>> 0);
    expect(adler32(ones.subarray(60_000), adler32(ones.subarray(0, 60_000)))).toBe(adler32(ones));
    const data = Uint8Array.from({ length: 3000 }, (_, i) => (i * i) & 255);
    const stream = zlibSync(data);
    expect(new DataView(stream.buffer).getUint32(stream.length - 4)).toBe(adler32(data));
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(zlibChecksumProblem([stream.subarray(0, cut), stream.subarray(cut)])).toBeUndefined();
    }
    const bad = stream.slice();
    bad[bad.length - 2] ^= 1;
    expect(zlibChecksumProblem([bad.subarray(0, bad.length - 1), bad.subarray(bad.length - 1)])).toMatch(/^zlib checksum mismatch/);
    expect(zlibChecksumProblem([stream.subarray(0, 5)])).toMatch(/too short/);
  });

  it('refuses a PNG cut before its IEND chunk, and accepts bytes after IEND (not part of the image)', () => {
    const good = filteredPngBytes(w, h, 3, raw, 1);
    expect(refusal(good.subarray(0, good.length - 12), 'cut.png', layout)).toMatch(/cut\.png: not a valid PNG image \(truncated at byte \d+, before the IEND chunk that ends a PNG\)/);
    expect(refusal(good.subarray(0, good.length - 14), 'cut.png', layout)).toMatch(/cut\.png: not a valid PNG image \(truncated in the IDAT chunk at byte \d+ \(\d+ data bytes, \d+ present\)\)/);
    const trailing = new Uint8Array(good.length + 3);
    trailing.set(good);
    trailing.set([1, 2, 3], good.length);
    expect(decodeImage(trailing, 't.png')).toEqual(decodeImage(good, 't.png'));
  });
});
