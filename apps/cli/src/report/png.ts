import { PNG } from 'pngjs';

/**
 * Encodes a grey image (values in [lo, hi], row-major) as a PNG, upscaled `scale`
 * times by pixel replication. Values are mapped linearly from [lo, hi] to 0–255.
 */
export function greyPng(values: ArrayLike<number>, width: number, height: number, options: { scale?: number; lo?: number; hi?: number } = {}): Buffer {
  const scale = options.scale ?? 1;
  const lo = options.lo ?? 0;
  const hi = options.hi ?? 1;
  const range = hi - lo || 1;
  const png = new PNG({ width: width * scale, height: height * scale, colorType: 0 });
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      const v = values[Math.floor(y / scale) * width + Math.floor(x / scale)];
      const byte = Math.round(Math.min(1, Math.max(0, (v - lo) / range)) * 255);
      const i = 4 * (y * width * scale + x);
      png.data[i] = png.data[i + 1] = png.data[i + 2] = byte;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png, { colorType: 0 });
}

/**
 * An image of `channels` planes ((channels, height, width), values in [0, 1]) as a PNG:
 * grey for one channel, RGB for three, upscaled `scale` times by pixel replication.
 */
export function imagePng(values: ArrayLike<number>, channels: number, width: number, height: number, scale = 1): Buffer {
  if (channels === 1) return greyPng(values, width, height, { scale });
  const png = new PNG({ width: width * scale, height: height * scale, colorType: 2 });
  const plane = width * height;
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      const src = Math.floor(y / scale) * width + Math.floor(x / scale);
      const i = 4 * (y * width * scale + x);
      for (let c = 0; c < 3; c++) png.data[i + c] = Math.round(Math.min(1, Math.max(0, values[c * plane + src])) * 255);
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png, { colorType: 2 });
}

/** A grey image normalised to its own min/max (kernels, feature maps). */
export function normalisedPng(values: ArrayLike<number>, width: number, height: number, scale: number): Buffer {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < width * height; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (!(hi > lo)) hi = lo + 1;
  return greyPng(values, width, height, { scale, lo, hi });
}

export function dataUri(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}
