import { BackpropError } from '@backprop/tensor';
import { decode as decodePngBytes } from 'fast-png';
import { decode as decodeJpegBytes } from 'jpeg-js';
import { type ImageLayout, writeImageSample } from './convert.js';
import { idatPieces, pngChunkProblem, writePngSample, zlibChecksumProblem } from './png.js';

/**
 * A file of an image data set that cannot be used (unreadable, not a PNG or JPEG, corrupt,
 * too large, of another channel count than the rest), or a folder that cannot be one (one
 * class, an empty class, no images). A `BackpropError` whose `where` is the file or folder,
 * so the message reads `cats/003.png: not a valid PNG image (…)`.
 */
export class ImageDatasetError extends BackpropError {
  override readonly name = 'ImageDatasetError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(file, detail);
  }
}

/**
 * The largest image decoded, in pixels (width × height): 25 megapixels, e.g. 5000×5000 or a
 * 24-megapixel photo. A decoded pixel takes up to 16 bytes on the way (the decoder's RGBA
 * bytes, then three float32 channels), so one image stays under ~400 MB; a header can claim
 * far more than the compressed size suggests, so the limit is checked on the header, before
 * anything is decoded.
 */
export const MAX_IMAGE_PIXELS = 25_000_000;

export type ImageFormat = 'png' | 'jpeg';

/** What an image's header says, read without decoding. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** 1 for grey (with or without alpha), 3 for colour (RGB, RGBA, palette, YCbCr, CMYK). */
  channels: 1 | 3;
}

/**
 * A decoded image: values in [0, 1], interleaved (height, width, channels) row-major, alpha
 * dropped (as Keras' `image_dataset_from_directory` and torchvision's `.convert('RGB')` do).
 */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Float32Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format by the file's first bytes (not its name): PNG's signature, JPEG's SOI marker. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * Reads the header of a PNG (the IHDR chunk) or a JPEG (the first SOFn frame) and checks it:
 * width and height ≥ 1, width × height ≤ `maxPixels`. `bytes` may be only the start of the
 * file; a JPEG whose frame header lies beyond it reports `undefined` (read more and retry).
 */
export function readImageHeader(bytes: Uint8Array, file: string, maxPixels = MAX_IMAGE_PIXELS): ImageHeader | undefined {
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw new ImageDatasetError(file, `not a PNG or JPEG image (${bytes.length === 0 ? 'the file is empty' : `it starts with bytes ${hex(bytes.subarray(0, 8))}`})`);
  }
  const header = format === 'png' ? pngHeader(bytes, file) : jpegHeader(bytes, file);
  if (header === undefined) return undefined;
  checkPixels(header, file, maxPixels);
  return header;
}

function checkPixels(header: ImageHeader, file: string, maxPixels: number): void {
  const { width, height, format } = header;
  const kind = format === 'png' ? 'PNG' : 'JPEG';
  if (width < 1 || height < 1) throw new ImageDatasetError(file, `the ${kind} header gives a ${width}×${height} image; width and height must be at least 1`);
  if (width * height > maxPixels) {
    throw new ImageDatasetError(
      file,
      `the image is ${width}×${height} = ${(width * height).toLocaleString('en-US')} pixels, more than the limit of ${maxPixels.toLocaleString('en-US')}; scale it down`,
    );
  }
}

function pngHeader(bytes: Uint8Array, file: string): ImageHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = bytes.length >= 16 ? String.fromCharCode(...bytes.subarray(12, 16)) : '';
  if (bytes.length < 8 + 8 + 13 || type !== 'IHDR' || view.getUint32(8) !== 13) {
    throw new ImageDatasetError(
      file,
      `not a valid PNG image (${bytes.length < 29 ? 'truncated before the end of its IHDR header' : `the first chunk is '${type}', expected a 13-byte IHDR header`})`,
    );
  }
  const colorType = bytes[25];
  // 0 grey, 4 grey + alpha; 2 RGB, 3 palette, 6 RGBA. Anything else is refused by the decoder.
  return { format: 'png', width: view.getUint32(16), height: view.getUint32(20), channels: colorType === 0 || colorType === 4 ? 1 : 3 };
}

/** Scans the JPEG markers up to the first frame header (SOF0…SOF15 except DHT, JPG, DAC). */
function jpegHeader(bytes: Uint8Array, file: string): ImageHeader | undefined {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new ImageDatasetError(file, `not a valid JPEG image (no marker at byte ${at})`);
    const marker = bytes[at + 1];
    // Fill bytes (0xFF) and markers without a length (RSTn, TEM) carry no segment.
    if (marker === 0xff) {
      at++;
      continue;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) throw new ImageDatasetError(file, 'not a valid JPEG image (no frame header before the image data)');
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) throw new ImageDatasetError(file, `not a valid JPEG image (a segment of length ${length} at byte ${at})`);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 10 > bytes.length) return undefined;
      const height = (bytes[at + 5] << 8) | bytes[at + 6];
      const width = (bytes[at + 7] << 8) | bytes[at + 8];
      const components = bytes[at + 9];
      if (components !== 1 && components !== 3 && components !== 4) {
        throw new ImageDatasetError(file, `not a supported JPEG image (${components} colour components; expected 1, 3 or 4)`);
      }
      return { format: 'jpeg', width, height, channels: components === 1 ? 1 : 3 };
    }
    at += 2 + length;
  }
  return undefined;
}

/**
 * Decodes a whole PNG or JPEG file. Every failure is an `ImageDatasetError` naming `file`:
 * the decoders' own exceptions (whatever they throw on damaged bytes) are wrapped, the
 * header is checked against `maxPixels` before the decoder allocates anything, and a PNG
 * must match its checksums (every chunk's CRC-32, the zlib stream's Adler-32).
 */
