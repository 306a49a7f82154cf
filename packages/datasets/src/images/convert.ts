import type { DecodedImage } from './decode.js';

/**
 * The weights of R, G and B in a grey value: ITU-R BT.601 luma, the conversion of PIL's
 * `convert('L')` (torchvision) and TensorFlow's `rgb_to_grayscale` (Keras).
 */
export const LUMINANCE_WEIGHTS: readonly [number, number, number] = [0.299, 0.587, 0.114];

/**
 * How an image is resized to `imageSize`, both with half-pixel centres (the source point
 * of output pixel x is (x + 0.5) · in/out − 0.5), as TensorFlow 2's `tf.image.resize`
 * (Keras' default) and PyTorch's `align_corners=False`:
 * - 'bilinear': the weighted mean of the 2×2 nearest source pixels (edges clamped), no antialiasing;
 * - 'nearest': the source pixel floor((x + 0.5) · in/out) (PyTorch's 'nearest-exact').
 * An image already of the size is copied as it is, with either method.
 */
export type Interpolation = 'bilinear' | 'nearest';

/** The input layout a data set produces: (channels, height, width) per sample. */
export interface ImageLayout {
  channels: 1 | 3;
  height: number;
  width: number;
  interpolation: Interpolation;
}

/**
 * Writes `image` as one (channels, height, width) sample of `out` starting at `offset`:
 * grey ↔ colour converted (grey to colour repeats the grey; colour to grey takes
 * `LUMINANCE_WEIGHTS`), then resized with `layout.interpolation`. Values stay in [0, 1].
 */
export function writeImageSample(image: DecodedImage, layout: ImageLayout, out: Float32Array, offset: number): void {
  const source = convertChannels(image, layout.channels);
  const { width: inW, height: inH } = image;
  const { width: outW, height: outH, channels } = layout;
  const plane = outW * outH;
  if (inW === outW && inH === outH) {
    for (let c = 0; c < channels; c++) {
      const base = offset + c * plane;
      for (let i = 0; i < plane; i++) out[base + i] = source[i * channels + c];
    }
    return;
  }
  const scaleY = inH / outH;
  const scaleX = inW / outW;
  if (layout.interpolation === 'nearest') {
    for (let y = 0; y < outH; y++) {
      const sy = Math.min(inH - 1, Math.floor((y + 0.5) * scaleY));
      for (let x = 0; x < outW; x++) {
        const sx = Math.min(inW - 1, Math.floor((x + 0.5) * scaleX));
        const from = (sy * inW + sx) * channels;
        for (let c = 0; c < channels; c++) out[offset + c * plane + y * outW + x] = source[from + c];
      }
    }
    return;
  }
  for (let y = 0; y < outH; y++) {
    const fy = clamp((y + 0.5) * scaleY - 0.5, 0, inH - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, inH - 1);
    const wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = clamp((x + 0.5) * scaleX - 0.5, 0, inW - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, inW - 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const a = source[(y0 * inW + x0) * channels + c];
        const b = source[(y0 * inW + x1) * channels + c];
        const d = source[(y1 * inW + x0) * channels + c];
        const e = source[(y1 * inW + x1) * channels + c];
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        out[offset + c * plane + y * outW + x] = top + (bottom - top) * wy;
      }
    }
  }
}

/** The image's interleaved values with `channels` channels (its own array when it has them already). */
function convertChannels(image: DecodedImage, channels: 1 | 3): Float32Array {
  if (image.channels === channels) return image.data;
  const pixels = image.width * image.height;
  const out = new Float32Array(pixels * channels);
  const src = image.data;
  if (channels === 3) {
    for (let i = 0; i < pixels; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = src[i];
  } else {
    const [r, g, b] = LUMINANCE_WEIGHTS;
    for (let i = 0; i < pixels; i++) out[i] = r * src[3 * i] + g * src[3 * i + 1] + b * src[3 * i + 2];
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
