import { unzlibSync } from 'fflate';
import type { ImageLayout } from './convert.js';

/**
 * The PNG decoding of a training pass, straight into the batch: a non-interlaced 8-bit
 * grey, grey + alpha, RGB or RGBA PNG already of the layout's size and channel count
 * (MNIST written as PNGs; most data sets prepared for training) is inflated into a reused
 * buffer, unfiltered in place and written as floats at the sample's offset — no decoded
 * image, no per-file buffers. fast-png's streaming inflater starts a 32 KiB window and
 * grows a 64 KiB output for every file, which for small images costs more than the pixels.
 *
 * Anything else (palette, 1/2/4/16-bit, interlaced, another size or channel count) returns
 * false and is decoded by `decodeImage`; so does a file this path cannot read (damaged
 * data, a wrong length), so that its error is the one `decodeImage` gives. The values are
 * the same as `decodeImage` then `writeImageSample` give, bit for bit (the same v / 255).
 */
export function writePngSample(bytes: Uint8Array, layout: ImageLayout, out: Float32Array, offset: number): boolean {
  if (bytes.length < 8 + 25 + 12) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const colourType = bytes[25];
  const samples = colourType === 0 ? 1 : colourType === 4 ? 2 : colourType === 2 ? 3 : colourType === 6 ? 4 : 0;
  // Compression and filter method 0 (the only ones defined), no interlacing.
  if (samples === 0 || depth !== 8 || bytes[26] !== 0 || bytes[27] !== 0 || bytes[28] !== 0) return false;
  const channels = samples <= 2 ? 1 : 3;
  if (width !== layout.width || height !== layout.height || channels !== layout.channels) return false;
  const stride = width * samples;
  const expected = (stride + 1) * height;
  // Large images gain nothing here (their pixels cost more than the per-file work) and would keep a large scratch buffer.
  if (expected > MAX_SCRATCH_BYTES) return false;
  const data = idatData(bytes, view);
  if (data === undefined) return false;
  let rows: Uint8Array;
  try {
    // One byte more than expected: a stream that inflates to more is caught by the length check.
    rows = unzlibSync(data, { out: scratch(expected + 1) });
  } catch {
    return false;
  }
  if (rows.length !== expected || !unfilter(rows, stride, height, samples)) return false;
  const plane = width * height;
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1;
    const at = offset + y * width;
    for (let x = 0; x < width; x++) {
      const pixel = row + x * samples;
      // The first `channels` samples of the pixel; alpha (2nd of grey + alpha, 4th of RGBA) is dropped.
      for (let c = 0; c < channels; c++) out[at + c * plane + x] = rows[pixel + c] / 255;
    }
  }
  return true;
}

/** The zlib stream: the IDAT chunks' data (a view when there is one IDAT), or undefined when the chunks are not well formed up to IEND. */
function idatData(bytes: Uint8Array, view: DataView): Uint8Array | undefined {
  let at = 8;
  let first = -1;
  let firstLength = 0;
  let total = 0;
  let parts = 0;
  for (;;) {
    if (at + 12 > bytes.length) return undefined;
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (end > bytes.length) return undefined;
    const type = view.getUint32(at + 4);
    if (type === IDAT) {
      if (first < 0) {
        first = at + 8;
        firstLength = length;
      }
      total += length;
      parts++;
    } else if (type === IEND) break;
    at = end;
  }
  if (parts === 0) return undefined;
  if (parts === 1) return bytes.subarray(first, first + firstLength);
  const joined = scratchJoin(total);
  let to = 0;
  for (at = 8; ; ) {
    const length = view.getUint32(at);
    const type = view.getUint32(at + 4);
    if (type === IEND) break;
    if (type === IDAT) {
      joined.set(bytes.subarray(at + 8, at + 8 + length), to);
      to += length;
    }
    at += 12 + length;
  }
  return joined;
}

/** Undoes the PNG row filters (None, Sub, Up, Average, Paeth) in place; false on an unknown filter type. */
function unfilter(rows: Uint8Array, stride: number, height: number, bpp: number): boolean {
  const line = stride + 1;
  for (let y = 0; y < height; y++) {
    const start = y * line + 1;
    const prev = start - line;
    const filter = rows[start - 1];
    if (filter === 0) continue;
    if (filter === 1) {
      for (let i = bpp; i < stride; i++) rows[start + i] = (rows[start + i] + rows[start + i - bpp]) & 255;
    } else if (filter === 2) {
      if (y === 0) continue;
      for (let i = 0; i < stride; i++) rows[start + i] = (rows[start + i] + rows[prev + i]) & 255;
    } else if (filter === 3) {
      for (let i = 0; i < stride; i++) {
        const left = i >= bpp ? rows[start + i - bpp] : 0;
        const up = y > 0 ? rows[prev + i] : 0;
        rows[start + i] = (rows[start + i] + ((left + up) >> 1)) & 255;
      }
    } else if (filter === 4) {
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? rows[start + i - bpp] : 0;
        const b = y > 0 ? rows[prev + i] : 0;
        const c = i >= bpp && y > 0 ? rows[prev + i - bpp] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        rows[start + i] = (rows[start + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
    } else return false;
  }
  return true;
}

const MAX_SCRATCH_BYTES = 1 << 22;
const IDAT = 0x49444154;
const IEND = 0x49454e44;

// Reused between files (decoding is synchronous, so one file uses them at a time); they grow to the largest image seen.
let inflated = new Uint8Array(0);
let compressed = new Uint8Array(0);

function scratch(length: number): Uint8Array {
  // fflate writes from 0 and returns the written part, which must be the whole image: no stale byte is read.
  if (inflated.length < length) inflated = new Uint8Array(Math.max(length, 2 * inflated.length));
  return inflated.subarray(0, length);
}

function scratchJoin(length: number): Uint8Array {
  if (compressed.length < length) compressed = new Uint8Array(Math.max(length, 2 * compressed.length));
  return compressed.subarray(0, length);
}