export function decodeImage(bytes: Uint8Array, file: string, maxPixels = MAX_IMAGE_PIXELS): DecodedImage {
  const header = readImageHeader(bytes, file, maxPixels);
  if (header === undefined) throw new ImageDatasetError(file, 'not a valid JPEG image (truncated before its frame header)');
  const kind = header.format === 'png' ? 'PNG' : 'JPEG';
  let image: DecodedImage;
  try {
    image = header.format === 'png' ? fromPng(bytes, file) : fromJpeg(bytes, header, maxPixels);
  } catch (error) {
    if (error instanceof ImageDatasetError) throw error;
    const reason = error instanceof RangeError && /memory|allocation|Array buffer/i.test(error.message) ? 'not enough memory to decode the image' : `not a valid ${kind} image`;
    throw new ImageDatasetError(file, `${reason} (${oneLine(error)})`);
  }
  if (image.width !== header.width || image.height !== header.height) {
    throw new ImageDatasetError(file, `not a valid ${kind} image (the header says ${header.width}×${header.height}, the data decodes to ${image.width}×${image.height})`);
  }
  return image;
}

/**
 * Decodes a whole PNG or JPEG file as one (channels, height, width) sample of `out` at
 * `offset`: what `decodeImage` then `writeImageSample` give, with the same errors, but a
 * plain 8-bit PNG already of the layout's size and channels goes straight into `out`
 * (see `writePngSample`) — the path of a training pass over a folder.
 */
export function decodeImageInto(bytes: Uint8Array, file: string, maxPixels: number, layout: ImageLayout, out: Float32Array, offset: number): void {
  const header = readImageHeader(bytes, file, maxPixels);
  if (header?.format === 'png' && writePngSample(bytes, layout, out, offset)) return;
  writeImageSample(decodeImage(bytes, file, maxPixels), layout, out, offset);
}

function fromPng(bytes: Uint8Array, file: string): DecodedImage {
  // fast-png checks no CRC by default and fflate no Adler-32: a damaged byte that still
  // inflates would give wrong pixels. Every chunk's CRC is checked first (naming the chunk),
  // then fast-png decodes (checking the CRCs too), then the zlib stream's Adler-32.
  const chunkProblem = pngChunkProblem(bytes);
  if (chunkProblem !== undefined) throw new ImageDatasetError(file, `not a valid PNG image (${chunkProblem})`);
  const png = decodePngBytes(bytes, { checkCrc: true });
  const zlibProblem = zlibChecksumProblem(idatPieces(bytes));
  if (zlibProblem !== undefined) throw new ImageDatasetError(file, `not a valid PNG image (${zlibProblem})`);
  const { width, height, depth, palette } = png;
  const source = png.channels;
  if (![1, 2, 3, 4].includes(source)) throw new Error(`${source} channels`);
  const pixels = width * height;
  // Samples of 1, 2 or 4 bits stay packed, each row starting on a byte.
  const rowSamples = width * source;
  const stride = depth < 8 ? Math.ceil((rowSamples * depth) / 8) : rowSamples;
  if (png.data.length < stride * height) throw new Error(`${png.data.length} samples for a ${width}×${height} image`);
  const sample = sampler(png.data, depth);
  if (palette) {
    const data = new Float32Array(pixels * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const entry = palette[sample(y * stride, x)];
        if (entry === undefined) throw new Error(`palette index ${sample(y * stride, x)} at (${x}, ${y}) is outside the palette of ${palette.length}`);
        const o = 3 * (y * width + x);
        data[o] = entry[0] / 255;
        data[o + 1] = entry[1] / 255;
        data[o + 2] = entry[2] / 255;
      }
    }
    return { width, height, channels: 3, data };
  }
  const channels = source <= 2 ? 1 : 3;
  const max = 2 ** depth - 1;
  const data = new Float32Array(pixels * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // The first `channels` samples of the pixel; alpha (the 2nd of grey + alpha, the 4th of RGBA) is dropped.
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = sample(y * stride, x * source + c) / max;
    }
  }
  return { width, height, channels, data };
}

/** Sample `i` of the row starting at `rowStart`, for any PNG bit depth. */
function sampler(data: ArrayLike<number>, depth: number): (rowStart: number, i: number) => number {
  if (depth >= 8) return (rowStart, i) => data[rowStart + i];
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  return (rowStart, i) => (data[rowStart + Math.floor(i / perByte)] >> (8 - depth * ((i % perByte) + 1))) & mask;
}

function fromJpeg(bytes: Uint8Array, header: ImageHeader, maxPixels: number): DecodedImage {
  const jpeg = decodeJpegBytes(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: maxPixels / 1e6,
    // The decoder's working memory: its component planes and the RGB output (~8 bytes a pixel), with room to spare.
    maxMemoryUsageInMB: Math.max(64, Math.ceil((header.width * header.height * 16) / 2 ** 20)),
  });
  const { width, height } = jpeg;
  const pixels = width * height;
  if (jpeg.data.length < pixels * 3) throw new Error(`${jpeg.data.length} bytes for a ${width}×${height} image`);
  const channels = header.channels;
  const data = new Float32Array(pixels * channels);
  // A grey JPEG decodes to R = G = B: its grey is R, exactly.
  for (let i = 0; i < pixels; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = jpeg.data[3 * i + c] / 255;
  return { width, height, channels, data };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim().slice(0, 200) || (error as Error)?.name || 'unknown error';
}
