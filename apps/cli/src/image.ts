import { readFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import { CliError, oneLine } from './errors.js';

/** A grey image, values in [0, 1], row-major. */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * The largest image predict decodes, in pixels (width × height): 25 megapixels, e.g.
 * 5000×5000 or a 24-megapixel photo. Decoding takes about 24 bytes per pixel (the RGBA
 * buffer, then grey, alpha and ink planes in float32), so the limit keeps one image
 * under ~600 MB; a PNG's header can claim far more than its compressed size suggests.
 */
export const MAX_IMAGE_PIXELS = 25_000_000;

export interface PngHeader {
  width: number;
  height: number;
}

/**
 * Checks the signature and the IHDR chunk of a PNG (the first chunk, which gives the
 * size) before anything is decoded: width and height ≥ 1, width × height ≤ maxPixels.
 */
export function checkPngHeader(bytes: Uint8Array, file: string, maxPixels = MAX_IMAGE_PIXELS): PngHeader {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || signature.some((b, i) => bytes[i] !== b)) {
    throw new CliError(`${file}: not a PNG image (missing the PNG signature)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = bytes.length >= 16 ? String.fromCharCode(...bytes.subarray(12, 16)) : '';
  if (bytes.length < 8 + 8 + 13 || type !== 'IHDR' || view.getUint32(8) !== 13) {
    throw new CliError(`${file}: not a valid PNG image (${bytes.length < 29 ? 'truncated before the end of its IHDR header' : `the first chunk is '${type}', expected a 13-byte IHDR header`})`);
  }
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width < 1 || height < 1) {
    throw new CliError(`${file}: the PNG header gives a ${width}×${height} image; width and height must be at least 1`);
  }
  if (width * height > maxPixels) {
    throw new CliError(
      `${file}: the image is ${width}×${height} = ${(width * height).toLocaleString('en-US')} pixels, more than predict's limit of ${maxPixels.toLocaleString('en-US')}; scale it down (a digit needs no more than a few hundred pixels a side)`,
    );
  }
  return { width, height };
}

/** Reads a PNG file; anything else is a one-line CliError naming the file. */
export async function readPng(file: string): Promise<PNG> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CliError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  checkPngHeader(bytes, file);
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
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
 * Luma (ITU-R BT.601) of an RGBA image. Transparent pixels are composited over the
 * shade that contrasts with the opaque ones: a dark digit on a transparent background
 * reads as dark on white, a light digit as light on black.
 */
export function toGrey(png: { width: number; height: number; data: Uint8Array }): GreyImage {
  const { width, height, data } = png;
  const out = new Float32Array(width * height);
  const alpha = new Float32Array(width * height);
  let opaqueLuma = 0;
  let opaque = 0;
  for (let i = 0; i < out.length; i++) {
    alpha[i] = data[4 * i + 3] / 255;
    out[i] = (0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2]) / 255;
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

/** PNG file → a 28×28 MNIST-like input in [0, 1]; every failure is a CliError naming the file. */
export async function loadDigit(file: string): Promise<Float32Array> {
  const png = await readPng(file);
  try {
    return toMnist(toGrey(png), file);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const reason = error instanceof RangeError ? 'not enough memory to convert the image' : 'cannot convert the image';
    throw new CliError(`${file}: ${reason} (${oneLine(error)})`);
  }
}
