/** Reads public/data/mnist-subset.bin, written at build time by scripts/prepare.mjs. */
export interface DigitSet {
  /** Pixels in [0, 1], (count, 1, rows, cols). */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface MnistSubset {
  train: DigitSet;
  test: DigitSet;
  rows: number;
  cols: number;
}

export function parseSubset(buffer: ArrayBuffer): MnistSubset {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== 'BPMN' || view.getUint32(4, true) !== 1) throw new Error('mnist-subset.bin: not a version-1 BPMN file');
  const trainCount = view.getUint32(8, true), testCount = view.getUint32(12, true);
  const rows = view.getUint32(16, true), cols = view.getUint32(20, true);
  const pixels = rows * cols;
  let offset = 24;
  const read = (count: number): DigitSet => {
    const images = new Float32Array(count * pixels);
    for (let i = 0; i < images.length; i++) images[i] = bytes[offset + i] / 255;
    offset += count * pixels;
    const labels = bytes.slice(offset, offset + count);
    offset += count;
    return { images, labels, count };
  };
  const train = read(trainCount);
  const test = read(testCount);
  if (offset !== bytes.length) throw new Error(`mnist-subset.bin: ${bytes.length - offset} unexpected trailing bytes`);
  return { train, test, rows, cols };
}

/**
 * Turns a drawing into an MNIST-like 28×28 input: crop to the ink's bounding box,
 * scale it to fit 20×20 keeping the aspect ratio, then centre the centre of mass.
 */
export function canvasToDigit(canvas: HTMLCanvasElement): Float32Array | null {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const { width, height } = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  let minX = width, minY = height, maxX = -1, maxY = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4] > 20) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX < 0) return null;
  const bw = maxX - minX + 1, bh = maxY - minY + 1;
  const scale = 20 / Math.max(bw, bh);
  const small = document.createElement('canvas');
  small.width = 28;
  small.height = 28;
  const sctx = small.getContext('2d', { willReadFrequently: true })!;
  sctx.fillStyle = '#000';
  sctx.fillRect(0, 0, 28, 28);
  sctx.imageSmoothingEnabled = true;
  sctx.imageSmoothingQuality = 'high';
  const dw = bw * scale, dh = bh * scale;
  sctx.drawImage(canvas, minX, minY, bw, bh, (28 - dw) / 2, (28 - dh) / 2, dw, dh);
  const px = sctx.getImageData(0, 0, 28, 28).data;
  const grey = new Float32Array(784);
  let mass = 0, cx = 0, cy = 0;
  for (let i = 0; i < 784; i++) {
    const v = px[i * 4] / 255;
    grey[i] = v;
    mass += v;
    cx += v * (i % 28);
    cy += v * Math.floor(i / 28);
  }
  const sx = Math.round(13.5 - cx / mass), sy = Math.round(13.5 - cy / mass);
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const fx = x - sx, fy = y - sy;
      if (fx >= 0 && fx < 28 && fy >= 0 && fy < 28) out[y * 28 + x] = grey[fy * 28 + fx];
    }
  }
  return out;
}

/** Draws a (h, w) map onto a canvas: grey for ≥ 0 data, blue/red for signed weights. */
export function drawMap(canvas: HTMLCanvasElement, values: ArrayLike<number>, h: number, w: number, signed = false): void {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < h * w; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  const span = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  for (let i = 0; i < h * w; i++) {
    const v = values[i];
    let r: number, g: number, b: number;
    if (signed) {
      const t = Math.min(1, Math.abs(v) / span);
      [r, g, b] = v >= 0 ? [255, 255 * (1 - t), 255 * (1 - t)] : [255 * (1 - t), 255 * (1 - t), 255];
    } else {
      const t = hi > lo ? (v - Math.min(lo, 0)) / (hi - Math.min(lo, 0)) : 0;
      r = g = b = 255 * t;
    }
    img.data[i * 4] = r;
    img.data[i * 4 + 1] = g;
    img.data[i * 4 + 2] = b;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
