/** The test images of the in-page run (entry.ts), shared with the Node side (test/browser.test.ts). */

/** The RGB of pixel (x, y) of image `i` (its class is CLASSES[i]). */
export function pixel(i: number, x: number, y: number): [number, number, number] {
  return [(10 * x + 40 * i) % 256, (20 * y + 7 * i) % 256, (255 - 9 * x - 11 * y) % 256];
}

export const WIDTH = 5;
export const HEIGHT = 4;
/** Items in the order given: image i belongs to CLASSES[i]. */
export const CLASSES = ['dog', 'cat', 'dog', 'cat', 'cat', 'dog'];
