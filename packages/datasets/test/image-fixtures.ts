/**
 * Test images written by encoders other than the loader's decoder (pngjs for PNG, jpeg-js
 * for JPEG), so a decoding mistake cannot cancel out against the same library's encoder.
 * Only the tests import this file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

/** A w×h grey shape: a filled square (class 'square') or a ring (class 'ring'), jittered by `k`. */
export function shape(kind: 'square' | 'ring', size: number, k: number): number[] {
  const out = new Array<number>(size * size).fill(0);
  const c = size / 2 + ((k % 3) - 1);
  const r = size / 4 + (k % 2);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - c, y + 0.5 - c);
      const inside = kind === 'square' ? Math.abs(x + 0.5 - c) < r && Math.abs(y + 0.5 - c) < r : d < r + 1 && d > r - 1;
      out[y * size + x] = inside ? 230 : 20;
    }
  }
  return out;
}

/** Writes files `{ 'a/1.png': bytes }` below `root`. */
export async function writeTree(root: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), bytes);
  }
}

/** Grey → RGBA bytes. */
export function greyToRgba(grey: readonly number[]): number[] {
  return grey.flatMap((v) => [v, v, v, 255]);
}
