/**
 * In-page stand-in for @backprop/datasets (test/browser.test.ts aliases it here): the
 * Node side reads real MNIST with loadMnist and serves the first training images as
 * /mnist.bin (uint32 count, then count·784 float32 pixels, then count uint8 labels).
 */
import type { ImageSet, MnistData } from '@backprop/datasets';

export async function loadMnist(options: { trainLimit?: number; testLimit?: number } = {}): Promise<MnistData> {
  const response = await fetch('/mnist.bin');
  if (!response.ok) throw new Error(`GET /mnist.bin: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  const available = new Uint32Array(bytes, 0, 1)[0];
  const count = Math.min(available, options.trainLimit ?? available);
  if (count < (options.trainLimit ?? 0)) throw new Error(`/mnist.bin has ${available} images, ${options.trainLimit} asked for`);
  const images = new Float32Array(bytes, 4, available * 784).slice(0, count * 784);
  const labels = new Uint8Array(bytes, 4 + available * 784 * 4, available).slice(0, count);
  const train: ImageSet = { images, labels, count, rows: 28, cols: 28 };
  const test: ImageSet = { images: images.slice(0, 784), labels: labels.slice(0, 1), count: 1, rows: 28, cols: 28 };
  return { train, test };
}
