import { readFile } from 'node:fs/promises';
import { decodeImage, LUMINANCE_WEIGHTS, MAX_IMAGE_PIXELS, readImageHeader, writeImageSample } from '@backprop/datasets';
import { PNG } from 'pngjs';
import { CliError, oneLine } from './errors.js';

/** A grey image, values in [0, 1], row-major. */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** The largest image decoded, in pixels: the one limit of `@backprop/datasets` (25 megapixels), checked on the header. */
export { MAX_IMAGE_PIXELS };

/** Reads a file's bytes; an unreadable one is a one-line CliError naming it. */
async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new CliError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * Reads a PNG or JPEG file as RGBA bytes (alpha kept: the digit preparation composites
 * transparent pixels). The header is checked by `@backprop/datasets` (format, size, the
 * pixel limit) before anything is decoded; every failure is a one-line error naming the file.
 */
export async function readRgba(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const bytes = await readBytes(file);
  const header = readImageHeader(bytes, file);
  if (header?.format !== 'png') {
    // JPEG has no alpha: the shared decoder's RGB, opaque.
    const image = decodeImage(bytes, file);
    const data = new Uint8Array(image.width * image.height * 4);
    for (let i = 0; i < image.width * image.height; i++) {
      for (let c = 0; c < 3; c++) data[4 * i + c] = Math.round(image.data[i * image.channels + (image.channels === 1 ? 0 : c)] * 255);
      data[4 * i + 3] = 255;
    }
    return { width: image.width, height: image.height, data };
  }
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    if (error instanceof RangeError) throw new CliError(`${file}: not enough memory to decode the image (${error.message})`);
    throw new CliError(`${file}: not a valid PNG image (${(error as Error).message})`);
  }
  if (png.width < 1 || png.height < 1 || png.data.length < 4 * png.width * png.height) {
    throw new CliError(`${file}: not a valid PNG image (decoded to ${png.width}×${png.height} with ${png.data.length} bytes of pixels)`);
  }
  return png;
}

/**
 * A PNG or JPEG file as one model input of shape (channels, height, width): decoded,
 * converted and resized (bilinear) exactly as an image folder's images are, for a model
 * trained on an image folder.
 */
export async function loadImageInput(file: string, inputShape: readonly number[]): Promise<Float32Array> {
  const [channels, height, width] = inputShape;
  const out = new Float32Array(channels * height * width);
  writeImageSample(decodeImage(await readBytes(file), file), { channels: channels as 1 | 3, height, width, interpolation: 'bilinear' }, out, 0);
  return out;
}

/**
 * Luma (ITU-R BT.601) of an RGBA image. Transparent pixels are composited over the
 * shade that contrasts with the opaque ones: a dark digit on a transparent background
 * reads as dark on white, a light digit as light on black.
 */
export function toGrey(png: { width: number; height: number; data: Uint8Array }): GreyImage {
  const { width, height, data } = png;
  const out = new Float32Array(width * height);
  const alpha = new Float32Array(width * height);
  // The image folders' grey conversion (@backprop/datasets), so a digit reads as a folder's grey image does.
  const [r, g, b] = LUMINANCE_WEIGHTS;
  let opaqueLuma = 0;
  let opaque = 0;
  for (let i = 0; i < out.length; i++) {
    alpha[i] = data[4 * i + 3] / 255;
    out[i] = (r * data[4 * i] + g * data[4 * i + 1] + b * data[4 * i + 2]) / 255;
    opaqueLuma += out[i] * alpha[i];
    opaque += alpha[i];
  }
  const background = opaque > 0 && opaqueLuma / opaque > 0.5 ? 0 : 1;
  for (let i = 0; i < out.length; i++) out[i] = out[i] * alpha[i] + background * (1 - alpha[i]);
  return { width, height, data: out };
}

function borderMean(img: GreyImage): number {
  const { width: w, height: h, data } = img;
  let sum = 0;
  let n = 0;
  for (let x = 0; x < w; x++) {
    sum += data[x] + data[(h - 1) * w + x];
    n += 2;
  }
  for (let y = 1; y < h - 1; y++) {
    sum += data[y * w] + data[y * w + w - 1];
    n += 2;
  }
  return sum / n;
}

/**
 * MNIST-style preprocessing: white ink on black (inverted when the border is light),
 * background removed, cropped to the ink's bounding box, the longer side scaled to
 * 20 px by area averaging, then placed in 28×28 with its centre of mass at the centre.
 */
export function toMnist(img: GreyImage, file = 'image'): Float32Array {
  const { width: w, height: h } = img;
  const invert = borderMean(img) > 0.5;
  const ink = new Float32Array(w * h);
  for (let i = 0; i < ink.length; i++) ink[i] = invert ? 1 - img.data[i] : img.data[i];
  // Background level: the border's mean after inversion; stretch [bg, max] to [0, 1].
  const bg = borderMean({ width: w, height: h, data: ink });
  let max = 0;
  for (const v of ink) max = Math.max(max, v);
  if (max - bg < 0.05) throw new CliError(`${file}: no digit found (the image is blank or has no contrast)`);
  for (let i = 0; i < ink.length; i++) ink[i] = Math.min(1, Math.max(0, (ink[i] - bg) / (max - bg)));
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[y * w + x] > 0.1) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  const cw = x1 - x0 + 1;
  const ch = y1 - y0 + 1;
  const scale = 20 / Math.max(cw, ch);
  const tw = Math.max(1, Math.round(cw * scale));
  const th = Math.max(1, Math.round(ch * scale));
  const small = resizeArea(ink, w, x0, y0, cw, ch, tw, th);
  // Centre of mass of the scaled digit.
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  const ox = clamp(Math.round(14 - mx / mass), 0, 28 - tw);
  const oy = clamp(Math.round(14 - my / mass), 0, 28 - th);
  const out = new Float32Array(28 * 28);
  for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) out[(oy + y) * 28 + ox + x] = small[y * tw + x];
  return out;
}

/** Area-averaging resize of the crop (x0, y0, cw, ch) of a `stride`-wide image to tw×th. */
function resizeArea(src: Float32Array, stride: number, x0: number, y0: number, cw: number, ch: number, tw: number, th: number): Float32Array {
  const out = new Float32Array(tw * th);
  const sx = cw / tw;
  const sy = ch / th;
  for (let ty = 0; ty < th; ty++) {
    const fy0 = ty * sy;
    const fy1 = fy0 + sy;
    for (let tx = 0; tx < tw; tx++) {
      const fx0 = tx * sx;
      const fx1 = fx0 + sx;
      let sum = 0;
      for (let y = Math.floor(fy0); y < Math.min(ch, Math.ceil(fy1)); y++) {
        const wy = Math.min(fy1, y + 1) - Math.max(fy0, y);
        if (wy <= 0) continue;
        for (let x = Math.floor(fx0); x < Math.min(cw, Math.ceil(fx1)); x++) {
          const wx = Math.min(fx1, x + 1) - Math.max(fx0, x);
          if (wx > 0) sum += wx * wy * src[(y0 + y) * stride + x0 + x];
        }
      }
      out[ty * tw + tx] = sum / (sx * sy);
    }
  }
  return out;
}

/** PNG or JPEG file → a 28×28 MNIST-like input in [0, 1]; every failure is a CliError naming the file. */
export async function loadDigit(file: string): Promise<Float32Array> {
  const png = await readRgba(file);
  try {
    return toMnist(toGrey(png), file);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const reason = error instanceof RangeError ? 'not enough memory to convert the image' : 'cannot convert the image';
    throw new CliError(`${file}: ${reason} (${oneLine(error)})`);
  }
}
