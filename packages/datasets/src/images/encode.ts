import { BackpropError, createRandom } from '@backprop/tensor';
import { encode as encodePng } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { LUMINANCE_WEIGHTS } from './convert.js';

/**
 * (Node: the JPEG encoder needs `Buffer`.) One image as a PNG (8-bit grey or RGB, lossless) or a JPEG (baseline, `quality` 1–100;
 * always stored as YCbCr colour by the encoder). `pixels` are bytes (channels, height,
 * width), planar, as a data set's samples are laid out.
 */
export function encodeImage(pixels: Uint8Array, channels: 1 | 3, height: number, width: number, format: 'png' | 'jpeg', quality = 95): Uint8Array {
  const size = channels * height * width;
  if (pixels.length !== size) throw new BackpropError('encodeImage', `got ${pixels.length} bytes for a ${channels}×${height}×${width} image (${size} expected)`);
  const plane = height * width;
  if (format === 'png') {
    const data = new Uint8Array(size);
    for (let i = 0; i < plane; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = pixels[c * plane + i];
    return encodePng({ width, height, data, depth: 8, channels });
  }
  const rgba = new Uint8Array(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgba[4 * i + c] = pixels[(channels === 1 ? 0 : c) * plane + i];
    rgba[4 * i + 3] = 255;
  }
  const encoded = encodeJpeg({ width, height, data: rgba }, quality).data;
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * A documented colour variant of grey images (MNIST digits): image n gets a foreground and a
 * background colour drawn from `seed` (each channel uniform in 0–255, redrawn until their
 * luminances differ by at least 96 of 255, so the digit stays visible), and pixel v (0 = background,
 * 255 = ink) becomes round(background + (foreground − background) · v / 255) in each channel.
 * `grey` is (count, 1, height, width) bytes; the result is (count, 3, height, width).
 */
export function colouriseImages(grey: Uint8Array, count: number, seed: number): Uint8Array {
  if (count < 0 || grey.length % Math.max(count, 1) !== 0) throw new BackpropError('colouriseImages', `${grey.length} bytes do not divide into ${count} images`);
  const plane = count === 0 ? 0 : grey.length / count;
  const out = new Uint8Array(grey.length * 3);
  const rng = createRandom(seed);
  const colour = (): number[] => [rng.int(256), rng.int(256), rng.int(256)];
  const luminance = (c: number[]): number => LUMINANCE_WEIGHTS[0] * c[0] + LUMINANCE_WEIGHTS[1] * c[1] + LUMINANCE_WEIGHTS[2] * c[2];
  for (let n = 0; n < count; n++) {
    let foreground: number[];
    let background: number[];
    do {
      foreground = colour();
      background = colour();
    } while (Math.abs(luminance(foreground) - luminance(background)) < 96);
    for (let c = 0; c < 3; c++) {
      const base = (3 * n + c) * plane;
      const b = background[c];
      const span = foreground[c] - b;
      for (let i = 0; i < plane; i++) out[base + i] = Math.round(b + (span * grey[n * plane + i]) / 255);
    }
  }
  return out;
}
