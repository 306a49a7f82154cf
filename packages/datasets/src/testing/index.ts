/**
 * `@backprop/datasets/testing`: synthetic images for tests of image data sets (this package's
 * and the CLI's), so a test needs no image files of its own and no network.
 */

/**
 * A `size`×`size` grey shape, 8-bit: a filled square (class 'square') or a ring (class 'ring'),
 * its centre, radius and the brightness of shape and background all jittered by `k`, so a
 * folder of them is a small two-class problem a CNN can learn and no two images need be equal.
 */
export function shape(kind: 'square' | 'ring', size: number, k: number): Uint8Array {
  const out = new Uint8Array(size * size);
  const c = size / 2 + ((k % 3) - 1);
  const r = size / 4 + (k % 2);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - c, y + 0.5 - c);
      const inside = kind === 'square' ? Math.abs(x + 0.5 - c) < r && Math.abs(y + 0.5 - c) < r : d < r + 1 && d > r - 1;
      out[y * size + x] = inside ? 230 - (k % 5) * 10 : 15 + (k % 4) * 5;
    }
  }
  return out;
}
