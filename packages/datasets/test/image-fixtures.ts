/**
 * Test images written by encoders other than the loader's decoder (pngjs for PNG, jpeg-js
 * for JPEG), so a decoding mistake cannot cancel out against the same library's encoder.
 * Only the tests import this file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { zlibSync } from 'fflate';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

const { PNG } = pngjs;

/** An 8-bit PNG: `channels` 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA), `data` interleaved. */
export function pngBytes(width: number, height: number, channels: 1 | 2 | 3 | 4, data: ArrayLike<number>, bitDepth: 8 | 16 = 8): Uint8Array {
  const colorType = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels] as 0 | 4 | 2 | 6;
  const png = new PNG({ width, height, colorType, inputColorType: colorType, bitDepth, inputHasAlpha: channels === 2 || channels === 4 });
  if (bitDepth === 16) {
    const buffer = Buffer.alloc(width * height * channels * 2);
    for (let i = 0; i < width * height * channels; i++) buffer.writeUInt16BE(data[i], 2 * i);
    png.data = buffer;
  } else {
    png.data = Buffer.from(Array.from(data));
  }
  return new Uint8Array(PNG.sync.write(png, { colorType, inputColorType: colorType, bitDepth, inputHasAlpha: channels === 2 || channels === 4 }));
}

/** A baseline JPEG of RGBA `data` (alpha ignored by the encoder). */
export function jpegBytes(width: number, height: number, rgba: ArrayLike<number>, quality = 95): Uint8Array {
  const encoded = jpeg.encode({ width, height, data: Buffer.from(Array.from(rgba)) }, quality).data;
  return new Uint8Array(encoded);
}

/** Writes files `{ 'a/1.png': bytes }` below `root`. */
export async function writeTree(root: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), bytes);
  }
}

/** Grey → RGBA bytes. */
export function greyToRgba(grey: ArrayLike<number>): number[] {
  return Array.from(grey).flatMap((v) => [v, v, v, 255]);
}

/**
 * An 8-bit PNG whose every row uses PNG filter `filter` (0 None, 1 Sub, 2 Up, 3 Average,
 * 4 Paeth; any other number is written as it is, predicting 0), its zlib stream split over `idatChunks`
 * IDAT chunks, with real CRCs.
 */
export function filteredPngBytes(
  width: number,
  height: number,
  samples: 1 | 2 | 3 | 4,
  data: ArrayLike<number>,
  filter: number,
  idatChunks = 1,
  /** zlib level; 0 stores the rows as they are (a damaged byte of them still inflates). */
  level: 0 | 6 = 6,
): Uint8Array {
  const stride = width * samples;
  const raw = (y: number, i: number) => (y < 0 || i < 0 ? 0 : data[y * stride + i]);
  const rows = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (stride + 1)] = filter;
    for (let i = 0; i < stride; i++) {
      const a = raw(y, i - samples);
      const b = raw(y - 1, i);
      const c = raw(y - 1, i - samples);
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter] ?? 0;
      rows[y * (stride + 1) + 1 + i] = (raw(y, i) - predicted) & 255;
    }
  }
  const stream = zlibSync(rows, { level });
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = [0, 0, 4, 2, 6][samples];
  const parts = [pngChunk('IHDR', ihdr)];
  const step = Math.ceil(stream.length / idatChunks);
  for (let at = 0; at < stream.length; at += step) parts.push(pngChunk('IDAT', stream.subarray(at, at + step)));
  parts.push(pngChunk('IEND', new Uint8Array(0)));
  const out = new Uint8Array(8 + parts.reduce((n, p) => n + p.length, 0));
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let at = 8;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `bytes` (a PNG damaged on purpose) with every chunk's CRC recomputed, up to IEND: only the zlib Adler-32 can tell the damage. */
export function resealPng(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  for (let at = 8; at + 12 <= out.length; ) {
    const length = view.getUint32(at);
    view.setUint32(at + 8 + length, crc32(out.subarray(at + 4, at + 8 + length)));
    if (String.fromCharCode(...out.subarray(at + 4, at + 8)) === 'IEND') break;
    at += 12 + length;
  }
  return out;
}

function pngChunk(type: string, body: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + body.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(body, 8);
  view.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)));
  return chunk;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
